package kubernetes_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// TestMetricsAPINotServed reads the metrics of a workload that exists
// from a cluster without metrics-server, as NewForConfig's metrics client
// does: the API server does not serve metrics.k8s.io and answers the list
// of pod metrics with 404. That is ErrUnavailable (the metrics API could
// not answer) with the server's error in the chain, never
// provider.ErrNotFound, which the MetricsSource contract keeps for an
// unknown resource: QueryMetric and HPAInput said that the workload did
// not exist.
func TestMetricsAPINotServed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "100m", "64Mi", false)}
	f.deployment("web", 1, cs)
	now := time.Now().Truncate(time.Second)
	f.pod("web-1", map[string]string{"app": "web"}, cs, running(now.Add(-time.Hour)))
	mc, err := metricsclient.NewForConfig(restConfig()) // the API server itself
	require.NoError(t, err)
	d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}}, f.admin, kubernetes.WithMetricsClient(mc))
	require.NoError(t, err)
	id := f.id(kubernetes.ObjectDeployment, "web")

	start := now.Truncate(time.Minute).Add(-5 * time.Minute)
	_, err = d.QueryMetric(f.ctx, provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: start, End: now, Step: time.Minute})
	require.ErrorIs(t, err, kubernetes.ErrUnavailable, "no metrics API: %v", err)
	require.NotErrorIs(t, err, provider.ErrNotFound, "the workload exists")

	in, err := d.HPAInput(f.ctx, id, []hpa.MetricSpec{hpa.DefaultMetric()}, now)
	require.NoError(t, err, "the workload and its pods are readable")
	require.Len(t, in.Metrics, 1)
	require.ErrorIs(t, in.Metrics[0].Err, kubernetes.ErrUnavailable, "no metrics API: %v", in.Metrics[0].Err)
	require.NotErrorIs(t, in.Metrics[0].Err, provider.ErrNotFound)
	_, err = d.Get(f.ctx, id)
	require.NoError(t, err, "the workload exists")
}

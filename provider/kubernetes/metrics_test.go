package kubernetes_test

import (
	"context"
	"math"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// TestQueryMetricFromTheMetricsAPI aggregates PodMetrics per workload as
// the HPA computes a utilization: Σ usage / Σ requests over the pods with
// a sample, leaving out deleted and terminated pods.
func TestQueryMetricFromTheMetricsAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Two containers per pod: requests 300m + 200m CPU, 256Mi + 256Mi.
	cs := []corev1.Container{container("app", "300m", "256Mi", false), container("proxy", "200m", "256Mi", false)}
	f.deployment("web", 4, cs)
	labels := map[string]string{"app": "web"}
	now := time.Now().Truncate(time.Second)
	at := now.Add(-45 * time.Second)
	for _, name := range []string{"web-a", "web-b", "web-c", "web-failed", "web-leaving"} {
		status := running(now.Add(-time.Hour))
		if name == "web-failed" {
			status = phase(corev1.PodFailed)
		}
		f.pod(name, labels, cs, status)
	}
	_, err := f.admin.CoreV1().Pods(f.ns).Patch(f.ctx, "web-leaving", "application/merge-patch+json",
		[]byte(`{"metadata":{"finalizers":["idlescale.io/test"]}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, f.admin.CoreV1().Pods(f.ns).Delete(f.ctx, "web-leaving", metav1.DeleteOptions{}))
	u := func(app, proxy string) map[string]corev1.ResourceList {
		return map[string]corev1.ResourceList{"app": usage(app, "100Mi"), "proxy": usage(proxy, "28Mi")}
	}
	f.podMetrics("web-a", labels, at, u("300m", "100m")) // 0.4 cores
	f.podMetrics("web-b", labels, at, u("150m", "50m"))  // 0.2 cores
	// web-c has no sample yet; web-failed and web-leaving have samples
	// that must not count.
	f.podMetrics("web-failed", labels, at, u("4", "4"))
	f.podMetrics("web-leaving", labels, at, u("4", "4"))
	f.podMetrics("other", map[string]string{"app": "other"}, at, u("4", "4"))

	d := f.driver(kubernetes.Config{})
	start := now.Truncate(time.Minute).Add(-3 * time.Minute)
	q := provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU, Start: start, End: start.Add(5 * time.Minute), Step: time.Minute}
	step, ok := (provider.Series{Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}).Index(at)
	require.True(t, ok)

	for _, tt := range []struct {
		name   string
		metric provider.Metric
		stat   provider.Statistic
		want   float64
	}{
		{"cpu utilization", provider.MetricCPU, "", 0.6 / 1.0},                      // (0.4+0.2) / (0.5+0.5)
		{"memory utilization", provider.MetricMemory, "", 256.0 / 1024},             // 2×128Mi / 2×512Mi
		{"cpu cores", kubernetes.MetricCPUUsage, "", 0.6},                           // Σ usage
		{"memory bytes", kubernetes.MetricMemoryUsage, provider.StatMax, 256 << 20}, // one sample per pod: max = mean
		{"count of samples", provider.MetricCPU, provider.StatCount, 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			qq := q
			qq.Metric, qq.Statistic = tt.metric, tt.stat
			got, err := d.QueryMetric(f.ctx, qq)
			require.NoError(t, err)
			assert.Equal(t, q.ResourceID, got.ResourceID)
			assert.Equal(t, tt.metric, got.Metric)
			require.Len(t, got.Values, 5)
			for i, v := range got.Values {
				if i == step {
					assert.InDelta(t, tt.want, v, 1e-9)
				} else {
					assert.True(t, provider.IsGap(v), "step %d = %v, want a gap: the metrics API knows only the latest sample", i, v)
				}
			}
		})
	}

	// One pod: its own utilization.
	pq := q
	pq.ResourceID = f.id(kubernetes.ObjectPod, "web-b")
	got, err := d.QueryMetric(f.ctx, pq)
	require.NoError(t, err)
	assert.InDelta(t, 0.4, got.Values[step], 1e-9) // 0.2 / 0.5
	pq.ResourceID = f.id(kubernetes.ObjectPod, "web-c")
	got, err = d.QueryMetric(f.ctx, pq)
	require.NoError(t, err)
	assert.Equal(t, len(got.Values), got.Gaps(), "a pod without a sample is all gaps")
}

func TestQueryMetricErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 1, []corev1.Container{container("app", "300m", "", false), container("proxy", "", "", false)})
	labels := map[string]string{"app": "web"}
	now := time.Now().Truncate(time.Second)
	f.pod("web-a", labels, []corev1.Container{container("app", "300m", "", false), container("proxy", "", "", false)}, running(now))
	f.podMetrics("web-a", labels, now.Add(-10*time.Second), map[string]corev1.ResourceList{"app": usage("100m", "10Mi"), "proxy": usage("10m", "1Mi")})
	d := f.driver(kubernetes.Config{})
	q := provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU,
		Start: now.Add(-5 * time.Minute), End: now.Add(time.Minute), Step: time.Minute}

	_, err := d.QueryMetric(f.ctx, q)
	require.ErrorIs(t, err, kubernetes.ErrMissingRequest, "the proxy container has no CPU request")
	require.ErrorIs(t, err, provider.ErrUnsupported)
	assert.Contains(t, err.Error(), `container "proxy"`)
	qq := q
	qq.Metric = kubernetes.MetricCPUUsage
	got, err := d.QueryMetric(f.ctx, qq)
	require.NoError(t, err, "raw usage needs no request")
	_, v, ok := got.Last()
	require.True(t, ok)
	assert.InDelta(t, 0.11, v, 1e-9)

	qq = q
	qq.Metric = provider.MetricNetworkIn
	_, err = d.QueryMetric(f.ctx, qq)
	require.ErrorIs(t, err, provider.ErrUnsupported)
	qq.Metric = "bogus"
	_, err = d.QueryMetric(f.ctx, qq)
	require.ErrorIs(t, err, provider.ErrInvalid)
	qq = q
	qq.ResourceID = f.id(kubernetes.ObjectStatefulSet, "web")
	_, err = d.QueryMetric(f.ctx, qq)
	require.ErrorIs(t, err, provider.ErrNotFound)

	// The metrics API failing is ErrUnavailable, with the server's status
	// in the chain (a metrics server of this test's own: the shared one
	// serves other tests).
	_, err = f.unavailableMetrics().QueryMetric(f.ctx, q)
	require.ErrorIs(t, err, kubernetes.ErrUnavailable)
	var status *apierrors.StatusError
	require.ErrorAs(t, err, &status)
	assert.Equal(t, int32(http.StatusServiceUnavailable), status.ErrStatus.Code)

	noSource, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}}, f.admin)
	require.NoError(t, err)
	qq = q
	qq.Metric = kubernetes.MetricCPUUsage
	_, err = noSource.QueryMetric(f.ctx, qq)
	require.ErrorIs(t, err, kubernetes.ErrNoMetricsSource)
	require.ErrorIs(t, err, provider.ErrUnsupported)
}

// TestQueryMetricFromAUsageSource checks the per-pod path: the source is
// asked once per live pod, on the caller's grid, and its values are
// aggregated step by step.
func TestQueryMetricFromAUsageSource(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "500m", "1Gi", false)}
	f.deployment("web", 3, cs)
	labels := map[string]string{"app": "web"}
	for _, name := range []string{"web-a", "web-b", "web-gone"} {
		f.pod(name, labels, cs, running(time.Now()))
	}
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	var calls atomic.Int32
	src := kubernetes.UsageSourceFunc(func(ctx context.Context, namespace, name string, q provider.Query) (provider.Series, error) {
		calls.Add(1)
		if namespace != f.ns || q.Metric != kubernetes.MetricCPUUsage || q.ResourceID != f.ns+"/pod/"+name {
			return provider.Series{}, provider.Invalid("test", q, "unexpected usage query")
		}
		s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
		for i := range s.Values {
			switch name {
			case "web-a":
				s.Values[i] = 0.1 * float64(i+1) // 0.1, 0.2, 0.3, 0.4
			case "web-b":
				s.Values[i] = 0.5
				if i == 1 {
					s.Values[i] = provider.Gap
				}
			default:
				return provider.Series{}, provider.ErrNotFound // Prometheus never saw it
			}
		}
		return s, nil
	})
	d := f.driver(kubernetes.Config{Concurrency: 2}, kubernetes.WithUsageSource(src))
	q := provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU, Start: start, End: start.Add(4 * time.Hour), Step: time.Hour}
	got, err := d.QueryMetric(f.ctx, q)
	require.NoError(t, err)
	assert.Equal(t, int32(3), calls.Load())
	want := []float64{(0.1 + 0.5) / 1.0, 0.2 / 0.5, (0.3 + 0.5) / 1.0, (0.4 + 0.5) / 1.0}
	require.Len(t, got.Values, 4)
	for i := range want {
		assert.InDelta(t, want[i], got.Values[i], 1e-9, "step %d: only the pods with data count, their requests too", i)
	}

	bad := kubernetes.UsageSourceFunc(func(_ context.Context, _, _ string, q provider.Query) (provider.Series, error) {
		return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: 2 * q.Step, Values: []float64{1, math.NaN()}}, nil
	})
	_, err = f.driver(kubernetes.Config{}, kubernetes.WithUsageSource(bad)).QueryMetric(f.ctx, q)
	require.ErrorContains(t, err, "another grid")
}

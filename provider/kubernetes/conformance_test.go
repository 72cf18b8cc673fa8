package kubernetes_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/provider/providertest"
)

// TestConformance runs the provider conformance suite against the real API
// server: a Deployment "web" with two running pods (the instances), a
// StatefulSet without pods, pod metrics from the metrics server, and
// kubetest.MirrorReplicas as the Deployment controller (Settle). The
// Actuator of the driver is Workloads, tested on its own (actuator_test.go):
// the suite's Actuator contract is about instances, and pods cannot be
// stopped.
func TestConformance(t *testing.T) {
	t.Parallel()
	providertest.Run(t, func(t *testing.T) providertest.Subject {
		f := newFixture(t)
		containers := []corev1.Container{container("app", "250m", "128Mi", true)}
		f.deployment("web", 2, containers, func(d *appsv1.Deployment) {
			d.Annotations = map[string]string{
				kubernetes.AnnotationMinReplicas: "1", kubernetes.AnnotationMaxReplicas: "5",
				kubernetes.AnnotationEnvironment: "staging",
			}
		})
		f.statefulSet("db", 1, []corev1.Container{container("db", "1", "1Gi", false)})
		now := time.Now().Truncate(time.Second)
		for _, tier := range []string{"a", "b"} {
			labels := map[string]string{"app": "web", "tier": tier}
			f.pod("web-"+tier, labels, containers, running(now.Add(-time.Hour)))
			f.podMetrics("web-"+tier, labels, now.Add(-90*time.Second), map[string]corev1.ResourceList{"app": usage("100m", "64Mi")})
		}
		d := f.driver(kubernetes.Config{})
		start := now.Truncate(time.Minute).Add(-5 * time.Minute)
		return providertest.Subject{
			Provider:  d,
			Instances: []string{f.id(kubernetes.ObjectPod, "web-a"), f.id(kubernetes.ObjectPod, "web-b")},
			Tag:       [2]string{"tier", "a"},
			Group:     f.id(kubernetes.ObjectDeployment, "web"),
			ResizeID:  f.id(kubernetes.ObjectPod, "web-a"),
			ValidSize: provider.Size{VCPU: 0.5, MemoryMiB: 256},
			// Valid for provider.Size, but a pod has no instance type.
			InvalidSize: provider.Size{InstanceType: "m5.large"},
			MetricQuery: provider.Query{
				ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU,
				Start: start, End: start.Add(8 * time.Minute), Step: time.Minute,
			},
			// The pods' only samples: the metrics API's, stamped 90 s ago.
			FirstSample: now.Add(-90 * time.Second),
			Settle: func(ctx context.Context) error {
				_, err := kubetest.MirrorReplicas(ctx, f.admin, f.ns)
				return err
			},
		}
	})
}

// TestConformanceSeesPods checks the fixture the suite relies on: List
// returns the workloads and the pods with their kinds.
func TestConformanceSeesPods(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 1, []corev1.Container{container("app", "250m", "128Mi", false)})
	f.pod("web-a", map[string]string{"app": "web"}, []corev1.Container{container("app", "250m", "128Mi", false)}, running(time.Now()))
	got, err := f.driver(kubernetes.Config{}).List(f.ctx, provider.Filter{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	require.Equal(t, f.id(kubernetes.ObjectDeployment, "web"), got[0].ID)
	require.Equal(t, provider.KindGroup, got[0].Kind)
	require.Equal(t, f.id(kubernetes.ObjectPod, "web-a"), got[1].ID)
	require.Equal(t, provider.KindInstance, got[1].Kind)
}

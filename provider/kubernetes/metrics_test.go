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

	"github.com/idlescale/idlescale/internal/kubetest"
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

// TestQueryMetricRefusesBadUsage pins that a usage source's infinite or
// negative values are an error naming the pod and the step, not a
// workload's utilization: they were summed into it (+Inf, or a negative
// utilization that reads as idle).
func TestQueryMetricRefusesBadUsage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "500m", "1Gi", false)}
	f.deployment("web", 2, cs)
	labels := map[string]string{"app": "web"}
	for _, name := range []string{"web-a", "web-b"} {
		f.pod(name, labels, cs, running(time.Now()))
	}
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	q := provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU, Start: start, End: start.Add(4 * time.Hour), Step: time.Hour}
	for _, bad := range []float64{math.Inf(1), math.Inf(-1), -0.5} {
		src := kubernetes.UsageSourceFunc(func(_ context.Context, _, name string, q provider.Query) (provider.Series, error) {
			s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: []float64{0.1, 0.1, 0.1, 0.1}}
			if name == "web-b" {
				s.Values[2] = bad
			}
			return s, nil
		})
		got, err := f.driver(kubernetes.Config{}, kubernetes.WithUsageSource(src)).QueryMetric(f.ctx, q)
		require.ErrorIs(t, err, provider.ErrInvalid, "%v: got %v", bad, got.Values)
		assert.Contains(t, err.Error(), "web-b")
		assert.Contains(t, err.Error(), "values[2]")
	}
}

// TestUtilizationCountsNativeSidecarRequests pins that a pod's requests
// are counted as the HPA (and scaling/hpa's calculator) counts them: the
// regular containers plus the native sidecars (init containers with
// restartPolicy Always), whose usage the metrics API reports with the
// app's, or the pod-level requests when the pod sets them. Requests
// counted only regular containers, so a pod with a sidecar read as up to
// twice as busy; the same requests give Size and HourlyCost.
func TestUtilizationCountsNativeSidecarRequests(t *testing.T) {
	t.Parallel()
	always := corev1.ContainerRestartPolicyAlways
	sidecar := func(cpu, mem string) corev1.Container {
		c := container("proxy", cpu, mem, false)
		c.RestartPolicy = &always
		return c
	}
	app := container("app", "500m", "256Mi", false)
	setup := func(t *testing.T, spec corev1.PodSpec) (*fixture, *kubernetes.Driver, provider.Query, time.Time) {
		f := newFixture(t)
		f.deployment("web", 1, []corev1.Container{app})
		labels := map[string]string{"app": "web"}
		now := time.Now().Truncate(time.Second)
		p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "web-a", Labels: labels}, Spec: spec}
		_, err := f.admin.CoreV1().Pods(f.ns).Create(f.ctx, p, metav1.CreateOptions{})
		require.NoError(t, err)
		require.NoError(t, kubetest.UpdatePodStatus(f.ctx, f.admin, f.ns, "web-a", running(now.Add(-time.Hour))))
		at := now.Add(-10 * time.Second)
		f.podMetrics("web-a", labels, at, map[string]corev1.ResourceList{"app": usage("250m", "128Mi"), "proxy": usage("250m", "128Mi")})
		start := now.Truncate(time.Minute).Add(-2 * time.Minute)
		q := provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU,
			Start: start, End: start.Add(4 * time.Minute), Step: time.Minute}
		return f, f.driver(kubernetes.Config{CPUHourlyPrice: 1, MemoryHourlyPrice: 1}), q, at
	}
	valueAt := func(t *testing.T, s provider.Series, at time.Time) float64 {
		i, ok := s.Index(at)
		require.True(t, ok)
		return s.Values[i]
	}

	t.Run("sidecar with requests", func(t *testing.T) {
		t.Parallel()
		f, d, q, at := setup(t, corev1.PodSpec{InitContainers: []corev1.Container{sidecar("500m", "256Mi")}, Containers: []corev1.Container{app}})
		got, err := d.QueryMetric(f.ctx, q)
		require.NoError(t, err)
		assert.InDelta(t, 0.5, valueAt(t, got, at), 1e-9, "usage 250m+250m over requests 500m+500m")
		q.Metric = provider.MetricMemory
		got, err = d.QueryMetric(f.ctx, q)
		require.NoError(t, err)
		assert.InDelta(t, 0.5, valueAt(t, got, at), 1e-9, "usage 128Mi+128Mi over requests 256Mi+256Mi")

		r, err := d.Get(f.ctx, f.id(kubernetes.ObjectPod, "web-a"))
		require.NoError(t, err)
		assert.Equal(t, provider.Size{VCPU: 1, MemoryMiB: 512}, r.Size, "the sidecar's requests are part of the pod's size")
		assert.InDelta(t, 1.5, r.HourlyCost, 1e-9, "1 core + 0.5 GiB at 1 each")
	})
	t.Run("sidecar without a request", func(t *testing.T) {
		t.Parallel()
		f, d, q, _ := setup(t, corev1.PodSpec{InitContainers: []corev1.Container{sidecar("", "256Mi")}, Containers: []corev1.Container{app}})
		_, err := d.QueryMetric(f.ctx, q)
		require.ErrorIs(t, err, kubernetes.ErrMissingRequest, "as a regular container without a request would")
		assert.Contains(t, err.Error(), `container "proxy"`)
	})
	t.Run("an init container that is not a sidecar", func(t *testing.T) {
		t.Parallel()
		initc := container("proxy", "", "", false) // runs to completion before the app: no request needed
		f, d, q, at := setup(t, corev1.PodSpec{InitContainers: []corev1.Container{initc}, Containers: []corev1.Container{app}})
		got, err := d.QueryMetric(f.ctx, q)
		require.NoError(t, err)
		assert.InDelta(t, 1.0, valueAt(t, got, at), 1e-9, "the metrics sample's proxy usage over the app's request")
	})
	t.Run("pod-level requests", func(t *testing.T) {
		t.Parallel()
		bare := container("app", "", "", false)
		f, d, q, at := setup(t, corev1.PodSpec{InitContainers: []corev1.Container{sidecar("", "")}, Containers: []corev1.Container{bare},
			Resources: &corev1.ResourceRequirements{Requests: usage("2", "1Gi")}})
		got, err := d.QueryMetric(f.ctx, q)
		require.NoError(t, err)
		assert.InDelta(t, 0.25, valueAt(t, got, at), 1e-9, "usage 250m+250m over the pod's 2 cores")
		r, err := d.Get(f.ctx, f.id(kubernetes.ObjectPod, "web-a"))
		require.NoError(t, err)
		assert.Equal(t, provider.Size{VCPU: 2, MemoryMiB: 1024}, r.Size)
	})
}

// TestUtilizationOfZeroRequestsIsAnError pins that a utilization relative
// to requests of 0 (pods that request "0" CPU) is an error naming the
// resource, as the HPA's calculator refuses it (hpa.ErrNoMatchingMetrics):
// it was Σ usage / 0, +Inf for a busy workload and NaN, a gap, for an idle
// one.
func TestUtilizationOfZeroRequestsIsAnError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "0", "64Mi", false)}
	f.deployment("web", 1, cs)
	labels := map[string]string{"app": "web"}
	now := time.Now().Truncate(time.Second)
	f.pod("web-a", labels, cs, running(now.Add(-time.Hour)))
	f.podMetrics("web-a", labels, now.Add(-10*time.Second), map[string]corev1.ResourceList{"app": usage("100m", "10Mi")})
	d := f.driver(kubernetes.Config{})
	q := provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU,
		Start: now.Add(-5 * time.Minute), End: now.Add(time.Minute), Step: time.Minute}
	got, err := d.QueryMetric(f.ctx, q)
	require.ErrorIs(t, err, kubernetes.ErrMissingRequest, "got %v", got.Values)
	require.ErrorIs(t, err, provider.ErrUnsupported)
	assert.Contains(t, err.Error(), "cpu")

	q.Metric = provider.MetricMemory
	got, err = d.QueryMetric(f.ctx, q)
	require.NoError(t, err, "the memory request is not 0")
	_, v, ok := got.Last()
	require.True(t, ok)
	assert.InDelta(t, 10.0/64, v, 1e-9)
}

// TestQueryMetricSkipsAPodWithPartialUsage pins that a pod one of whose
// containers the metrics API reports without the resource has no sample,
// as the HPA's metrics client (getPodMetrics) skips it: its usage was the
// sum over the containers that reported, divided by the requests of all
// of them, so the workload read as less busy than it is (here 0.45 of
// its requests instead of 0.8).
func TestQueryMetricSkipsAPodWithPartialUsage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "500m", "256Mi", false), container("proxy", "500m", "256Mi", false)}
	f.deployment("web", 2, cs)
	labels := map[string]string{"app": "web"}
	now := time.Now().Truncate(time.Second)
	at := now.Add(-10 * time.Second)
	for _, name := range []string{"web-a", "web-b"} {
		f.pod(name, labels, cs, running(now.Add(-time.Hour)))
	}
	f.podMetrics("web-a", labels, at, map[string]corev1.ResourceList{"app": usage("400m", "10Mi"), "proxy": usage("400m", "10Mi")})
	f.podMetrics("web-b", labels, at, map[string]corev1.ResourceList{"app": usage("100m", "10Mi"), "proxy": usage("", "10Mi")})
	d := f.driver(kubernetes.Config{})
	q := provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU,
		Start: now.Add(-5 * time.Minute), End: now.Add(time.Minute), Step: time.Minute}
	got, err := d.QueryMetric(f.ctx, q)
	require.NoError(t, err)
	_, v, ok := got.Last()
	require.True(t, ok)
	assert.InDelta(t, 0.8, v, 1e-9, "web-a alone: 0.8 / 1 core")

	q.ResourceID = f.id(kubernetes.ObjectPod, "web-b")
	got, err = d.QueryMetric(f.ctx, q)
	require.NoError(t, err)
	_, _, ok = got.Last()
	assert.False(t, ok, "web-b has no CPU sample: %v", got.Values)
}

// TestQueryMetricRefusesNegativeUsageFromTheMetricsAPI pins that a
// negative usage from the resource metrics API is an error naming the pod,
// as one from a usage source is: it was summed into the workload's
// utilization, which then read as less busy than it is (here 0.1 instead
// of an error).
func TestQueryMetricRefusesNegativeUsageFromTheMetricsAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "500m", "256Mi", false)}
	f.deployment("web", 2, cs)
	labels := map[string]string{"app": "web"}
	now := time.Now().Truncate(time.Second)
	at := now.Add(-10 * time.Second)
	for _, name := range []string{"web-a", "web-b"} {
		f.pod(name, labels, cs, running(now.Add(-time.Hour)))
	}
	f.podMetrics("web-a", labels, at, map[string]corev1.ResourceList{"app": usage("400m", "10Mi")})
	f.podMetrics("web-b", labels, at, map[string]corev1.ResourceList{"app": usage("-300m", "10Mi")})
	d := f.driver(kubernetes.Config{})
	q := provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU,
		Start: now.Add(-5 * time.Minute), End: now.Add(time.Minute), Step: time.Minute}
	got, err := d.QueryMetric(f.ctx, q)
	require.ErrorIs(t, err, provider.ErrInvalid, "got %v", got.Values)
	assert.Contains(t, err.Error(), "web-b")
	q.Metric = provider.MetricMemory
	_, err = d.QueryMetric(f.ctx, q)
	require.NoError(t, err, "the memory usage is valid")
}

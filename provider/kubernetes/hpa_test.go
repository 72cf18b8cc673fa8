package kubernetes_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	nodev1 "k8s.io/api/node/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"

	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// cpuAt is a pod status: Running since started, with a Ready condition of
// status ready that last changed at changed.
func cpuAt(started, changed time.Time, ready corev1.ConditionStatus) func(*corev1.PodStatus) {
	return func(s *corev1.PodStatus) {
		st, ch := metav1.NewTime(started), metav1.NewTime(changed)
		s.Phase = corev1.PodRunning
		s.StartTime = &st
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: ready, LastTransitionTime: ch}}
	}
}

func cpuUtilization(pct int32) hpa.MetricSpec {
	return hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{
		Name: hpa.ResourceCPU, Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: pct}}}
}

// TestHPAInputShape stages the pods of the upstream replica calculator's
// cases on the real API server (through the status subresource, as a
// kubelet would) and checks every field the calculator reads.
func TestHPAInputShape(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	always := corev1.ContainerRestartPolicyAlways
	sidecar := container("mesh", "100m", "64Mi", false)
	sidecar.RestartPolicy = &always
	initc := container("migrate", "2", "1Gi", false)
	cs := []corev1.Container{container("app", "500m", "256Mi", true), container("log", "50m", "", false)}
	f.deployment("web", 5, cs)
	_, err := kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)
	labels := map[string]string{"app": "web"}
	now := time.Now().Truncate(time.Second) // the API stores whole seconds
	long, recent := now.Add(-20*time.Minute), now.Add(-40*time.Second)

	f.pod("a-ready", labels, cs, cpuAt(long, long, corev1.ConditionTrue))
	// A runtime class with a fixed overhead, which the RuntimeClass
	// admission plugin copies into the pod's spec.overhead.
	rc := &nodev1.RuntimeClass{ObjectMeta: metav1.ObjectMeta{Name: f.ns}, Handler: "runc",
		Overhead: &nodev1.Overhead{PodFixed: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("10m")}}}
	_, err = f.admin.NodeV1().RuntimeClasses().Create(f.ctx, rc, metav1.CreateOptions{})
	require.NoError(t, err)
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "b-sidecar", Labels: labels},
		Spec: corev1.PodSpec{InitContainers: []corev1.Container{initc, sidecar}, Containers: cs, RuntimeClassName: &rc.Name}}
	_, err = f.admin.CoreV1().Pods(f.ns).Create(f.ctx, p, metav1.CreateOptions{})
	require.NoError(t, err)
	require.NoError(t, kubetest.UpdatePodStatus(f.ctx, f.admin, f.ns, "b-sidecar", cpuAt(long, long, corev1.ConditionTrue)))
	f.pod("c-unready", labels, cs, cpuAt(recent, now.Add(-10*time.Second), corev1.ConditionFalse))
	f.pod("d-pending", labels, cs, nil)
	f.pod("e-failed", labels, cs, phase(corev1.PodFailed))
	f.pod("f-deleting", labels, cs, cpuAt(long, long, corev1.ConditionTrue))
	_, err = f.admin.CoreV1().Pods(f.ns).Patch(f.ctx, "f-deleting", "application/merge-patch+json",
		[]byte(`{"metadata":{"finalizers":["idlescale.io/test"]}}`), metav1.PatchOptions{})
	require.NoError(t, err)
	require.NoError(t, f.admin.CoreV1().Pods(f.ns).Delete(f.ctx, "f-deleting", metav1.DeleteOptions{}))
	f.pod("g-unknown", labels, cs, func(s *corev1.PodStatus) {
		st := metav1.NewTime(long)
		s.Phase, s.StartTime = corev1.PodRunning, &st
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionUnknown, LastTransitionTime: metav1.NewTime(recent)}}
	})
	f.pod("other", map[string]string{"app": "other"}, cs, cpuAt(long, long, corev1.ConditionTrue))

	at := now.Add(-15 * time.Second)
	f.podMetrics("a-ready", labels, at, map[string]corev1.ResourceList{"app": usage("400m", "200Mi"), "log": usage("20m", "10Mi")})
	f.podMetrics("b-sidecar", labels, at, map[string]corev1.ResourceList{"app": usage("300m", "100Mi"), "log": usage("", "10Mi")}) // log reports no CPU
	f.podMetrics("c-unready", labels, at, map[string]corev1.ResourceList{"app": usage("50m", "50Mi"), "log": usage("5m", "5Mi")})
	f.podMetrics("other", map[string]string{"app": "other"}, at, map[string]corev1.ResourceList{"app": usage("3", "1Gi")})

	d := f.driver(kubernetes.Config{})
	metrics := []hpa.MetricSpec{
		cpuUtilization(60),
		{Type: hpa.SourceContainerResource, ContainerResource: &hpa.ContainerResourceMetricSource{
			Name: hpa.ResourceCPU, Container: "app", Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}},
		{Type: hpa.SourceExternal, External: &hpa.ExternalMetricSource{
			Metric: hpa.MetricIdentifier{Name: "queue"}, Target: hpa.MetricTarget{Type: hpa.TargetValue, Value: 10}}},
	}
	in, err := d.HPAInput(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), metrics, now)
	require.NoError(t, err)
	require.NoError(t, in.Validate())

	app := hpa.Container{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 500, hpa.ResourceMemory: 256 << 20 * 1000}}
	logc := hpa.Container{Name: "log", Requests: hpa.ResourceList{hpa.ResourceCPU: 50}}
	containers := []hpa.Container{app, logc}
	want := []hpa.Pod{
		{Name: "a-ready", Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, ReadyTransition: long, StartTime: long, Containers: containers},
		{Name: "b-sidecar", Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, ReadyTransition: long, StartTime: long, Containers: containers,
			InitContainers: []hpa.Container{
				{Name: "migrate", Requests: hpa.ResourceList{hpa.ResourceCPU: 2000, hpa.ResourceMemory: 1 << 30 * 1000}},
				{Name: "mesh", Requests: hpa.ResourceList{hpa.ResourceCPU: 100, hpa.ResourceMemory: 64 << 20 * 1000}, RestartAlways: true},
			},
			Overhead: hpa.ResourceList{hpa.ResourceCPU: 10}},
		{Name: "c-unready", Phase: hpa.PhaseRunning, Ready: hpa.ConditionFalse, ReadyTransition: now.Add(-10 * time.Second), StartTime: recent, Containers: containers},
		{Name: "d-pending", Phase: hpa.PhasePending, Containers: containers},
		{Name: "e-failed", Phase: hpa.PhaseFailed, Containers: containers},
		{Name: "f-deleting", Phase: hpa.PhaseRunning, Deleting: true, Ready: hpa.ConditionTrue, ReadyTransition: long, StartTime: long, Containers: containers},
		{Name: "g-unknown", Phase: hpa.PhaseRunning, Ready: hpa.ConditionUnknown, ReadyTransition: recent, StartTime: long, Containers: containers},
	}
	assert.Equal(t, int32(5), in.SpecReplicas)
	assert.Equal(t, int32(5), in.StatusReplicas)
	assert.True(t, in.Now.Equal(now))
	require.Len(t, in.Pods, len(want))
	for i := range want {
		got := in.Pods[i]
		// Times come back in the local zone; compare instants.
		for _, tm := range []*time.Time{&got.ReadyTransition, &got.StartTime} {
			if !tm.IsZero() {
				*tm = tm.UTC()
			}
		}
		w := want[i]
		for _, tm := range []*time.Time{&w.ReadyTransition, &w.StartTime} {
			if !tm.IsZero() {
				*tm = tm.UTC()
			}
		}
		assert.Equal(t, w, got, want[i].Name)
	}

	require.Len(t, in.Metrics, 3)
	sample := func(pod string, milli int64) hpa.Sample {
		return hpa.Sample{Pod: pod, Value: milli, Timestamp: at, Window: 30 * time.Second}
	}
	utc := func(ss []hpa.Sample) []hpa.Sample {
		for i := range ss {
			ss[i].Timestamp = ss[i].Timestamp.UTC()
		}
		return ss
	}
	at = at.UTC()
	require.NoError(t, in.Metrics[0].Err)
	assert.Equal(t, []hpa.Sample{sample("a-ready", 420), sample("c-unready", 55)}, utc(in.Metrics[0].Samples),
		"pod sums; b-sidecar has a container without CPU, so no sample; other pods are not selected")
	assert.True(t, in.Metrics[0].Timestamp.Equal(at))
	require.NoError(t, in.Metrics[1].Err)
	assert.Equal(t, []hpa.Sample{sample("a-ready", 400), sample("b-sidecar", 300), sample("c-unready", 50)}, utc(in.Metrics[1].Samples),
		"the app container of every pod that reports it")
	require.ErrorIs(t, in.Metrics[2].Err, provider.ErrUnsupported, "external metrics are not read")

	obs, err := d.ObservePods(f.ctx, provider.Resource{ID: f.id(kubernetes.ObjectDeployment, "web"), Kind: provider.KindGroup}, metrics, now)
	require.NoError(t, err)
	assert.Equal(t, 5, obs.StatusReplicas)
	assert.Len(t, obs.Pods, len(want))
	assert.Len(t, obs.Metrics, 3)
}

// TestHPAInputFeedsTheCalculator checks a scale up worked out by hand with
// the upstream rules: two ready pods at 150 % of their requests, an
// unready one and a pending one counted as using nothing (scale up), a
// failed and a deleted one ignored: (1500 + 1500 + 0 + 0) / 4000 = 75 %
// against a 50 % target gives ceil(1.5 × 4) = 6 replicas.
func TestHPAInputFeedsTheCalculator(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "1", "1Gi", false)}
	f.deployment("web", 4, cs)
	_, err := kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)
	labels := map[string]string{"app": "web"}
	now := time.Now().Truncate(time.Second)
	long := now.Add(-20 * time.Minute)
	f.pod("p1", labels, cs, cpuAt(long, long, corev1.ConditionTrue))
	f.pod("p2", labels, cs, cpuAt(long, long, corev1.ConditionTrue))
	f.pod("p3", labels, cs, cpuAt(now.Add(-30*time.Second), now.Add(-10*time.Second), corev1.ConditionFalse))
	f.pod("p4", labels, cs, nil)
	f.pod("p5", labels, cs, phase(corev1.PodFailed))
	at := now.Add(-5 * time.Second)
	for pod, cpu := range map[string]string{"p1": "1500m", "p2": "1500m", "p3": "100m", "p5": "4"} {
		f.podMetrics(pod, labels, at, map[string]corev1.ResourceList{"app": usage(cpu, "100Mi")})
	}
	d := f.driver(kubernetes.Config{})
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{cpuUtilization(50)}})
	require.NoError(t, err)
	in, err := d.HPAInput(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), calc.Spec().Metrics, now)
	require.NoError(t, err)
	dec, err := calc.Decide(in, hpa.History{})
	require.NoError(t, err)
	assert.Equal(t, int32(6), dec.Replicas)
	assert.True(t, dec.Rescale)
}

func TestHPAInputErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "1", "1Gi", false)}
	f.deployment("empty", 2, cs)
	f.deployment("norequest", 1, []corev1.Container{container("app", "", "1Gi", false)})
	labels := map[string]string{"app": "norequest"}
	now := time.Now().Truncate(time.Second)
	long := now.Add(-time.Hour)
	f.pod("nr-1", labels, []corev1.Container{container("app", "", "1Gi", false)}, cpuAt(long, long, corev1.ConditionTrue))
	f.podMetrics("nr-1", labels, now.Add(-5*time.Second), map[string]corev1.ResourceList{"app": usage("500m", "100Mi")})
	d := f.driver(kubernetes.Config{})
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{cpuUtilization(50)}})
	require.NoError(t, err)

	// No pods and no metrics: as upstream, the metrics are read first.
	in, err := d.HPAInput(f.ctx, f.id(kubernetes.ObjectDeployment, "empty"), calc.Spec().Metrics, now)
	require.NoError(t, err, "no pods is the calculator's error, not the driver's")
	_, err = calc.Decide(in, hpa.History{})
	require.ErrorIs(t, err, hpa.ErrNoMetrics)
	// The metrics server still reports a pod that is gone: metrics, but no
	// pods.
	f.podMetrics("ghost", map[string]string{"app": "empty"}, now.Add(-5*time.Second), map[string]corev1.ResourceList{"app": usage("500m", "100Mi")})
	in, err = d.HPAInput(f.ctx, f.id(kubernetes.ObjectDeployment, "empty"), calc.Spec().Metrics, now)
	require.NoError(t, err)
	require.Len(t, in.Metrics[0].Samples, 1)
	_, err = calc.Decide(in, hpa.History{})
	require.ErrorIs(t, err, hpa.ErrNoPods)

	in, err = d.HPAInput(f.ctx, f.id(kubernetes.ObjectDeployment, "norequest"), calc.Spec().Metrics, now)
	require.NoError(t, err)
	_, err = calc.Decide(in, hpa.History{})
	require.ErrorIs(t, err, hpa.ErrMissingRequest)

	_, err = d.HPAInput(f.ctx, f.id(kubernetes.ObjectDeployment, "missing"), calc.Spec().Metrics, now)
	require.ErrorIs(t, err, provider.ErrNotFound)
	_, err = d.HPAInput(f.ctx, f.id(kubernetes.ObjectPod, "nr-1"), calc.Spec().Metrics, now)
	require.ErrorIs(t, err, provider.ErrUnsupported)

	// The metrics API down: the metric is invalid, the decision keeps the
	// replicas (no scale down on a metric that could not be read).
	in, err = f.unavailableMetrics().HPAInput(f.ctx, f.id(kubernetes.ObjectDeployment, "norequest"), calc.Spec().Metrics, now)
	require.NoError(t, err)
	require.ErrorIs(t, in.Metrics[0].Err, kubernetes.ErrUnavailable)
	dec, err := calc.Decide(in, hpa.History{})
	require.ErrorIs(t, err, hpa.ErrInvalidMetrics)
	assert.Equal(t, int32(1), dec.Replicas)
	assert.False(t, dec.Rescale)
}

// twoReadyWebPods is a fixture with a deployment "web" of two pods
// (web-a, web-b: one container "app" requesting 500m of CPU), ready for
// 20 minutes, and returns their labels, now, and a time 5 s before it for
// their metrics.
func twoReadyWebPods(t *testing.T) (f *fixture, labels map[string]string, now, at time.Time) {
	t.Helper()
	f = newFixture(t)
	cs := []corev1.Container{container("app", "500m", "256Mi", false)}
	f.deployment("web", 2, cs)
	_, err := kubetest.MirrorReplicas(f.ctx, f.admin, f.ns)
	require.NoError(t, err)
	labels = map[string]string{"app": "web"}
	now = time.Now().Truncate(time.Second)
	long := now.Add(-20 * time.Minute)
	for _, name := range []string{"web-a", "web-b"} {
		f.pod(name, labels, cs, cpuAt(long, long, corev1.ConditionTrue))
	}
	return f, labels, now, now.Add(-5 * time.Second)
}

// TestHPAInputRefusesNegativeUsage pins that a negative usage from the
// resource metrics API does not reach the calculator as a sample: the
// metric's Err names the pod and the container (provider.ErrInvalid), and
// the decision keeps the replicas. The HPA's metrics client sums it in:
// the pods then use 100m of the 1000m they request (10 %), and the HPA
// scales 2 replicas in to 1 on a broken reading.
func TestHPAInputRefusesNegativeUsage(t *testing.T) {
	t.Parallel()
	f, labels, now, at := twoReadyWebPods(t)
	f.podMetrics("web-a", labels, at, map[string]corev1.ResourceList{"app": usage("400m", "100Mi")})
	f.podMetrics("web-b", labels, at, map[string]corev1.ResourceList{"app": usage("-300m", "100Mi")})
	d := f.driver(kubernetes.Config{})
	calc, err := hpa.NewCalculator(hpa.Config{}, hpa.Spec{MaxReplicas: 10, Metrics: []hpa.MetricSpec{cpuUtilization(50)}})
	require.NoError(t, err)
	in, err := d.HPAInput(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), calc.Spec().Metrics, now)
	require.NoError(t, err, "a bad sample fails the metric, not the read")
	require.ErrorIs(t, in.Metrics[0].Err, provider.ErrInvalid, "samples %+v", in.Metrics[0].Samples)
	require.ErrorContains(t, in.Metrics[0].Err, "web-b")
	require.ErrorContains(t, in.Metrics[0].Err, "containers[app].usage.cpu")
	assert.Empty(t, in.Metrics[0].Samples)
	dec, err := calc.Decide(in, hpa.History{})
	require.ErrorIs(t, err, hpa.ErrInvalidMetrics)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.False(t, dec.Rescale, "no decision on a broken reading")
}

// TestHPAInputNegativeUsageOfASkippedPod: a pod one of whose containers
// does not report the resource has no sample (the HPA's metrics client
// drops it), whatever its other containers report: a negative usage in
// one of them neither fails the metric nor depends on the order of the
// containers. It failed the metric when the negative container came
// first and not when the one without the resource did.
func TestHPAInputNegativeUsageOfASkippedPod(t *testing.T) {
	t.Parallel()
	for name, order := range map[string][]string{"negative first": {"app", "sidecar"}, "missing first": {"sidecar", "app"}} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, labels, now, at := twoReadyWebPods(t)
			f.podMetrics("web-a", labels, at, map[string]corev1.ResourceList{"app": usage("400m", "100Mi")})
			byName := map[string]corev1.ResourceList{
				"app":     usage("-300m", "100Mi"),
				"sidecar": {corev1.ResourceMemory: resource.MustParse("10Mi")}, // no cpu: the pod has no cpu sample
			}
			var containers []metricsv1beta1.ContainerMetrics
			for _, c := range order {
				containers = append(containers, metricsv1beta1.ContainerMetrics{Name: c, Usage: byName[c]})
			}
			metricsServer.Set(metricsv1beta1.PodMetrics{
				ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: "web-b", Labels: labels},
				Timestamp:  metav1.NewTime(at), Window: metav1.Duration{Duration: 30 * time.Second},
				Containers: containers,
			})
			d := f.driver(kubernetes.Config{})
			in, err := d.HPAInput(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), []hpa.MetricSpec{cpuUtilization(50)}, now)
			require.NoError(t, err)
			require.NoError(t, in.Metrics[0].Err)
			require.Len(t, in.Metrics[0].Samples, 1, "web-b has no cpu sample: %+v", in.Metrics[0].Samples)
			assert.Equal(t, "web-a", in.Metrics[0].Samples[0].Pod)
		})
	}
}

// controllers plays the Deployment and StatefulSet controllers for the
// fixture's namespace until the test ends: every 100 ms it mirrors
// spec.replicas into the status, so that a scaling engine's verification
// sees its change settle.
func (f *fixture) controllers() {
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan struct{})
	f.t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			_, _ = kubetest.MirrorReplicas(ctx, f.admin, f.ns)
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
}

// TestHPAScalesADeploymentThroughTheEngine runs the scaling engine's HPA
// strategy on a Deployment: the driver observes the pods (ObservePods),
// the engine decides 4 → 6, gates the step, writes it through the scale
// subresource (SetCapacity) and verifies that the Deployment settled.
func TestHPAScalesADeploymentThroughTheEngine(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "1", "1Gi", false)}
	f.deployment("web", 4, cs)
	f.controllers()
	now := time.Now().Truncate(time.Second)
	f.busyPods(now, cs)
	d := f.driver(kubernetes.Config{})
	engine := gradualEngine(t, d, d)
	minR := 1
	web := f.id(kubernetes.ObjectDeployment, "web")
	as, err := scaling.NewAutoscaler(scaling.Config{Execute: true, Targets: []scaling.TargetConfig{{
		ID: "web", Resource: web, Min: &minR, Max: 10, Strategy: "hpa",
		Strategies: []scaling.StrategySpec{{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpuUtilization(50)}}}},
	}}}, engine, scaling.Fleet{Inventory: d, Metrics: d, Pods: d})
	require.NoError(t, err)

	rep := as.RunOnce(f.ctx, now)
	require.NoError(t, rep.Err())
	tr := rep.Targets[0]
	require.NotNil(t, tr.Decision)
	assert.Equal(t, 6, tr.Decision.Chosen.Capacity.Desired, "(4 × 750m) / (4 × 1000m) = 75 %% of a 50 %% target: ceil(1.5 × 4)")
	require.NotNil(t, tr.Execution)
	assert.Equal(t, scaling.PlanCompleted, tr.Execution.Status, tr.Execution.Reason)
	s, err := f.admin.AppsV1().Deployments(f.ns).GetScale(f.ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(6), s.Spec.Replicas, "written through the scale subresource")
	c, err := d.Capacity(f.ctx, web)
	require.NoError(t, err)
	assert.True(t, c.Settled(), "verified: %+v", c)
}

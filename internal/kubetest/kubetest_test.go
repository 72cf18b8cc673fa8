package kubetest_test

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/idlescale/idlescale/internal/kubetest"
)

// TestVersionsAgree checks that the Makefile builds, and the nested module
// pins, the release the harness looks for.
func TestVersionsAgree(t *testing.T) {
	t.Parallel()
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^KUBE_VERSION\s*:=\s*(\S+)`).FindSubmatch(mk)
	require.NotNil(t, m, "the Makefile sets KUBE_VERSION")
	assert.Equal(t, kubetest.Version, string(m[1]))
	mod, err := os.ReadFile(filepath.Join("apiserver", "go.mod"))
	require.NoError(t, err)
	assert.Regexp(t, `(?m)^require k8s\.io/kubernetes `+regexp.QuoteMeta(kubetest.Version)+`$`, string(mod))
	// Every staging module is replaced at the matching v0 release.
	staging := "v0" + kubetest.Version[2:]
	for _, name := range []string{"k8s.io/api", "k8s.io/apimachinery", "k8s.io/client-go", "k8s.io/apiserver", "k8s.io/metrics"} {
		assert.Contains(t, string(mod), name+" => "+name+" "+staging)
	}
	assert.NotContains(t, string(mod), "k8s.io/utils =>", "k8s.io/utils is not a staging module")
}

func TestStartRejectsBadUsers(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"", kubetest.Admin, "a,b", `q"uote`} {
		_, err := kubetest.Start(kubetest.Options{Users: map[string][]string{name: nil}})
		require.Error(t, err, "user %q", name)
	}
}

func TestServer(t *testing.T) {
	t.Parallel()
	srv, err := kubetest.Start(kubetest.Options{RBAC: true, Users: map[string][]string{"viewer": {"viewers"}}})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	admin, err := srv.Client(kubetest.Admin)
	require.NoError(t, err)
	ns, err := srv.Namespace(ctx, admin, "Server Test!")
	require.NoError(t, err)
	assert.Regexp(t, `^server-test-\d+-[0-9a-f]{6}$`, ns)

	// RBAC: the viewer has no role, so it may not even list pods.
	viewer, err := srv.Client("viewer")
	require.NoError(t, err)
	_, err = viewer.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
	require.True(t, apierrors.IsForbidden(err), "got %v", err)
	assert.Panics(t, func() { srv.Config("nobody") })

	// MirrorReplicas plays the Deployment controller once.
	labels := map[string]string{"app": "web"}
	dep := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr(int32(3)),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx"}}},
			},
		},
	}
	_, err = admin.AppsV1().Deployments(ns).Create(ctx, dep, metav1.CreateOptions{})
	require.NoError(t, err)
	n, err := kubetest.MirrorReplicas(ctx, admin, ns)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	got, err := admin.AppsV1().Deployments(ns).Get(ctx, "web", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int32(3), got.Status.Replicas)
	assert.Equal(t, int32(3), got.Status.ReadyReplicas)
	n, err = kubetest.MirrorReplicas(ctx, admin, ns)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing lags any more")

	// UpdatePodStatus plays the kubelet.
	pod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "p", Labels: labels}, Spec: dep.Spec.Template.Spec}
	_, err = admin.CoreV1().Pods(ns).Create(ctx, pod, metav1.CreateOptions{})
	require.NoError(t, err)
	started := metav1.NewTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	require.NoError(t, kubetest.UpdatePodStatus(ctx, admin, ns, "p", func(s *corev1.PodStatus) {
		s.Phase = corev1.PodRunning
		s.StartTime = &started
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: started}}
	}))
	p, err := admin.CoreV1().Pods(ns).Get(ctx, "p", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, corev1.PodRunning, p.Status.Phase)
	assert.True(t, p.Status.StartTime.Equal(&started))

	// A paused server hangs calls; the caller's deadline ends them.
	err = hungCall(t, srv, func(ctx context.Context) error {
		_, err := admin.CoreV1().Pods(ns).Get(ctx, "p", metav1.GetOptions{})
		return err
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = admin.CoreV1().Pods(ns).Get(ctx, "p", metav1.GetOptions{})
	require.NoError(t, err)

	dir := srv.Dir
	srv.Stop()
	srv.Stop() // idempotent
	_, err = os.Stat(dir)
	require.ErrorIs(t, err, os.ErrNotExist, "Stop removes the directory")
	require.Error(t, srv.Pause(), "a stopped server cannot be paused")
}

// TestResumeRestartsAServerKilledWhilePaused: SIGKILL ends a stopped
// process at once (the OOM killer of a loaded host sends it). Resume used
// to fail with "kubetest: continued: os: process already finished"; it
// starts the server again where it was, and what was stored before the
// pause is still there for the clients made before it.
func TestResumeRestartsAServerKilledWhilePaused(t *testing.T) {
	t.Parallel()
	srv, err := kubetest.Start(kubetest.Options{})
	require.NoError(t, err)
	t.Cleanup(srv.Stop)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	admin, err := srv.Client(kubetest.Admin)
	require.NoError(t, err)
	ns, err := srv.Namespace(ctx, admin, t.Name())
	require.NoError(t, err)
	_, err = admin.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "kept"}}, metav1.CreateOptions{})
	require.NoError(t, err)

	require.NoError(t, srv.Pause())
	require.NoError(t, srv.Kill())
	require.NoError(t, srv.Resume())
	assert.Equal(t, 1, srv.Restarts())
	_, err = admin.CoreV1().ConfigMaps(ns).Get(ctx, "kept", metav1.GetOptions{})
	require.NoError(t, err, "the same client finds what was stored before")

	// The server started again pauses and continues as the first one (a
	// server that was not killed is continued, not started again: else
	// hungCall fails).
	err = hungCall(t, srv, func(ctx context.Context) error {
		_, err := admin.CoreV1().ConfigMaps(ns).Get(ctx, "kept", metav1.GetOptions{})
		return err
	})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	_, err = admin.CoreV1().ConfigMaps(ns).Get(ctx, "kept", metav1.GetOptions{})
	require.NoError(t, err)

	// Pausing a server that died says how it died.
	require.NoError(t, srv.Kill())
	err = srv.Pause()
	require.ErrorContains(t, err, "the API server exited (signal: killed)")
}

// hungCall pauses srv, makes call with a one-second deadline, resumes srv
// and returns the call's error. A pause in which the server was killed
// (Resume started it again, so the call may have met a dead server, not a
// hung one) is done again, twice at most.
func hungCall(t *testing.T, srv *kubetest.Server, call func(context.Context) error) error {
	t.Helper()
	for attempt := 1; ; attempt++ {
		restarts := srv.Restarts()
		require.NoError(t, srv.Pause())
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		err := call(ctx)
		cancel()
		require.NoError(t, srv.Resume())
		if srv.Restarts() == restarts {
			return err
		}
		require.Less(t, attempt, 3, "the paused API server was killed in %d pauses in a row", attempt)
		t.Logf("the API server was killed while paused (pause %d); pausing it again", attempt)
	}
}

func TestMetricsServer(t *testing.T) {
	t.Parallel()
	ms, err := kubetest.StartMetricsServer()
	require.NoError(t, err)
	t.Cleanup(ms.Close)
	at := metav1.NewTime(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	pm := func(ns, name, app, cpu string) metricsv1beta1.PodMetrics {
		return metricsv1beta1.PodMetrics{
			ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: name, Labels: map[string]string{"app": app}},
			Timestamp:  at, Window: metav1.Duration{Duration: 30 * time.Second},
			Containers: []metricsv1beta1.ContainerMetrics{{Name: "app", Usage: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse(cpu)}}},
		}
	}
	ms.Set(pm("a", "web-1", "web", "250m"), pm("a", "web-2", "web", "500m"), pm("a", "db-1", "db", "1"), pm("b", "web-1", "web", "2"))
	mc, err := metricsclient.NewForConfig(ms.Config())
	require.NoError(t, err)
	api := mc.MetricsV1beta1()
	ctx := t.Context()

	list, err := api.PodMetricses("a").List(ctx, metav1.ListOptions{LabelSelector: "app=web"})
	require.NoError(t, err)
	require.Len(t, list.Items, 2)
	assert.Equal(t, "web-1", list.Items[0].Name)
	assert.Equal(t, int64(500), list.Items[1].Containers[0].Usage.Cpu().MilliValue())
	assert.True(t, list.Items[0].Timestamp.Equal(&at))
	assert.Equal(t, 30*time.Second, list.Items[0].Window.Duration)

	all, err := api.PodMetricses("").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Len(t, all.Items, 4)

	one, err := api.PodMetricses("b").Get(ctx, "web-1", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, int64(2000), one.Containers[0].Usage.Cpu().MilliValue())

	ms.Delete("b", "web-1")
	_, err = api.PodMetricses("b").Get(ctx, "web-1", metav1.GetOptions{})
	assert.True(t, apierrors.IsNotFound(err), "got %v", err)
	_, err = api.PodMetricses("a").List(ctx, metav1.ListOptions{LabelSelector: "app in (web"})
	assert.True(t, apierrors.IsBadRequest(err), "a bad selector: got %v", err)

	ms.Fail(503)
	_, err = api.PodMetricses("a").List(ctx, metav1.ListOptions{})
	assert.True(t, apierrors.IsServiceUnavailable(err), "got %v", err)
	ms.Fail(0)
	_, err = api.PodMetricses("a").List(ctx, metav1.ListOptions{})
	require.NoError(t, err)
	assert.Equal(t, 7, ms.Requests(), "one request per call: no retries")

	// The Status of an injected failure has its code's reason, as a real
	// server's: a 403 read as 503 Service Unavailable (the reason of every
	// injected failure), so a client could not tell it was refused.
	for code, is := range map[int]func(error) bool{
		403: apierrors.IsForbidden, 401: apierrors.IsUnauthorized, 404: apierrors.IsNotFound,
		500: apierrors.IsInternalError, 503: apierrors.IsServiceUnavailable, 504: apierrors.IsTimeout,
	} {
		ms.Fail(code)
		_, err = api.PodMetricses("a").List(ctx, metav1.ListOptions{})
		assert.True(t, is(err), "%d: got %v", code, err)
		var status apierrors.APIStatus
		require.ErrorAs(t, err, &status)
		assert.Equal(t, int32(code), status.Status().Code)
		if code != 503 {
			assert.NotEqual(t, metav1.StatusReasonServiceUnavailable, status.Status().Reason, "%d", code)
		}
	}
	ms.Fail(0)
}

// TestBinaryFromEnvironment checks the override and its error; it changes
// the environment, so it does not run in parallel.
func TestBinaryFromEnvironment(t *testing.T) {
	t.Setenv(kubetest.BinaryEnv, filepath.Join(t.TempDir(), "missing"))
	_, err := kubetest.Binary()
	require.ErrorContains(t, err, kubetest.BinaryEnv)
	bin := filepath.Join(t.TempDir(), "kube-apiserver")
	require.NoError(t, os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o700))
	t.Setenv(kubetest.BinaryEnv, bin)
	got, err := kubetest.Binary()
	require.NoError(t, err)
	assert.Equal(t, bin, got)
}

// TestBinaryMissingSaysHowToBuild runs in a module root without .bin; it
// changes the working directory, so it does not run in parallel.
func TestBinaryMissingSaysHowToBuild(t *testing.T) {
	t.Setenv(kubetest.BinaryEnv, "")
	root := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(root, "go.mod"), []byte("module github.com/idlescale/idlescale\n"), 0o600))
	sub := filepath.Join(root, "provider", "kubernetes")
	require.NoError(t, os.MkdirAll(sub, 0o700))
	t.Chdir(sub)
	_, err := kubetest.Binary()
	require.ErrorContains(t, err, "make kube-apiserver")
	_, err = kubetest.Start(kubetest.Options{})
	require.ErrorContains(t, err, "make kube-apiserver", "Start fails, never skips, without the binary")

	t.Chdir(t.TempDir())
	_, err = kubetest.Binary()
	require.ErrorContains(t, err, kubetest.BinaryEnv, "outside the module the error names the override")
}

func ptr[T any](v T) *T { return &v }

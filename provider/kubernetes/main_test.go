package kubernetes_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsv1beta1 "k8s.io/metrics/pkg/apis/metrics/v1beta1"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/idlescale/idlescale/internal/kubetest"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// The package's tests share one real API server (with RBAC on: the admin
// bypasses it, the viewer has only what a test grants it) and one metrics
// server; every test works in a namespace of its own.
var (
	apiServer     *kubetest.Server
	metricsServer *kubetest.MetricsServer
)

// viewer is a user with no permissions but those a test grants.
const viewer = "viewer"

// volumeReader is a user with no permissions but the cluster-wide ones
// TestPersistentVolumesWithTheDocumentedRBAC grants.
const volumeReader = "volume-reader"

func TestMain(m *testing.M) {
	s, err := kubetest.Start(kubetest.Options{RBAC: true, Users: map[string][]string{viewer: {"idlescale-test-viewers"}, volumeReader: {"idlescale-test-volume-readers"}}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	ms, err := kubetest.StartMetricsServer()
	if err != nil {
		s.Stop()
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	apiServer, metricsServer = s, ms
	code := m.Run()
	ms.Close()
	s.Stop()
	os.Exit(code)
}

// fixture is one test's namespace on the shared server.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	ns    string
	admin clientset.Interface
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	t.Cleanup(cancel)
	admin, err := apiServer.Client(kubetest.Admin)
	require.NoError(t, err)
	ns, err := apiServer.Namespace(ctx, admin, t.Name())
	require.NoError(t, err)
	return &fixture{t: t, ctx: ctx, ns: ns, admin: admin}
}

// id returns the resource ID of an object of the fixture's namespace.
func (f *fixture) id(kind kubernetes.ObjectKind, name string) string {
	return kubernetes.Ref{Namespace: f.ns, Kind: kind, Name: name}.String()
}

// driver returns a driver over the fixture's namespace (unless cfg names
// namespaces) with the shared metrics server.
func (f *fixture) driver(cfg kubernetes.Config, opts ...kubernetes.Option) *kubernetes.Driver {
	f.t.Helper()
	if cfg.Namespaces == nil {
		cfg.Namespaces = []string{f.ns}
	}
	mc, err := metricsclient.NewForConfig(metricsServer.Config())
	require.NoError(f.t, err)
	d, err := kubernetes.New(cfg, f.admin, append([]kubernetes.Option{kubernetes.WithMetricsClient(mc)}, opts...)...)
	require.NoError(f.t, err)
	return d
}

// driverAs returns a driver that calls the API server as user.
func (f *fixture) driverAs(user string, cfg kubernetes.Config) *kubernetes.Driver {
	f.t.Helper()
	if cfg.Namespaces == nil {
		cfg.Namespaces = []string{f.ns}
	}
	cs, err := apiServer.Client(user)
	require.NoError(f.t, err)
	d, err := kubernetes.New(cfg, cs)
	require.NoError(f.t, err)
	return d
}

// unavailableMetrics returns a driver over the fixture's namespace whose
// metrics API answers every request with 503 Service Unavailable (a
// metrics server of its own: the shared one serves other tests).
func (f *fixture) unavailableMetrics() *kubernetes.Driver {
	f.t.Helper()
	failing, err := kubetest.StartMetricsServer()
	require.NoError(f.t, err)
	f.t.Cleanup(failing.Close)
	failing.Fail(http.StatusServiceUnavailable)
	mc, err := metricsclient.NewForConfig(failing.Config())
	require.NoError(f.t, err)
	d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}}, f.admin, kubernetes.WithMetricsClient(mc))
	require.NoError(f.t, err)
	return d
}

// restConfig returns the admin's client configuration.
func restConfig() *rest.Config { return apiServer.Config(kubetest.Admin) }

// container returns a container with the given requests ("" for none) and
// limits twice the requests when withLimits is set.
func container(name, cpu, mem string, withLimits bool) corev1.Container {
	c := corev1.Container{Name: name, Image: "registry.k8s.io/pause:3.10", Resources: corev1.ResourceRequirements{Requests: corev1.ResourceList{}}}
	if withLimits {
		c.Resources.Limits = corev1.ResourceList{}
	}
	for res, v := range map[corev1.ResourceName]string{corev1.ResourceCPU: cpu, corev1.ResourceMemory: mem} {
		if v == "" {
			continue
		}
		q := resource.MustParse(v)
		c.Resources.Requests[res] = q
		if withLimits {
			l := q.DeepCopy()
			l.Add(q)
			c.Resources.Limits[res] = l
		}
	}
	return c
}

// deployment creates a Deployment selecting app=name with the given
// replicas and containers, changed by opts before it is created.
func (f *fixture) deployment(name string, replicas int32, containers []corev1.Container, opts ...func(*appsv1.Deployment)) *appsv1.Deployment {
	f.t.Helper()
	labels := map[string]string{"app": name}
	d := &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec: appsv1.DeploymentSpec{
			Replicas: &replicas,
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: containers},
			},
		},
	}
	for _, o := range opts {
		o(d)
	}
	out, err := f.admin.AppsV1().Deployments(f.ns).Create(f.ctx, d, metav1.CreateOptions{})
	require.NoError(f.t, err)
	return out
}

// statefulSet creates a StatefulSet selecting app=name.
func (f *fixture) statefulSet(name string, replicas int32, containers []corev1.Container, opts ...func(*appsv1.StatefulSet)) *appsv1.StatefulSet {
	f.t.Helper()
	labels := map[string]string{"app": name}
	s := &appsv1.StatefulSet{
		ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{"app": name}},
		Spec: appsv1.StatefulSetSpec{
			Replicas:    &replicas,
			ServiceName: name,
			Selector:    &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec:       corev1.PodSpec{Containers: containers},
			},
		},
	}
	for _, o := range opts {
		o(s)
	}
	out, err := f.admin.AppsV1().StatefulSets(f.ns).Create(f.ctx, s, metav1.CreateOptions{})
	require.NoError(f.t, err)
	return out
}

// pod creates a pod with labels and containers and, when status is not
// nil, sets its status as a kubelet would.
func (f *fixture) pod(name string, labels map[string]string, containers []corev1.Container, status func(*corev1.PodStatus)) *corev1.Pod {
	f.t.Helper()
	p := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: labels}, Spec: corev1.PodSpec{Containers: containers}}
	out, err := f.admin.CoreV1().Pods(f.ns).Create(f.ctx, p, metav1.CreateOptions{})
	require.NoError(f.t, err)
	if status != nil {
		require.NoError(f.t, kubetest.UpdatePodStatus(f.ctx, f.admin, f.ns, name, status))
		out, err = f.admin.CoreV1().Pods(f.ns).Get(f.ctx, name, metav1.GetOptions{})
		require.NoError(f.t, err)
	}
	return out
}

// running is a pod status: Running and Ready since at.
func running(at time.Time) func(*corev1.PodStatus) {
	return func(s *corev1.PodStatus) {
		t := metav1.NewTime(at)
		s.Phase = corev1.PodRunning
		s.StartTime = &t
		s.Conditions = []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue, LastTransitionTime: t}}
	}
}

// phase is a pod status with only a phase.
func phase(p corev1.PodPhase) func(*corev1.PodStatus) {
	return func(s *corev1.PodStatus) { s.Phase = p }
}

// podMetrics stores the latest usage of a pod of the fixture's namespace in
// the metrics server: one container "app" with cpu cores (as a quantity
// string) and memory.
func (f *fixture) podMetrics(name string, labels map[string]string, at time.Time, usage map[string]corev1.ResourceList) {
	var cs []metricsv1beta1.ContainerMetrics
	for c, u := range usage {
		cs = append(cs, metricsv1beta1.ContainerMetrics{Name: c, Usage: u})
	}
	metricsServer.Set(metricsv1beta1.PodMetrics{
		ObjectMeta: metav1.ObjectMeta{Namespace: f.ns, Name: name, Labels: labels},
		Timestamp:  metav1.NewTime(at), Window: metav1.Duration{Duration: 30 * time.Second},
		Containers: cs,
	})
}

// podMetricsOf is the latest usage of a pod labelled app=web with one
// container "web" using cpu (a quantity string).
func podMetricsOf(namespace, pod string, at time.Time, cpu string) metricsv1beta1.PodMetrics {
	return metricsv1beta1.PodMetrics{
		ObjectMeta: metav1.ObjectMeta{Namespace: namespace, Name: pod, Labels: map[string]string{"app": "web"}},
		Timestamp:  metav1.NewTime(at), Window: metav1.Duration{Duration: 30 * time.Second},
		Containers: []metricsv1beta1.ContainerMetrics{{Name: "web", Usage: usage(cpu, "100Mi")}},
	}
}

// metricsClient is a client of the shared metrics server.
func metricsClient() metricsclient.Interface {
	mc, err := metricsclient.NewForConfig(metricsServer.Config())
	if err != nil {
		panic(err)
	}
	return mc
}

// usage is a container's resource usage.
func usage(cpu, mem string) corev1.ResourceList {
	l := corev1.ResourceList{}
	if cpu != "" {
		l[corev1.ResourceCPU] = resource.MustParse(cpu)
	}
	if mem != "" {
		l[corev1.ResourceMemory] = resource.MustParse(mem)
	}
	return l
}

// grantViewer gives the viewer a role of rules, named name, in the
// fixture's namespace, and returns the role (to update it).
func (f *fixture) grantViewer(name string, rules ...rbacv1.PolicyRule) *rbacv1.Role {
	f.t.Helper()
	role, err := f.admin.RbacV1().Roles(f.ns).Create(f.ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: name}, Rules: rules}, metav1.CreateOptions{})
	require.NoError(f.t, err)
	_, err = f.admin.RbacV1().RoleBindings(f.ns).Create(f.ctx, &rbacv1.RoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "viewer-" + name},
		RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: name},
		Subjects:   []rbacv1.Subject{{Kind: "User", Name: viewer, APIGroup: "rbac.authorization.k8s.io"}},
	}, metav1.CreateOptions{})
	require.NoError(f.t, err)
	return role
}

// eventually calls try every 20 ms until it returns nil or two minutes
// pass, and returns its last error. The API server's RBAC authorizer sees
// roles and bindings through an informer: on a loaded machine a grant
// takes a moment to apply (a run of the whole suite once failed on it).
func eventually(try func() error) error {
	deadline, tick := time.NewTimer(2*time.Minute), time.NewTicker(20*time.Millisecond)
	defer deadline.Stop()
	defer tick.Stop()
	err := try()
	for err != nil {
		select {
		case <-deadline.C:
			return err
		case <-tick.C:
		}
		err = try()
	}
	return nil
}

// busyPods creates four pods of web (app=web, containers cs), ready for
// 20 minutes, each using 750m of CPU five seconds before now.
func (f *fixture) busyPods(now time.Time, cs []corev1.Container) {
	f.t.Helper()
	labels := map[string]string{"app": "web"}
	long := now.Add(-20 * time.Minute)
	for _, p := range []string{"p1", "p2", "p3", "p4"} {
		f.pod(p, labels, cs, cpuAt(long, long, corev1.ConditionTrue))
		f.podMetrics(p, labels, now.Add(-5*time.Second), map[string]corev1.ResourceList{"app": usage("750m", "100Mi")})
	}
}

package kubernetes_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

func quantity(t *testing.T, l corev1.ResourceList, r corev1.ResourceName) string {
	t.Helper()
	q, ok := l[r]
	require.True(t, ok, "no %s", r)
	return q.String()
}

func TestResizeSharesTheTotal(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	// Burstable: app 300m/256Mi with limits twice that, proxy 100m/256Mi
	// without limits.
	cs := []corev1.Container{container("app", "300m", "256Mi", true), container("proxy", "100m", "256Mi", false)}
	f.deployment("web", 1, cs)
	labels := map[string]string{"app": "web"}
	f.pod("web-a", labels, cs, running(time.Now()))
	d := f.driver(kubernetes.Config{})
	id := f.id(kubernetes.ObjectPod, "web-a")

	require.NoError(t, d.Resize(f.ctx, id, provider.Size{VCPU: 0.8, MemoryMiB: 1024}))
	p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	app, proxy := p.Spec.Containers[0].Resources, p.Spec.Containers[1].Resources
	assert.Equal(t, "600m", quantity(t, app.Requests, corev1.ResourceCPU), "3/4 of 800m")
	assert.Equal(t, "200m", quantity(t, proxy.Requests, corev1.ResourceCPU))
	assert.Equal(t, "1200m", quantity(t, app.Limits, corev1.ResourceCPU), "the limit keeps its ratio to the request")
	assert.Equal(t, "512Mi", quantity(t, app.Requests, corev1.ResourceMemory))
	assert.Equal(t, "512Mi", quantity(t, proxy.Requests, corev1.ResourceMemory))
	assert.Equal(t, "1Gi", quantity(t, app.Limits, corev1.ResourceMemory))
	assert.Empty(t, proxy.Limits, "no limit is added")
	r, err := d.Get(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, provider.Size{VCPU: 0.8, MemoryMiB: 1024}, r.Size)

	// CPU only: memory stays; the same size again writes nothing.
	require.NoError(t, d.Resize(f.ctx, id, provider.Size{VCPU: 0.4, MemoryMiB: 1024}))
	p, err = f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "300m", quantity(t, p.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU))
	assert.Equal(t, "512Mi", quantity(t, p.Spec.Containers[0].Resources.Requests, corev1.ResourceMemory))
	rv := p.ResourceVersion
	require.NoError(t, d.Resize(f.ctx, id, provider.Size{VCPU: 0.4}))
	p, err = f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, rv, p.ResourceVersion, "nothing to change, nothing written")
}

func TestResizeKeepsAGuaranteedPodGuaranteed(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	c := container("app", "500m", "512Mi", false)
	c.Resources.Limits = c.Resources.Requests.DeepCopy()
	f.deployment("web", 1, []corev1.Container{c})
	f.pod("web-a", map[string]string{"app": "web"}, []corev1.Container{c}, running(time.Now()))
	before, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	require.Equal(t, corev1.PodQOSGuaranteed, before.Status.QOSClass)

	d := f.driver(kubernetes.Config{})
	require.NoError(t, d.Resize(f.ctx, f.id(kubernetes.ObjectPod, "web-a"), provider.Size{VCPU: 1.5, MemoryMiB: 768}))
	p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	res := p.Spec.Containers[0].Resources
	assert.Equal(t, "1500m", quantity(t, res.Requests, corev1.ResourceCPU))
	assert.Equal(t, "1500m", quantity(t, res.Limits, corev1.ResourceCPU))
	assert.Equal(t, "768Mi", quantity(t, res.Requests, corev1.ResourceMemory))
	assert.Equal(t, "768Mi", quantity(t, res.Limits, corev1.ResourceMemory))
	assert.Equal(t, corev1.PodQOSGuaranteed, p.Status.QOSClass)
}

func TestResizeErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "250m", "", false)}
	f.deployment("web", 1, cs)
	f.pod("web-a", map[string]string{"app": "web"}, cs, running(time.Now()))
	d := f.driver(kubernetes.Config{})
	pod := f.id(kubernetes.ObjectPod, "web-a")

	err := d.Resize(f.ctx, pod, provider.Size{MemoryMiB: 512})
	require.ErrorIs(t, err, provider.ErrUnsupported, "no memory request to scale")
	assert.Contains(t, err.Error(), "memory")
	require.NoError(t, d.Resize(f.ctx, pod, provider.Size{VCPU: 0.5}), "CPU has a request")

	for name, size := range map[string]provider.Size{
		"instance type": {InstanceType: "m5.large"},
		"timeout":       {VCPU: 1, Timeout: time.Second},
		"below 1m":      {VCPU: 0.0001},
		"nothing":       {},
		"negative":      {VCPU: -1},
	} {
		require.ErrorIs(t, d.Resize(f.ctx, pod, size), provider.ErrInvalid, name)
	}
	err = d.Resize(f.ctx, f.id(kubernetes.ObjectDeployment, "web"), provider.Size{VCPU: 1})
	require.ErrorIs(t, err, provider.ErrUnsupported, "a workload is not resized in place")
	require.ErrorIs(t, d.Resize(f.ctx, f.id(kubernetes.ObjectPod, "missing"), provider.Size{VCPU: 1}), provider.ErrNotFound)
}

// TestResizeUnsupportedServer puts a proxy in front of the real API server
// that hides pods/resize from discovery, as a cluster older than 1.33
// would.
func TestResizeUnsupportedServer(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "250m", "128Mi", false)}
	f.deployment("web", 1, cs)
	f.pod("web-a", map[string]string{"app": "web"}, cs, running(time.Now()))

	rc := restConfig()
	target, err := url.Parse(rc.Host)
	require.NoError(t, err)
	pool := x509.NewCertPool()
	require.True(t, pool.AppendCertsFromPEM(rc.CAData))
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.Transport = &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.URL.Path != "/api/v1" || !strings.Contains(resp.Header.Get("Content-Type"), "json") {
			return nil
		}
		var list metav1.APIResourceList
		if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
			return err
		}
		_ = resp.Body.Close()
		kept := list.APIResources[:0]
		for _, r := range list.APIResources {
			if r.Name != "pods/resize" {
				kept = append(kept, r)
			}
		}
		list.APIResources = kept
		b, err := json.Marshal(list)
		if err != nil {
			return err
		}
		resp.Body = io.NopCloser(bytes.NewReader(b))
		resp.ContentLength = int64(len(b))
		resp.Header.Set("Content-Length", strconv.Itoa(len(b)))
		return nil
	}
	front := httptest.NewServer(proxy)
	t.Cleanup(front.Close)
	client, err := clientset.NewForConfig(&rest.Config{Host: front.URL, BearerToken: rc.BearerToken, QPS: 100, Burst: 200})
	require.NoError(t, err)
	d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}}, client)
	require.NoError(t, err)

	err = d.Resize(f.ctx, f.id(kubernetes.ObjectPod, "web-a"), provider.Size{VCPU: 0.5})
	require.ErrorIs(t, err, provider.ErrUnsupported)
	assert.Contains(t, err.Error(), "pods/resize")
	p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "250m", quantity(t, p.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU), "nothing changed")
	_, err = d.Get(f.ctx, f.id(kubernetes.ObjectPod, "web-a"))
	require.NoError(t, err, "the proxy passes everything else through")
}

func TestResizeRetriesARace(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "250m", "128Mi", false)}
	f.deployment("web", 1, cs)
	f.pod("web-a", map[string]string{"app": "web"}, cs, running(time.Now()))
	d, ic := raceDriver(t, f, func() {
		_, err := f.admin.CoreV1().Pods(f.ns).Patch(f.ctx, "web-a", "application/merge-patch+json",
			[]byte(`{"metadata":{"labels":{"touched":"yes"}}}`), metav1.PatchOptions{})
		require.NoError(t, err)
	})
	ic.matches = func(r *http.Request) bool {
		return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, "/pods/web-a/resize")
	}
	require.NoError(t, d.Resize(f.ctx, f.id(kubernetes.ObjectPod, "web-a"), provider.Size{VCPU: 1}))
	assert.Equal(t, int32(2), ic.seen.Load(), "the lost race was retried on the re-read pod")
	p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "yes", p.Labels["touched"], "the other writer's change stands")
	want := resource.MustParse("1")
	got := p.Spec.Containers[0].Resources.Requests[corev1.ResourceCPU]
	assert.Zero(t, want.Cmp(got), "cpu request %s", got.String())
}

// TestResizeSharesTheTotalWithNativeSidecars pins that Resize's total is
// the pod's Size, which counts native sidecars (restartable init
// containers): the sidecar takes its share. Resize gave the whole total
// to the regular containers, so a pod of 500m + a 500m sidecar, which Get
// reports at 1 core, was resized to 1.5 cores by Resize(VCPU: 1).
func TestResizeSharesTheTotalWithNativeSidecars(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "500m", "256Mi", false)}
	f.deployment("web", 1, cs)
	always := corev1.ContainerRestartPolicyAlways
	sidecar := container("proxy", "500m", "256Mi", false)
	sidecar.RestartPolicy = &always
	_, err := f.admin.CoreV1().Pods(f.ns).Create(f.ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-a", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: cs, InitContainers: []corev1.Container{sidecar}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	d := f.driver(kubernetes.Config{})
	id := f.id(kubernetes.ObjectPod, "web-a")
	r, err := d.Get(f.ctx, id)
	require.NoError(t, err)
	require.Equal(t, provider.Size{VCPU: 1, MemoryMiB: 512}, r.Size, "the sidecar counts")

	rv := func() string {
		p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
		require.NoError(t, err)
		return p.ResourceVersion
	}
	before := rv()
	require.NoError(t, d.Resize(f.ctx, id, r.Size))
	assert.Equal(t, before, rv(), "resizing to the size Get reports writes nothing")

	require.NoError(t, d.Resize(f.ctx, id, provider.Size{VCPU: 2, MemoryMiB: 1024}))
	r, err = d.Get(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, provider.Size{VCPU: 2, MemoryMiB: 1024}, r.Size, "Get reports what Resize was given")
	p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "1", quantity(t, p.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU))
	assert.Equal(t, "1", quantity(t, p.Spec.InitContainers[0].Resources.Requests, corev1.ResourceCPU))
}

// TestResizeRefusesPodLevelRequests pins that a pod with pod-level
// requests (spec.resources), which Get reports as its Size, is
// provider.ErrUnsupported, nothing written: Resize changed its containers'
// requests under the pod-level ones and returned nil, and Get went on
// reporting the old size.
func TestResizeRefusesPodLevelRequests(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "500m", "256Mi", false)}
	f.deployment("web", 1, cs)
	_, err := f.admin.CoreV1().Pods(f.ns).Create(f.ctx, &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "web-a", Labels: map[string]string{"app": "web"}},
		Spec:       corev1.PodSpec{Containers: cs, Resources: &corev1.ResourceRequirements{Requests: usage("1", "512Mi"), Limits: usage("1", "512Mi")}},
	}, metav1.CreateOptions{})
	require.NoError(t, err)
	d := f.driver(kubernetes.Config{})
	id := f.id(kubernetes.ObjectPod, "web-a")
	before, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)

	err = d.Resize(f.ctx, id, provider.Size{VCPU: 0.8})
	require.ErrorIs(t, err, provider.ErrUnsupported)
	assert.Contains(t, err.Error(), "pod-level")
	p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, before.ResourceVersion, p.ResourceVersion, "nothing written")
	r, err := d.Get(f.ctx, id)
	require.NoError(t, err)
	assert.Equal(t, provider.Size{VCPU: 1, MemoryMiB: 512}, r.Size)
}

// TestResizeHonoursTheDeadlineOfItsDiscoveryCall pins that the caller's
// context bounds Resize's discovery of pods/resize too, for the caller
// that asks and for one waiting on it. The discovery call ran without the
// context (client-go's ServerResourcesForGroupVersion takes none) under a
// mutex, so against a server that did not answer it, Resize hung past its
// deadline until the client's own timeout, and so did every other Resize.
func TestResizeHonoursTheDeadlineOfItsDiscoveryCall(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "250m", "128Mi", false)}
	f.deployment("web", 1, cs)
	f.pod("web-a", map[string]string{"app": "web"}, cs, running(time.Now()))

	release := make(chan struct{})
	var once sync.Once
	unhang := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unhang)
	rc := restConfig()
	rc.WrapTransport = func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			if r.URL.Path == "/api/v1" { // discovery hangs until released or cancelled
				select {
				case <-release:
				case <-r.Context().Done():
					return nil, r.Context().Err()
				}
			}
			return next.RoundTrip(r)
		})
	}
	client, err := clientset.NewForConfig(rc)
	require.NoError(t, err)
	d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}}, client)
	require.NoError(t, err)
	id := f.id(kubernetes.ObjectPod, "web-a")

	done := make(chan error, 2)
	for range 2 {
		go func() {
			ctx, cancel := context.WithTimeout(f.ctx, time.Second)
			defer cancel()
			done <- d.Resize(ctx, id, provider.Size{VCPU: 0.5})
		}()
	}
	for range 2 {
		// Generous: the calls must end because of their deadlines, not
		// hang until the discovery call is released.
		select {
		case err := <-done:
			require.ErrorIs(t, err, context.DeadlineExceeded)
		case <-time.After(45 * time.Second):
			unhang()
			t.Fatal("Resize did not honour its one-second deadline while discovery hung")
		}
	}
	unhang()
	p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "250m", quantity(t, p.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU), "nothing changed")
	require.NoError(t, d.Resize(f.ctx, id, provider.Size{VCPU: 0.5}), "a failed discovery is asked again")
}

// TestResizeRefusesSizesBeyondInt64 pins that a size whose bytes or
// millicores do not fit an int64 is refused by name before any call:
// MemoryMiB 2⁴⁴ + 512 was multiplied into 512 MiB (the product wrapped
// around) and the pod was shrunk to that, and a VCPU of 10¹⁶ cores failed
// as "too small to share".
func TestResizeRefusesSizesBeyondInt64(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "250m", "256Mi", false)}
	f.deployment("web", 1, cs)
	f.pod("web-a", map[string]string{"app": "web"}, cs, running(time.Now()))
	d := f.driver(kubernetes.Config{})
	pod := f.id(kubernetes.ObjectPod, "web-a")
	for _, tt := range []struct {
		size  provider.Size
		field string
	}{
		{provider.Size{MemoryMiB: 1<<44 + 512}, "memory_mib"},
		{provider.Size{MemoryMiB: math.MaxInt}, "memory_mib"},
		{provider.Size{VCPU: 1e16}, "vcpu"},
	} {
		err := d.Resize(f.ctx, pod, tt.size)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%+v", tt.size)
		assert.Equal(t, tt.field, ie.Field)
	}
	p, err := f.admin.CoreV1().Pods(f.ns).Get(f.ctx, "web-a", metav1.GetOptions{})
	require.NoError(t, err)
	assert.Equal(t, "256Mi", quantity(t, p.Spec.Containers[0].Resources.Requests, corev1.ResourceMemory), "nothing changed")
	assert.Equal(t, "250m", quantity(t, p.Spec.Containers[0].Resources.Requests, corev1.ResourceCPU), "nothing changed")
}

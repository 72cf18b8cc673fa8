package kubernetes_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	clientset "k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// counter counts the requests the clients it wraps send, by method and
// path, and the most in flight at once. A request is counted once however
// many times client-go sends it: an attempt answered with a status that
// client-go retries after the server's Retry-After (a 429 of the API
// server's priority and fairness on a loaded machine, a 5xx with
// Retry-After) is not counted, the attempt that answers the call is, so
// that the counts the tests assert are the driver's requests, not the
// server's load.
type counter struct {
	mu       sync.Mutex
	seen     []*attempt
	inFlight int
	most     int
}

// attempt is one round trip of a request; retried says client-go sends
// the request again (retriedByClient).
type attempt struct {
	call    string
	retried bool
}

// wrap returns a RoundTripper that counts into c and sends through next.
func (c *counter) wrap(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		a := &attempt{call: r.Method + " " + r.URL.Path}
		c.mu.Lock()
		c.seen = append(c.seen, a) // in the order sent
		c.inFlight++
		c.most = max(c.most, c.inFlight)
		c.mu.Unlock()
		resp, err := next.RoundTrip(r)
		c.mu.Lock()
		c.inFlight--
		a.retried = retriedByClient(resp, err)
		c.mu.Unlock()
		return resp, err
	})
}

// retriedByClient reports whether client-go sends a request again after
// an attempt answered with resp: a 429 or a 5xx with a Retry-After of
// whole seconds, as k8s.io/client-go/rest's checkWait reads it (its
// withRetry.IsNextRetry retries those, up to ten times).
func retriedByClient(resp *http.Response, err error) bool {
	if err != nil || resp == nil || resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode < 500 {
		return false
	}
	_, aerr := strconv.Atoi(resp.Header.Get("Retry-After"))
	return aerr == nil
}

// mostInFlight returns the most requests in flight at once since the
// last call, and starts counting again.
func (c *counter) mostInFlight() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	m := c.most
	c.most = c.inFlight
	return m
}

// take returns the requests counted since the last take, each once (the
// attempts client-go retried left out), in the order sent.
func (c *counter) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]string, 0, len(c.seen))
	for _, a := range c.seen {
		if !a.retried {
			out = append(out, a.call)
		}
	}
	c.seen = nil
	return out
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// countingDriver returns a driver over the fixture's namespace whose
// requests to the API server and to the shared metrics server are counted.
func (f *fixture) countingDriver(cfg kubernetes.Config, opts ...kubernetes.Option) (*kubernetes.Driver, *counter) {
	f.t.Helper()
	c := &counter{}
	rc := restConfig()
	rc.WrapTransport = c.wrap
	cs, err := clientset.NewForConfig(rc)
	require.NoError(f.t, err)
	mrc := metricsServer.Config()
	mrc.WrapTransport = c.wrap
	mc, err := metricsclient.NewForConfig(mrc)
	require.NoError(f.t, err)
	if cfg.Namespaces == nil {
		cfg.Namespaces = []string{f.ns}
	}
	d, err := kubernetes.New(cfg, cs, append([]kubernetes.Option{kubernetes.WithMetricsClient(mc)}, opts...)...)
	require.NoError(f.t, err)
	return d, c
}

// TestBatchReadsEqualSingleReads stages workloads of both kinds with pods
// (ready, unready, pending, of another workload, of none) and pod metrics
// on the real API server, and reads a batch of IDs of every kind (the
// workloads, one the configured label selector leaves out, a missing one,
// a pod, an ID that names nothing, a namespace out of scope) through the
// batch reads and one by one: every answer is the same (value, or error
// text and sentinel). The batch makes a fixed number of requests per
// namespace, not a number per workload.
func TestBatchReadsEqualSingleReads(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "500m", "256Mi", false)}
	hidden := func(d *appsv1.Deployment) { d.Labels["tier"] = "hidden" }
	f.deployment("web", 3, cs)
	f.deployment("api", 2, cs)
	f.deployment("secret", 1, cs, hidden)
	f.statefulSet("db", 1, cs)
	f.hpa("web-hpa", "apps/v1", "Deployment", "web", nil, 10) // ScaledBy read in both ways
	now := time.Now().Truncate(time.Second)
	long := now.Add(-time.Hour)
	for _, p := range []struct {
		name, app string
		status    func(*corev1.PodStatus)
		cpu       string
	}{
		{"web-a", "web", running(long), "400m"},
		{"web-b", "web", running(long), "200m"},
		{"web-c", "web", cpuAt(now.Add(-30*time.Second), now.Add(-10*time.Second), corev1.ConditionFalse), "100m"},
		{"api-a", "api", running(long), "50m"},
		{"api-b", "api", nil, ""},
		{"db-0", "db", running(long), "300m"},
		{"stray", "none", running(long), "900m"},
	} {
		labels := map[string]string{"app": p.app}
		f.pod(p.name, labels, cs, p.status)
		if p.cpu != "" {
			f.podMetrics(p.name, labels, now, map[string]corev1.ResourceList{"app": usage(p.cpu, "100Mi")})
		}
	}
	d, calls := f.countingDriver(kubernetes.Config{LabelSelector: "tier!=hidden"})
	ids := []string{
		f.id(kubernetes.ObjectDeployment, "web"), f.id(kubernetes.ObjectDeployment, "api"), f.id(kubernetes.ObjectStatefulSet, "db"),
		f.id(kubernetes.ObjectDeployment, "secret"), f.id(kubernetes.ObjectDeployment, "missing"), f.id(kubernetes.ObjectPod, "web-a"),
		"nothing", kubernetes.Ref{Namespace: "elsewhere", Kind: kubernetes.ObjectDeployment, Name: "web"}.String(),
	}
	metrics := []hpa.MetricSpec{cpuUtilization(60), {Type: hpa.SourcePods, Pods: &hpa.PodsMetricSource{Metric: hpa.MetricIdentifier{Name: "qps"},
		Target: hpa.MetricTarget{Type: hpa.TargetAverageValue, AverageValue: 1000}}}}
	same := func(what, id string, wantErr, gotErr error) bool {
		t.Helper()
		if wantErr == nil {
			require.NoError(t, gotErr, "%s %s", what, id)
			return true
		}
		require.Error(t, gotErr, "%s %s", what, id)
		assert.Equal(t, wantErr.Error(), gotErr.Error(), "%s %s", what, id)
		for _, s := range []error{provider.ErrNotFound, provider.ErrInvalid, provider.ErrUnsupported} {
			assert.Equal(t, errors.Is(wantErr, s), errors.Is(gotErr, s), "%s %s: %v", what, id, s)
		}
		return false
	}

	res := make([]provider.ResourceRead, len(ids))
	caps := make([]provider.CapacityRead, len(ids))
	pods := make([]scaling.PodRead, len(ids))
	for i, id := range ids {
		res[i], caps[i] = provider.ResourceRead{ID: id}, provider.CapacityRead{ID: id}
		pods[i] = scaling.PodRead{Target: provider.Resource{ID: id}, Metrics: metrics, Now: now}
	}
	calls.take()
	require.NoError(t, d.GetResources(f.ctx, res))
	require.NoError(t, d.GetCapacities(f.ctx, caps))
	require.NoError(t, d.ObservePodsBatch(f.ctx, pods))
	batchCalls := calls.take()
	for i, id := range ids {
		r, err := d.Get(f.ctx, id)
		if same("get", id, err, res[i].Err) {
			assert.Equal(t, r, res[i].Resource, id)
		}
		c, err := d.Capacity(f.ctx, id)
		if same("capacity", id, err, caps[i].Err) {
			assert.Equal(t, c, caps[i].Capacity, id)
		}
		o, err := d.ObservePods(f.ctx, provider.Resource{ID: id}, metrics, now)
		if same("observe pods", id, err, pods[i].Err) {
			assert.Equal(t, o, pods[i].Observation, id)
		}
	}
	singleCalls := calls.take()
	// The three workloads' reads came from lists; what lists cannot answer
	// exactly went one by one, as in the single reads.
	require.NoError(t, res[0].Err)
	assert.Equal(t, "HorizontalPodAutoscaler "+f.ns+"/web-hpa", res[0].Resource.ScaledBy)
	assert.Empty(t, res[1].Resource.ScaledBy, "api: no HPA")
	assert.Len(t, pods[0].Observation.Pods, 3, "web's pods, not the stray one")
	assert.Len(t, pods[0].Observation.Metrics[0].Samples, 3)
	t.Logf("batch: %d requests, one by one: %d", len(batchCalls), len(singleCalls))

	// Only workloads: a fixed number of requests whatever their number.
	for _, n := range []int{1, 3} {
		reads := make([]scaling.PodRead, n)
		rr := make([]provider.ResourceRead, n)
		cr := make([]provider.CapacityRead, n)
		for i := range n {
			id := ids[i]
			reads[i] = scaling.PodRead{Target: provider.Resource{ID: id}, Metrics: metrics, Now: now}
			rr[i], cr[i] = provider.ResourceRead{ID: id}, provider.CapacityRead{ID: id}
		}
		calls.take()
		require.NoError(t, d.GetResources(f.ctx, rr))
		assert.Equal(t, []string{"GET /apis/apps/v1/namespaces/" + f.ns + "/deployments", "GET /apis/apps/v1/namespaces/" + f.ns + "/statefulsets",
			"GET /apis/autoscaling/v2/namespaces/" + f.ns + "/horizontalpodautoscalers"},
			calls.take(), "%d workloads: three lists (the HPAs for ScaledBy)", n)
		require.NoError(t, d.GetCapacities(f.ctx, cr))
		assert.Len(t, calls.take(), 2, "%d workloads", n)
		require.NoError(t, d.ObservePodsBatch(f.ctx, reads))
		got := calls.take()
		assert.Len(t, got, 4, "%d workloads: workloads, pods and pod metrics listed once: %v", n, got)
		assert.True(t, strings.HasSuffix(got[len(got)-1], "/namespaces/"+f.ns+"/pods"), "pod metrics listed last: %v", got)
	}
}

// TestBatchReadsWithoutListPermission: a user who may GET workloads but
// not LIST them (RBAC with resourceNames, say) reads a batch as it reads
// one by one: the batch falls back on the single calls when its list is
// forbidden.
func TestBatchReadsWithoutListPermission(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.deployment("web", 2, []corev1.Container{container("app", "100m", "64Mi", false)})
	role := f.grantViewer("get-only", rbacv1.PolicyRule{APIGroups: []string{"apps"}, Resources: []string{"deployments", "statefulsets"}, Verbs: []string{"get"}},
		rbacv1.PolicyRule{APIGroups: []string{"autoscaling"}, Resources: []string{"horizontalpodautoscalers"}, Verbs: []string{"list"}}) // as the documented RBAC: Get reads ScaledBy
	d := f.driverAs(viewer, kubernetes.Config{})
	web := f.id(kubernetes.ObjectDeployment, "web")
	var c provider.Capacity
	err := eventually(func() (err error) { c, err = d.Capacity(f.ctx, web); return err })
	require.NoError(t, err, "the viewer reads once the binding is seen")
	_, err = d.List(f.ctx, provider.Filter{})
	require.ErrorIs(t, err, kubernetes.ErrForbidden, "the viewer may not list")

	caps := []provider.CapacityRead{{ID: web}}
	require.NoError(t, d.GetCapacities(f.ctx, caps))
	require.NoError(t, caps[0].Err)
	assert.Equal(t, c, caps[0].Capacity)
	r, err := d.Get(f.ctx, web)
	require.NoError(t, err)
	res := []provider.ResourceRead{{ID: web}}
	require.NoError(t, d.GetResources(f.ctx, res))
	require.NoError(t, res[0].Err)
	assert.Equal(t, r, res[0].Resource)

	// Now the viewer may list workloads but not pods: observing the pods
	// fails one by one, and so it does in a batch (not an empty list).
	role.Rules[0].Verbs = []string{"get", "list"}
	_, err = f.admin.RbacV1().Roles(f.ns).Update(f.ctx, role, metav1.UpdateOptions{})
	require.NoError(t, err)
	vc, err := apiServer.Client(viewer)
	require.NoError(t, err)
	err = eventually(func() error {
		_, err := vc.AppsV1().Deployments(f.ns).List(f.ctx, metav1.ListOptions{})
		return err
	})
	require.NoError(t, err, "the viewer lists workloads once the role is seen")
	now := time.Now()
	_, err = d.ObservePods(f.ctx, provider.Resource{ID: web}, []hpa.MetricSpec{cpuUtilization(60)}, now)
	require.ErrorIs(t, err, kubernetes.ErrForbidden)
	pods := []scaling.PodRead{{Target: provider.Resource{ID: web}, Metrics: []hpa.MetricSpec{cpuUtilization(60)}, Now: now}}
	require.NoError(t, d.ObservePodsBatch(f.ctx, pods))
	require.ErrorIs(t, pods[0].Err, kubernetes.ErrForbidden)
	assert.Equal(t, err.Error(), pods[0].Err.Error())
}

// stripPodMetricsLabels makes a metrics API client see PodMetrics without
// metadata.labels, as metrics-server before v0.5.0 served them (and as
// any metrics.k8s.io implementation may: the API does not promise them).
// The server still selects by labelSelector against the pods' labels (the
// shared fake matches the labels it stores, as metrics-server matches the
// pods' labels in its informer), only the objects it returns lack them.
func stripPodMetricsLabels(next http.RoundTripper) http.RoundTripper {
	return roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := next.RoundTrip(r)
		if err != nil || resp.StatusCode != http.StatusOK {
			return resp, err
		}
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return nil, err
		}
		var obj map[string]any
		if json.Unmarshal(body, &obj) == nil {
			strip := func(o any) {
				if m, ok := o.(map[string]any); ok {
					if md, ok := m["metadata"].(map[string]any); ok {
						delete(md, "labels")
					}
				}
			}
			if items, ok := obj["items"].([]any); ok {
				for _, it := range items {
					strip(it)
				}
			} else {
				strip(obj)
			}
			body, _ = json.Marshal(obj)
		}
		resp.Body = io.NopCloser(bytes.NewReader(body))
		resp.ContentLength = int64(len(body))
		resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
		return resp, nil
	})
}

// TestBatchPodMetricsWithoutLabels: a metrics API that selects pods by
// their labels but does not copy the labels into its objects
// (metrics-server before v0.5.0; the API does not promise them) cannot be
// matched to selectors from a list, so the batch observes the pods with
// the single call and sees what it sees (found by a review: the batch saw
// no samples, and the HPA kept 4 replicas where it wanted 6).
func TestBatchPodMetricsWithoutLabels(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "1", "1Gi", false)}
	f.deployment("web", 4, cs)
	now := time.Now().Truncate(time.Second)
	f.busyPods(now, cs)
	mrc := metricsServer.Config()
	mrc.WrapTransport = stripPodMetricsLabels
	mc, err := metricsclient.NewForConfig(mrc)
	require.NoError(t, err)
	d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{f.ns}}, f.admin, kubernetes.WithMetricsClient(mc))
	require.NoError(t, err)

	web := f.id(kubernetes.ObjectDeployment, "web")
	metrics := []hpa.MetricSpec{cpuUtilization(50)}
	single, err := d.ObservePods(f.ctx, provider.Resource{ID: web}, metrics, now)
	require.NoError(t, err)
	require.Len(t, single.Metrics[0].Samples, 4)
	reads := []scaling.PodRead{{Target: provider.Resource{ID: web}, Metrics: metrics, Now: now}}
	require.NoError(t, d.ObservePodsBatch(f.ctx, reads))
	require.NoError(t, reads[0].Err)
	assert.Equal(t, single, reads[0].Observation, "the batch observes what ObservePods observes")
}

// TestBatchMetricsBoundedByTheContext: the workload reads of a
// QueryMetrics batch, made one by one, make no more calls at once than
// provider.WithBatchConcurrency allows (a detector Scan passes its
// ScanConfig.Concurrency: a host that set 1 to spare its API server got 8
// at once), and answer as the single calls do.
func TestBatchMetricsBoundedByTheContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	containers := []corev1.Container{container("app", "250m", "128Mi", false)}
	var reads []provider.MetricRead
	now := time.Now().Truncate(time.Minute)
	for i := range 6 {
		name := "web-" + strconv.Itoa(i)
		f.deployment(name, 1, containers)
		reads = append(reads, provider.MetricRead{Query: provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, name),
			Metric: provider.MetricCPU, Start: now.Add(-5 * time.Minute), End: now, Step: time.Minute}})
	}
	d, c := f.countingDriver(kubernetes.Config{})
	c.mostInFlight()
	require.NoError(t, d.QueryMetrics(provider.WithBatchConcurrency(f.ctx, 1), reads))
	assert.Equal(t, 1, c.mostInFlight(), "one call at a time")
	for i, r := range reads {
		one, err := d.QueryMetric(f.ctx, r.Query)
		if err != nil {
			require.Error(t, r.Err, "read %d", i)
			assert.Equal(t, err.Error(), r.Err.Error(), "read %d", i)
			continue
		}
		require.NoError(t, r.Err, "read %d", i)
		assert.Len(t, r.Series.Values, len(one.Values), "read %d", i)
	}
	require.NoError(t, d.QueryMetrics(f.ctx, reads))
	assert.LessOrEqual(t, c.mostInFlight(), 8, "eight at most by default")
}

// TestCounterCountsARetriedRequestOnce: a request that client-go sends
// again after a 429 with Retry-After (the API server's priority and
// fairness under load) is one request to the counter and the
// interceptor, so that the tests' exact counts do not move with the
// machine's load; two requests are still two.
func TestCounterCountsARetriedRequestOnce(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	answered := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		answered++
		n := answered
		mu.Unlock()
		if n%2 == 1 { // every first attempt: throttled
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"kind":"DeploymentList","apiVersion":"apps/v1","metadata":{},"items":[]}`)
	}))
	t.Cleanup(srv.Close)
	c := &counter{}
	ic := &interceptor{matches: func(*http.Request) bool { return true }}
	cs, err := clientset.NewForConfig(&rest.Config{Host: srv.URL, WrapTransport: func(rt http.RoundTripper) http.RoundTripper {
		ic.next = rt
		return c.wrap(ic)
	}})
	require.NoError(t, err)
	for range 2 {
		_, err = cs.AppsV1().Deployments("shop").List(t.Context(), metav1.ListOptions{})
		require.NoError(t, err)
	}
	mu.Lock()
	assert.Equal(t, 4, answered, "each request sent twice")
	mu.Unlock()
	assert.Equal(t, []string{"GET /apis/apps/v1/namespaces/shop/deployments", "GET /apis/apps/v1/namespaces/shop/deployments"}, c.take())
	assert.Equal(t, int32(2), ic.seen.Load())
}

// TestBatchListingOfVolumesWithinTheBound: a QueryMetrics batch that
// reads a workload before a PersistentVolume makes no more calls at once
// than provider.WithBatchConcurrency allows, its listing of the volumes
// included: the listing was made while the workload's single read, sent
// before it, was in flight, two calls at once under a bound of 1 (a
// detector Scan with Concurrency 1 over workloads and volumes). The
// workload's read is held until the listing starts, or a few seconds.
func TestBatchListingOfVolumesWithinTheBound(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	now := time.Now().UTC().Truncate(time.Minute)
	f.deployment("web", 1, []corev1.Container{container("app", "250m", "128Mi", false)})
	vol := f.volume("quiet", volumeSpec{source: f.csiDisk("vol-q"), claim: "data", phase: corev1.VolumeReleased, since: now.Add(-40 * 24 * time.Hour)})

	c := &counter{}
	listing := make(chan struct{})
	var once sync.Once
	gate := func(next http.RoundTripper) http.RoundTripper {
		return roundTripFunc(func(r *http.Request) (*http.Response, error) {
			switch {
			case r.Method == http.MethodGet && r.URL.Path == "/api/v1/persistentvolumes":
				once.Do(func() { close(listing) })
			case r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/namespaces/"+f.ns+"/deployments/web"):
				select { // the workload's read waits for the listing, if it comes meanwhile
				case <-listing:
				case <-time.After(3 * time.Second):
				}
			}
			return next.RoundTrip(r)
		})
	}
	rc := restConfig()
	rc.WrapTransport = func(rt http.RoundTripper) http.RoundTripper { return c.wrap(gate(rt)) }
	cs, err := clientset.NewForConfig(rc)
	require.NoError(t, err)
	d, err := kubernetes.New(kubernetes.Config{Namespaces: []string{}, PersistentVolumes: kubernetes.PersistentVolumeConfig{
		List: true, LabelSelector: volumeLabel + "=" + f.ns,
	}}, cs, kubernetes.WithMetricsClient(metricsClient()), kubernetes.WithClock(fixedClock(now)))
	require.NoError(t, err)

	start := now.Add(-time.Hour)
	reads := []provider.MetricRead{
		{Query: provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: provider.MetricCPU, Start: start, End: now, Step: time.Minute}},
		{Query: provider.Query{ResourceID: vol, Metric: provider.MetricDiskRead, Start: start, End: now, Step: time.Minute}},
	}
	c.mostInFlight()
	require.NoError(t, d.QueryMetrics(provider.WithBatchConcurrency(f.ctx, 1), reads))
	assert.Equal(t, 1, c.mostInFlight(), "one call at a time: %v", c.take())
	require.NoError(t, reads[0].Err)
	require.NoError(t, reads[1].Err, "the quiet disk's count")
}

package kubernetes_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/idlescale/idlescale/internal/promtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// cadvisor serves metrics in the shape the kubelet's cAdvisor endpoint
// exports them: per-container CPU counters growing at a fixed rate in
// cores, working-set gauges, the pod-level sums (container="") that
// queries must leave out, and a pod of the same name in another namespace.
func cadvisor(ns string, started time.Time) http.Handler {
	type ctr struct {
		ns, pod, container string
		cores              float64
		bytes              float64
	}
	ctrs := []ctr{
		{ns, "web-a", "app", 0.20, 80 << 20},
		{ns, "web-a", "proxy", 0.05, 20 << 20},
		{ns, "web-a", "", 0.25, 100 << 20}, // cAdvisor's pod-level sum
		{ns, "web-b", "app", 0.50, 156 << 20},
		{"elsewhere", "web-a", "app", 4, 4 << 30}, // same pod name, another namespace
	}
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		elapsed := time.Since(started).Seconds()
		var b strings.Builder
		b.WriteString("# TYPE container_cpu_usage_seconds_total counter\n")
		for _, c := range ctrs {
			fmt.Fprintf(&b, "container_cpu_usage_seconds_total{namespace=%q,pod=%q,container=%q} %g\n", c.ns, c.pod, c.container, 1000+c.cores*elapsed)
		}
		b.WriteString("# TYPE container_memory_working_set_bytes gauge\n")
		for _, c := range ctrs {
			fmt.Fprintf(&b, "container_memory_working_set_bytes{namespace=%q,pod=%q,container=%q} %g\n", c.ns, c.pod, c.container, c.bytes)
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(b.String()))
	})
}

// TestPrometheusUsage reads a Deployment's utilization from cAdvisor's
// metrics in a real Prometheus, through PrometheusUsage (one
// prometheus.Source per namespace, with PrometheusConfig's templates).
func TestPrometheusUsage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	prom := promtest.New(t, promtest.Options{Exporters: []promtest.Exporter{{Job: "kubelet-cadvisor", Handler: cadvisor(f.ns, time.Now())}}})
	cs := []corev1.Container{container("app", "400m", "448Mi", false), container("proxy", "100m", "64Mi", false)}
	f.deployment("web", 2, cs)
	labels := map[string]string{"app": "web"}
	f.pod("web-a", labels, cs, running(time.Now()))
	f.pod("web-b", labels, cs, running(time.Now()))
	f.pod("web-new", labels, cs, running(time.Now())) // not scraped yet: no data, not an error

	// Wait until both pods' counters are scraped; from then on, a rate
	// window that starts later sees only full data.
	require.NoError(t, prom.WaitFor(f.ctx, fmt.Sprintf(`container_cpu_usage_seconds_total{namespace=%q,container="app"}`, f.ns), 2, 90*time.Second))
	scraped := time.Now()

	const step, window = 5 * time.Second, 4 * time.Second // four scrapes per rate window
	base := prometheus.Config{Address: prom.URL, RateWindow: window, Resolution: time.Second}
	usage, err := kubernetes.NewPrometheusUsage(base)
	require.NoError(t, err)
	d := f.driver(kubernetes.Config{}, kubernetes.WithUsageSource(usage))
	query := func(m provider.Metric) provider.Series {
		t.Helper()
		end := time.Now().Truncate(step)
		q := provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, "web"), Metric: m, Start: end.Add(-3 * step), End: end, Step: step}
		s, err := d.QueryMetric(f.ctx, q)
		require.NoError(t, err)
		require.Equal(t, q.Steps(), s.Len())
		return s
	}
	// The last step of the grid is read through rate windows sampled every
	// second inside it, so its windows start up to step + window before its
	// end; wait on a ticker until they all start after the first scrape
	// (rate() underestimates a series that starts inside its window).
	deadline := time.NewTimer(90 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for time.Now().Truncate(step).Add(-step - window - time.Second).Before(scraped) {
		select {
		case <-deadline.C:
			t.Fatal("the clock did not move on in 90 s")
		case <-tick.C:
		}
	}
	read := func(m provider.Metric) float64 {
		t.Helper()
		s := query(m)
		_, v, ok := s.Last()
		require.True(t, ok, "%s: some step holds data: %v", m, s.Values)
		return v
	}
	// Requests per pod: 0.5 cores and 512 MiB; two pods have data.
	assert.InDelta(t, 0.75, read(kubernetes.MetricCPUUsage), 0.03, "0.25 + 0.5 cores; the pod-level sums and the other namespace left out")
	assert.InDelta(t, 0.75/1.0, read(provider.MetricCPU), 0.03)
	assert.InDelta(t, float64(256<<20), read(kubernetes.MetricMemoryUsage), 1)
	assert.InDelta(t, 256.0/1024, read(provider.MetricMemory), 1e-9)

	// The Source itself is usable directly for pods, with the same config.
	src, err := prometheus.New(kubernetes.PrometheusConfig(prom.URL, f.ns))
	require.NoError(t, err)
	pods, err := src.List(f.ctx, provider.Filter{})
	require.NoError(t, err)
	assert.Equal(t, []string{"web-a", "web-b"}, ids(pods))
}

func TestPrometheusConfig(t *testing.T) {
	t.Parallel()
	cfg := kubernetes.PrometheusConfig("http://prometheus:9090", "shop")
	assert.Equal(t, "pod", cfg.IDLabel)
	assert.Equal(t, provider.KindInstance, cfg.Kind)
	assert.Contains(t, cfg.Metrics[kubernetes.MetricCPUUsage], `namespace="shop",container!="",container!="POD"`)
	assert.Empty(t, cfg.Metrics[provider.MetricCPU], "the node-exporter default is removed")
	_, err := prometheus.New(cfg)
	require.NoError(t, err, "the templates pass the prometheus package's checks")
	all := kubernetes.PrometheusConfig("http://prometheus:9090", "")
	assert.NotContains(t, all.Targets, "namespace=")
	_, err = kubernetes.NewPrometheusUsage(prometheus.Config{})
	require.ErrorIs(t, err, provider.ErrInvalid, "an address is required")
}

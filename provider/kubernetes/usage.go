package kubernetes

import (
	"context"
	"fmt"
	"strconv"
	"sync"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// UsageSource reads the usage history of pods, for QueryMetric (see
// WithUsageSource).
//
// PodUsage returns the usage of the pod namespace/name on the grid of q
// (Start, Step, q.Steps() values, each reducing by q.Statistic the samples
// of its step; gaps are NaN; other values finite and ≥ 0, else
// QueryMetric fails with provider.ErrInvalid). q.ResourceID is the pod's resource ID and
// q.Metric is MetricCPUUsage (cores) or MetricMemoryUsage (bytes). A pod
// the source has no data for returns provider.ErrNotFound or a series of
// gaps. Implementations must be safe for concurrent use and honour ctx.
type UsageSource interface {
	PodUsage(ctx context.Context, namespace, name string, q provider.Query) (provider.Series, error)
}

// UsageSourceFunc adapts a function to a UsageSource.
type UsageSourceFunc func(ctx context.Context, namespace, name string, q provider.Query) (provider.Series, error)

// PodUsage calls f(ctx, namespace, name, q).
func (f UsageSourceFunc) PodUsage(ctx context.Context, namespace, name string, q provider.Query) (provider.Series, error) {
	return f(ctx, namespace, name, q)
}

var (
	_ UsageSource = UsageSourceFunc(nil)
	_ UsageSource = (*PrometheusUsage)(nil)
)

// PrometheusConfig returns a prometheus.Config (package
// github.com/idlescale/idlescale/provider/prometheus) that reads the
// cAdvisor metrics the kubelet exports, which Prometheus scrapes in most
// clusters (kube-prometheus, the Prometheus Helm chart), for the pods of
// namespace: resources are pods, identified by their name (IDLabel "pod"),
// and the metrics are
//
//	custom/cpu_cores     sum(rate(container_cpu_usage_seconds_total{namespace="NS",container!="",container!="POD",{{.Matchers}}}[{{.Range}}]))
//	custom/memory_bytes  sum(container_memory_working_set_bytes{namespace="NS",container!="",container!="POD",{{.Matchers}}})
//
// listed by the targets query
//
//	count by (namespace, pod) (last_over_time(container_cpu_usage_seconds_total{namespace="NS",container!="",container!="POD",{{.Matchers}}}[{{.Range}}]))
//
// (container!="" leaves out cAdvisor's pod-level sums, container!="POD" the
// pause container of older runtimes). The node-exporter defaults are
// removed. An empty namespace reads every namespace; pod names are unique
// only within a namespace, so use that only when they are unique in the
// cluster. Fields other than Address, IDLabel, Kind, Targets, Metrics and
// Activity keep the prometheus package's defaults and may be changed.
func PrometheusConfig(address, namespace string) prometheus.Config {
	sel := `container!="",container!="POD",{{.Matchers}}`
	if namespace != "" {
		sel = "namespace=" + strconv.Quote(namespace) + "," + sel
	}
	metrics := map[provider.Metric]string{
		MetricCPUUsage:    `sum(rate(container_cpu_usage_seconds_total{` + sel + `}[{{.Range}}]))`,
		MetricMemoryUsage: `sum(container_memory_working_set_bytes{` + sel + `})`,
	}
	for m := range prometheus.DefaultMetricTemplates() {
		metrics[m] = "" // remove the node-exporter default
	}
	activity := map[provider.ActivityKind]string{}
	for k := range prometheus.DefaultActivityTemplates() {
		activity[k] = ""
	}
	return prometheus.Config{
		Address:  address,
		IDLabel:  "pod",
		Kind:     provider.KindInstance,
		Targets:  `count by (namespace, pod) (last_over_time(container_cpu_usage_seconds_total{` + sel + `}[{{.Range}}]))`,
		Metrics:  metrics,
		Activity: activity,
	}
}

// PrometheusUsage is a UsageSource that reads cAdvisor's metrics from
// Prometheus through one prometheus.Source per namespace, each configured
// by PrometheusConfig over a base configuration. It keeps the sources of
// at most 1,024 namespaces (once full, any one is dropped for a new one:
// a cluster's namespaces come and go); one made again costs no request
// but, with base.Ranges RangesAuto, its build-information request. It is
// safe for concurrent use; make one with NewPrometheusUsage.
type PrometheusUsage struct {
	base prometheus.Config
	opts []prometheus.Option

	mu      sync.Mutex
	sources map[string]*prometheus.Source
}

// NewPrometheusUsage returns a usage source over the Prometheus server of
// base.Address. base's other fields (RateWindow, Lookback, Resolution,
// Ranges, MaxPoints, MaxAnswerBytes) and opts (a logger, a round tripper for
// authentication) apply to every namespace; its IDLabel, Kind, Targets,
// Metrics and Activity are replaced by PrometheusConfig's. It makes no
// call; an invalid base is an error matching provider.ErrInvalid.
func NewPrometheusUsage(base prometheus.Config, opts ...prometheus.Option) (*PrometheusUsage, error) {
	u := &PrometheusUsage{base: base, opts: opts, sources: map[string]*prometheus.Source{}}
	if _, err := u.source("default"); err != nil {
		return nil, fmt.Errorf("kubernetes: prometheus usage: %w", err)
	}
	return u, nil
}

// PodUsage reads the pod's MetricCPUUsage or MetricMemoryUsage through the
// namespace's prometheus.Source, asking for the pod by name.
func (u *PrometheusUsage) PodUsage(ctx context.Context, namespace, name string, q provider.Query) (provider.Series, error) {
	src, err := u.source(namespace)
	if err != nil {
		return provider.Series{}, err
	}
	id := q.ResourceID
	q.ResourceID = name
	s, err := src.QueryMetric(ctx, q)
	if err != nil {
		return provider.Series{}, err
	}
	s.ResourceID = id
	return s, nil
}

// maxUsageSources is how many namespaces' sources a PrometheusUsage
// keeps (about 7.5 KB each).
const maxUsageSources = 1024

// source returns the namespace's Source, made on its first read and kept
// (at most maxUsageSources of them: a namespace's is made again after
// another's took its place, as nothing in it depends on more than the
// namespace's name).
func (u *PrometheusUsage) source(namespace string) (*prometheus.Source, error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if s, ok := u.sources[namespace]; ok {
		return s, nil
	}
	if len(u.sources) >= maxUsageSources {
		for ns := range u.sources { // any one: namespaces come and go
			delete(u.sources, ns)
			break
		}
	}
	cfg := PrometheusConfig(u.base.Address, namespace)
	b := u.base
	b.IDLabel, b.Kind, b.Targets, b.Metrics, b.Activity = cfg.IDLabel, cfg.Kind, cfg.Targets, cfg.Metrics, cfg.Activity
	s, err := prometheus.New(b, u.opts...)
	if err != nil {
		return nil, err
	}
	u.sources[namespace] = s
	return s, nil
}

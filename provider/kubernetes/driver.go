package kubernetes

import (
	"fmt"
	"log/slog"
	"maps"
	"sync"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	metricsclient "k8s.io/metrics/pkg/client/clientset/versioned"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// Driver is the Kubernetes provider. It implements provider.Inventory,
// Scaler, MetricsSource and Resizer over Deployments, StatefulSets and their
// pods, and lists and reads PersistentVolumes (an ActivitySource of them)
// with Config.PersistentVolumes.List; Workloads returns its
// provider.Actuator. See the package doc for
// resource IDs, the annotation convention and the RBAC permissions.
//
// A Driver is safe for concurrent use. It keeps no copy of the cluster's
// objects: every call reads the API server. Its constructors make no API
// call and start no goroutines.
type Driver struct {
	cfg      Config
	selector labels.Selector
	// pvSelector is Config.PersistentVolumes.LabelSelector parsed.
	pvSelector labels.Selector
	clock      clock.Clock
	client     kubernetes.Interface
	metrics    metricsclient.Interface
	usage      UsageSource
	log        *slog.Logger
	// red redacts the errors the driver returns and the lines it logs:
	// by pattern, and the credentials of the rest.Config of NewForConfig.
	red *redact.Redactor

	resizeMu      sync.Mutex
	resizeChecked bool
	resizeOK      bool
}

var (
	_ provider.Inventory      = (*Driver)(nil)
	_ provider.Scaler         = (*Driver)(nil)
	_ provider.MetricsSource  = (*Driver)(nil)
	_ provider.Resizer        = (*Driver)(nil)
	_ provider.Namer          = (*Driver)(nil)
	_ provider.ActivitySource = (*Driver)(nil)
)

// New returns a driver configured by cfg (the zero Config means the
// defaults) over client, a clientset of the cluster (kubernetes.NewForConfig,
// or a wrapper of one). Without WithMetricsClient or WithUsageSource,
// QueryMetric returns ErrNoMetricsSource. It returns an error matching
// provider.ErrInvalid, naming the field, when cfg is invalid or client is
// nil.
func New(cfg Config, client kubernetes.Interface, opts ...Option) (*Driver, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kubernetes: new: %w", err)
	}
	if client == nil {
		return nil, fmt.Errorf("kubernetes: new: %w", provider.Invalid("client", nil, "is required"))
	}
	c := cfg.withDefaults()
	sel, _ := labels.Parse(c.LabelSelector)                     // checked by Validate
	pvSel, _ := labels.Parse(c.PersistentVolumes.LabelSelector) // checked by Validate
	d := &Driver{cfg: c, selector: sel, pvSelector: pvSel, client: client}
	for _, o := range opts {
		o(d)
	}
	if d.clock == nil {
		d.clock = clock.Real{}
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	} else {
		d.log = slog.New(d.red.Handler(d.log.Handler()))
	}
	return d, nil
}

// NewForConfig returns a driver over the cluster rc points at (from a
// kubeconfig with k8s.io/client-go/tools/clientcmd, or rest.InClusterConfig):
// it builds the clientset and the resource metrics clientset
// (metrics.k8s.io, served by metrics-server) from rc; options given after
// them replace them. rc's QPS and Burst apply to both (client-go's
// defaults are 5 and 10 requests per second).
func NewForConfig(cfg Config, rc *rest.Config, opts ...Option) (*Driver, error) {
	if rc == nil {
		return nil, fmt.Errorf("kubernetes: new: %w", provider.Invalid("rest_config", nil, "is required"))
	}
	red := restRedactor(rc)
	client, err := kubernetes.NewForConfig(rc)
	if err != nil {
		return nil, red.Error(fmt.Errorf("kubernetes: new: %w", err))
	}
	mc, err := metricsclient.NewForConfig(rc)
	if err != nil {
		return nil, red.Error(fmt.Errorf("kubernetes: new: metrics client: %w", err))
	}
	return New(cfg, client, append([]Option{WithMetricsClient(mc), withRedactor(red)}, opts...)...)
}

// restRedactor returns a Redactor of the credentials rc carries: its bearer
// token, its password and the userinfo of its host.
func restRedactor(rc *rest.Config) *redact.Redactor {
	secrets := []string{rc.BearerToken, rc.Password}
	secrets = append(secrets, redact.URLSecrets(rc.Host)...)
	return redact.New(secrets...)
}

// withRedactor sets the Redactor of the driver's errors and log lines
// (default: by pattern only).
func withRedactor(r *redact.Redactor) Option {
	return func(d *Driver) { d.red = r }
}

// WithMetricsClient sets the client of the resource metrics API
// (metrics.k8s.io/v1beta1 PodMetrics), which QueryMetric reads unless
// WithUsageSource is given, and the HPA inputs always read. Default: none
// (New), or one built from the rest.Config (NewForConfig).
func WithMetricsClient(mc metricsclient.Interface) Option {
	return func(d *Driver) { d.metrics = mc }
}

// WithUsageSource makes QueryMetric read pods' usage history from src
// instead of the resource metrics API, which only knows each pod's latest
// sample. The driver divides by the pods' requests and aggregates per
// workload. NewPrometheusUsage reads the history from cAdvisor's metrics in
// Prometheus. Default: none.
func WithUsageSource(src UsageSource) Option {
	return func(d *Driver) { d.usage = src }
}

// WithClock sets the clock that says now: which steps of a
// PersistentVolume's disk counts are over (see the package doc's
// "PersistentVolumes"). Default (and nil): clock.Real.
func WithClock(c clock.Clock) Option {
	return func(d *Driver) { d.clock = c }
}

// Name returns the provider name, Config.Name (default "kubernetes").
func (d *Driver) Name() string { return d.cfg.Name }

// Config returns a copy of the driver's configuration with the defaults
// filled in (New keeps a copy of the Config it is given, too).
func (d *Driver) Config() Config {
	c := d.cfg
	c.Namespaces = append([]string(nil), c.Namespaces...)
	c.Workloads = maps.Clone(c.Workloads)
	c.PersistentVolumes.MonthlyPrices = maps.Clone(c.PersistentVolumes.MonthlyPrices)
	return c
}

// inScope reports whether namespace is one the driver sees.
func (d *Driver) inScope(namespace string) bool {
	if len(d.cfg.Namespaces) == 0 {
		return true
	}
	for _, ns := range d.cfg.Namespaces {
		if ns == namespace {
			return true
		}
	}
	return false
}

// namespaces returns the namespaces to list: the configured ones, or ""
// (all).
func (d *Driver) namespaces() []string {
	if len(d.cfg.Namespaces) == 0 {
		return []string{""}
	}
	return d.cfg.Namespaces
}

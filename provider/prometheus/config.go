package prometheus

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// Defaults of Config.
const (
	// DefaultIDLabel is the label whose value is a resource's ID.
	DefaultIDLabel = "instance"
	// DefaultLookback is how far back the targets query looks.
	DefaultLookback = 10 * time.Minute
	// DefaultRateWindow is the {{.Range}} of metric templates.
	DefaultRateWindow = 5 * time.Minute
	// DefaultResolution is the step of the subqueries that sample a
	// derived expression inside each step of the result.
	DefaultResolution = time.Minute
	// DefaultMaxPoints is the most points one range query asks for; it is
	// under Prometheus's limit of 11,000.
	DefaultMaxPoints = 11000
	// DefaultMaxAnswerBytes is the largest answer read, 64 MiB.
	DefaultMaxAnswerBytes = 64 << 20
)

// Config is the driver's policy: where the server is and how the library's
// metrics, activity and resources map onto PromQL. The zero value of every
// field but Address means its default. A host may load it from JSON.
type Config struct {
	// Address is the server's base URL, such as "http://prometheus:9090".
	// It may carry basic-auth credentials ("http://user:password@host");
	// errors and log lines show them masked. Redirects that keep the
	// request's method (307, 308) are followed; one that would turn the
	// POSTed query into a GET without it (301, 302, 303, such as http://
	// moved to https://) fails the call with an error naming where it
	// leads: use that address instead. Required.
	Address string `json:"address"`

	// Metrics maps a metric onto a PromQL template (see TemplateData).
	// Entries replace the defaults of DefaultMetricTemplates; an entry
	// with an empty template removes that default. A metric without a
	// template returns provider.ErrUnsupported. Default: the
	// node-exporter templates.
	Metrics map[provider.Metric]string `json:"metrics,omitempty"`
	// Activity maps an activity kind onto a PromQL template that returns
	// the count of events in the window {{.Range}}, like
	// sum(increase(COUNTER{ {{.Matchers}} }[{{.Range}}])). Entries replace
	// the defaults of DefaultActivityTemplates; an empty template removes
	// one. Default: api_calls and processes.
	Activity map[provider.ActivityKind]string `json:"activity,omitempty"`
	// Targets is the template of the instant query that lists resources:
	// one series per target, carrying IDLabel, whose value is > 0 when the
	// target is up. It selects them with {{.Matchers}} or {{.Selector}}
	// ({{.ID}} and {{.Labels}} are empty: there is no resource yet).
	// Default: DefaultTargets.
	Targets string `json:"targets,omitempty"`

	// IDLabel is the label whose value is the resource ID. Default:
	// "instance".
	IDLabel string `json:"id_label,omitempty"`
	// Kind is the kind of every listed resource. Default:
	// provider.KindInstance.
	Kind provider.Kind `json:"kind,omitempty"`
	// RegionLabel, EnvironmentLabel, RoleLabel, OwnerLabel and NameLabel
	// name the target labels copied into Resource.Region, Environment,
	// Role, Owner and Name. Defaults: "region", "environment", "role",
	// "owner" and "" (no name).
	RegionLabel      string `json:"region_label,omitempty"`
	EnvironmentLabel string `json:"environment_label,omitempty"`
	RoleLabel        string `json:"role_label,omitempty"`
	OwnerLabel       string `json:"owner_label,omitempty"`
	NameLabel        string `json:"name_label,omitempty"`

	// Lookback is the {{.Range}} of the targets query: a target scraped
	// within it is listed. Default: 10m.
	Lookback time.Duration `json:"lookback,omitempty"`
	// RateWindow is the {{.Range}} of metric templates, the window of
	// their rate() calls. Keep it at least four scrape intervals.
	// Default: 5m.
	RateWindow time.Duration `json:"rate_window,omitempty"`
	// Resolution is the step of the subquery that samples a derived
	// expression (anything but a bare selector) inside each step of a
	// query; it is lowered to the query's step when that is shorter.
	// Default: 1m.
	Resolution time.Duration `json:"resolution,omitempty"`
	// MaxPoints is the most points per range query; longer queries are
	// split. Must be at most 11,000, Prometheus's limit. Default: 11,000.
	MaxPoints int `json:"max_points,omitempty"`
	// MaxAnswerBytes is the largest answer the driver reads, in bytes
	// (after decompression); a larger one is refused with ErrBadResult
	// once that much is read, before it is decoded: an answer that large
	// comes from a template that returns many series (every CPU, every
	// pod of a big server), which would fail anyway, and read whole it
	// takes the host's memory first. One series of 11,000 points is
	// about 0.3 MiB; the targets answer takes about 0.5 KiB a target.
	// Default: 64 MiB.
	MaxAnswerBytes int64 `json:"max_answer_bytes,omitempty"`
	// Ranges says whether the server's range selectors include their
	// start: RangesClosed for Prometheus 2.x ([t−r, t]), RangesLeftOpen
	// for Prometheus 3.x ((t−r, t]). The driver sizes its windows so that
	// each step holds exactly its own samples either way. Default
	// (RangesAuto): ask the server's build information once and read its
	// version: Prometheus is left-open from 3.0, Grafana Mimir (which
	// says so) from 2.15, Thanos (a version 0.x) from 0.38; use
	// RangesClosed, with a warning logged, when the server has no build
	// information or a version that does not tell (Thanos 0.37, a Mimir
	// weekly build, another application); a call that gets a server error
	// instead fails, and the next asks again. Set it for a server that
	// answers with another's version, or none.
	Ranges Ranges `json:"ranges,omitempty"`
	// AcceptWarnings reads an answer that carries warnings as complete.
	// A warning is how Prometheus, Thanos (partial response) and other
	// servers say that an answer may lack data: a remote store or a
	// querier that failed, a series limit that cut it. Read as complete,
	// such an answer undercounts load, and an undercounted CPU reads as
	// idle. Default: false: such an answer fails the call with
	// ErrPartialResult; its warnings are still logged and passed to
	// WithWarningFunc. Infos (Prometheus ≥ 2.50) never fail a call.
	AcceptWarnings bool `json:"accept_warnings,omitempty"`
}

// Ranges is how a server's range selectors treat their start. The set is
// closed; the zero value RangesAuto means "ask the server".
type Ranges string

// The range semantics.
const (
	RangesAuto     Ranges = ""          // detect from the server's version
	RangesClosed   Ranges = "closed"    // [t−r, t]: Prometheus 2.x
	RangesLeftOpen Ranges = "left_open" // (t−r, t]: Prometheus 3.x
)

// Validate returns a *provider.InvalidError naming r unless r is one of
// the values above.
func (r Ranges) Validate() error {
	switch r {
	case RangesAuto, RangesClosed, RangesLeftOpen:
		return nil
	}
	return provider.Invalid("ranges", string(r), `must be "" (auto), "closed" or "left_open"`)
}

// String returns the value, such as "closed" ("" for RangesAuto).
func (r Ranges) String() string { return string(r) }

// MarshalText returns the value.
func (r Ranges) MarshalText() ([]byte, error) { return []byte(r), nil }

// UnmarshalText sets r from text: a value Validate accepts; any other is a
// *provider.InvalidError naming it.
func (r *Ranges) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(r, text, Ranges.Validate)
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	c.Targets = cmpOr(c.Targets, DefaultTargets)
	c.IDLabel = cmpOr(c.IDLabel, DefaultIDLabel)
	c.Kind = cmpOr(c.Kind, provider.KindInstance)
	c.RegionLabel = cmpOr(c.RegionLabel, "region")
	c.EnvironmentLabel = cmpOr(c.EnvironmentLabel, "environment")
	c.RoleLabel = cmpOr(c.RoleLabel, "role")
	c.OwnerLabel = cmpOr(c.OwnerLabel, "owner")
	c.Lookback = cmpOr(c.Lookback, DefaultLookback)
	c.RateWindow = cmpOr(c.RateWindow, DefaultRateWindow)
	c.Resolution = cmpOr(c.Resolution, DefaultResolution)
	c.MaxPoints = cmpOr(c.MaxPoints, DefaultMaxPoints)
	c.MaxAnswerBytes = cmpOr(c.MaxAnswerBytes, DefaultMaxAnswerBytes)
	return c
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Validate checks the address, labels, durations and limits, and compiles
// every template (see TemplateData), returning an error matching
// provider.ErrInvalid that names the first wrong field.
func (c Config) Validate() error {
	_, err := c.compile()
	return err
}

// compiled is a validated Config with its templates parsed.
type compiled struct {
	cfg      Config
	metrics  map[provider.Metric]*tmpl
	activity map[provider.ActivityKind]*tmpl
	targets  *tmpl
}

func (c Config) compile() (*compiled, error) {
	u, err := url.Parse(c.Address)
	if c.Address == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The address may carry a password: the error shows it masked.
		return nil, provider.Invalid("config.address", redact.URL(c.Address), "must be an http:// or https:// URL with a host")
	}
	d := c.withDefaults()
	for _, l := range []struct{ field, v string }{
		{"config.id_label", d.IDLabel}, {"config.region_label", d.RegionLabel},
		{"config.environment_label", d.EnvironmentLabel}, {"config.role_label", d.RoleLabel},
		{"config.owner_label", d.OwnerLabel}, {"config.name_label", c.NameLabel},
	} {
		if l.v != "" && !validLabelName(l.v) {
			return nil, provider.Invalid(l.field, l.v, "must be a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*)")
		}
	}
	if err := d.Kind.Validate(); err != nil {
		return nil, provider.Within("config", err)
	}
	for _, f := range []struct {
		field string
		v     time.Duration
	}{{"config.lookback", d.Lookback}, {"config.rate_window", d.RateWindow}, {"config.resolution", d.Resolution}} {
		if f.v < time.Millisecond || f.v%time.Millisecond != 0 {
			return nil, provider.Invalid(f.field, f.v, "must be a positive whole number of milliseconds")
		}
	}
	if err := d.Ranges.Validate(); err != nil {
		return nil, provider.Within("config", err)
	}
	if d.MaxAnswerBytes < 1 {
		return nil, provider.Invalid("config.max_answer_bytes", d.MaxAnswerBytes, "must be ≥ 0 (0: the default, 64 MiB)")
	}
	if d.MaxPoints < 1 || d.MaxPoints > DefaultMaxPoints {
		return nil, provider.Invalid("config.max_points", d.MaxPoints, fmt.Sprintf("must lie in [1, %d]", DefaultMaxPoints))
	}
	out := &compiled{cfg: d, metrics: map[provider.Metric]*tmpl{}, activity: map[provider.ActivityKind]*tmpl{}}
	metrics := merge(DefaultMetricTemplates(), c.Metrics)
	for _, m := range sortedKeys(metrics) {
		field := "config.metrics[" + string(m) + "]"
		if err := m.Validate(); err != nil {
			return nil, provider.Within(field, err)
		}
		t, err := compile(field, metrics[m], d.IDLabel)
		if err != nil {
			return nil, err
		}
		out.metrics[m] = t
	}
	activity := merge(DefaultActivityTemplates(), c.Activity)
	for _, k := range sortedKeys(activity) {
		field := "config.activity[" + string(k) + "]"
		if err := k.Validate(); err != nil {
			return nil, provider.Within("config", err)
		}
		t, err := compile(field, activity[k], d.IDLabel)
		if err != nil {
			return nil, err
		}
		out.activity[k] = t
	}
	if out.targets, err = compileTargets("config.targets", d.Targets, d.IDLabel); err != nil {
		return nil, err
	}
	return out, nil
}

func sortedKeys[K ~string, V any](m map[K]V) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func validLabelName(s string) bool {
	for i, r := range s {
		ok := r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || i > 0 && r >= '0' && r <= '9'
		if !ok {
			return false
		}
	}
	return s != ""
}

// Warning is a warning or info message that Prometheus attached to an
// answer (for example a partial result from a remote store).
type Warning struct {
	// Query is the PromQL that was sent.
	Query string
	// Warnings are the answer's warnings.
	Warnings []string
	// Infos are the answer's info annotations (Prometheus ≥ 2.50).
	Infos []string
}

// Option configures wiring that is not policy.
type Option func(*options)

type options struct {
	logger    *slog.Logger
	rt        http.RoundTripper
	onWarning func(Warning)
}

// WithLogger logs warnings from the server and skipped targets at Warn
// level, with credentials masked (see Source). Default: discard.
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.logger = l } }

// WithRoundTripper sets the HTTP transport (for authentication, TLS or
// tests). Default: http.DefaultTransport.
func WithRoundTripper(rt http.RoundTripper) Option { return func(o *options) { o.rt = rt } }

// WithWarningFunc calls f with every warning and info the server attaches
// to an answer, and with the non-finite values the driver turned into
// gaps: one warning for each query's answer that held any, counting them
// and naming the first and the last step (a day of NaN is one warning,
// not one for each step). f is called synchronously from the querying goroutine and must be
// safe for concurrent use. Default: none (warnings are only logged).
func WithWarningFunc(f func(Warning)) Option { return func(o *options) { o.onWarning = f } }

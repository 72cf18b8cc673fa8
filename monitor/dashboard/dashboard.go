package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety/approval"
)

// The Config defaults.
const (
	DefaultTitle        = "idlescale"
	DefaultRecentEvents = 50
	DefaultChartWindow  = 24 * time.Hour
)

// Config configures a Dashboard, as a host loads it from JSON or YAML. The
// zero value means the defaults.
type Config struct {
	// Title heads the page. Default: "idlescale".
	Title string `json:"title,omitempty" yaml:"title,omitempty"`
	// RecentEvents is how many of the newest events the page lists. Must
	// be ≥ 0. Default (0): 50.
	RecentEvents int `json:"recent_events,omitempty" yaml:"recent_events,omitempty"`
	// ChartWindow is the time the savings and cost charts cover, ending
	// now. Must be ≥ 0. Default (0): 24h.
	ChartWindow time.Duration `json:"chart_window,omitempty" yaml:"chart_window,omitempty"`
	// Refresh makes the page reload itself this often, in whole seconds
	// (a fraction is dropped). Must be 0 or in [1s, MaxRefresh]. Default
	// (0): never (reload by hand).
	Refresh time.Duration `json:"refresh,omitempty" yaml:"refresh,omitempty"`
}

// MaxRefresh is the longest Config.Refresh: the longest whole-second delay
// a browser's timer waits (2^31−1 ms); it fires at once for a longer one.
const MaxRefresh = (1<<31 - 1) / 1000 * time.Second

// Validate returns a *provider.InvalidError naming a negative field, or a
// refresh under a second or above MaxRefresh.
func (c Config) Validate() error {
	switch {
	case c.RecentEvents < 0:
		return provider.Invalid("recent_events", c.RecentEvents, "must be ≥ 0; 0 means the default 50")
	case c.ChartWindow < 0:
		return provider.Invalid("chart_window", c.ChartWindow, "must be ≥ 0; 0 means the default 24h")
	case c.Refresh < 0:
		return provider.Invalid("refresh", c.Refresh, "must be ≥ 0")
	case c.Refresh > 0 && c.Refresh < time.Second:
		return provider.Invalid("refresh", c.Refresh, "must be 0 (never) or at least 1s: the page reloads in whole seconds")
	case c.Refresh > MaxRefresh:
		return provider.Invalid("refresh", c.Refresh, "must be at most "+MaxRefresh.String()+
			": a browser's timer fires at once for a longer delay, and the page would reload without pause")
	}
	return nil
}

func (c Config) withDefaults() Config {
	if c.Title == "" {
		c.Title = DefaultTitle
	}
	if c.RecentEvents == 0 {
		c.RecentEvents = DefaultRecentEvents
	}
	if c.ChartWindow == 0 {
		c.ChartWindow = DefaultChartWindow
	}
	return c
}

// Events is where the dashboard reads events: *monitor.Log implements it.
// Query must be safe for concurrent use. When it also has QueryChanges,
// as *monitor.Log does, the report covers the events in memory and takes
// the executed changes older than them into its realised savings and
// capacity (monitor.WithChanges).
type Events interface {
	Query(q monitor.Query) ([]monitor.Event, error)
}

var _ Events = (*monitor.Log)(nil)

// Alerts lists alerts: *alert.Alerter implements it.
type Alerts interface {
	Alerts() []alert.Alert
}

var _ Alerts = (*alert.Alerter)(nil)

// Approvals is the approval workflow the dashboard shows and, with an
// Authorizer, drives: *approval.Manager implements it. Approve and Deny
// return errors matching approval.ErrUnknown for an unknown ID and
// approval.ErrTransition (or ErrSelfApproval) for a request that cannot
// move.
type Approvals interface {
	List(ctx context.Context, f approval.Filter) ([]approval.Request, error)
	Approve(ctx context.Context, id, approver string, now time.Time, comment string) (approval.Request, error)
	Deny(ctx context.Context, id, approver string, now time.Time, reason string) (approval.Request, error)
}

var _ Approvals = (*approval.Manager)(nil)

// Authorizer decides who may approve or deny from the dashboard.
// Authorize returns the identity of the person making r (from the host's
// session, a header set by its authenticating proxy, a client
// certificate), or an error to refuse r (403). It must be safe for
// concurrent use and not retain r.
type Authorizer interface {
	Authorize(r *http.Request) (approver string, err error)
}

// AuthorizerFunc adapts a function to an Authorizer.
type AuthorizerFunc func(r *http.Request) (string, error)

// Authorize calls f(r).
func (f AuthorizerFunc) Authorize(r *http.Request) (string, error) { return f(r) }

var _ Authorizer = AuthorizerFunc(nil)

// Charts supplies charts of the host's own (utilization from its metrics,
// capacity against demand) drawn before the dashboard's (idle savings,
// safety decisions, realised savings, cost). It must be safe for
// concurrent use and honour ctx.
type Charts interface {
	Charts(ctx context.Context, now time.Time) ([]report.Chart, error)
}

// ChartsFunc adapts a function to Charts.
type ChartsFunc func(ctx context.Context, now time.Time) ([]report.Chart, error)

// Charts calls f(ctx, now).
func (f ChartsFunc) Charts(ctx context.Context, now time.Time) ([]report.Chart, error) {
	return f(ctx, now)
}

var _ Charts = ChartsFunc(nil)

// Option wires a collaborator into a Dashboard.
type Option func(*Dashboard)

// WithAlerts shows a's alerts. Default: none.
func WithAlerts(a Alerts) Option { return func(d *Dashboard) { d.alerts = a } }

// WithApprovals shows the pending approval requests of a (and, with an
// Authorizer, lets people approve and deny them). Default: none.
func WithApprovals(a Approvals) Option { return func(d *Dashboard) { d.approvals = a } }

// WithAuthorizer turns on approve and deny, for the people a names.
// Default: none, read-only.
func WithAuthorizer(a Authorizer) Option { return func(d *Dashboard) { d.auth = a } }

// WithInventory gives the fleet: resource names, its size, and restarts for
// realised savings. Default: none.
func WithInventory(inv provider.Inventory) Option { return func(d *Dashboard) { d.inv = inv } }

// WithCharts adds the host's charts. Default: none.
func WithCharts(c Charts) Option { return func(d *Dashboard) { d.charts = c } }

// WithCSRFSecret sets the secret the CSRF token is derived from, so that
// several replicas behind one address accept each other's pages. Default:
// 32 random bytes per Dashboard.
func WithCSRFSecret(secret []byte) Option {
	return func(d *Dashboard) { d.secret = slices.Clone(secret) }
}

// WithClock sets the clock for now (reports, approvals). Default (also
// for nil): the real clock. New refuses a nil pointer (a nil *clock.Mock).
func WithClock(c clock.Clock) Option { return func(d *Dashboard) { d.clock = c } }

// WithLogger sets the logger. Default: discard.
func WithLogger(l *slog.Logger) Option { return func(d *Dashboard) { d.log = l } }

// Dashboard is the monitor's web page and JSON API, an http.Handler. Make
// one with New.
type Dashboard struct {
	cfg       Config
	events    Events
	alerts    Alerts
	approvals Approvals
	auth      Authorizer
	inv       provider.Inventory
	charts    Charts
	clock     clock.Clock
	log       *slog.Logger
	secret    []byte
	token     string
	mux       *http.ServeMux
	page      *template.Template
}

//go:embed assets
var assets embed.FS

var _ http.Handler = (*Dashboard)(nil)

// New returns a Dashboard for cfg reading events (required, usually the
// *monitor.Log). It returns a *provider.InvalidError naming the field when
// cfg is invalid, events is nil, a CSRF secret is shorter than 16 bytes,
// or an Authorizer is given without Approvals. It starts no goroutine.
func New(cfg Config, events Events, opts ...Option) (*Dashboard, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if check.Nil(events) {
		return nil, provider.Invalid("events", nil, "is required")
	}
	d := &Dashboard{cfg: cfg.withDefaults(), events: events}
	for _, o := range opts {
		o(d)
	}
	if check.Nil(d.alerts) {
		d.alerts = nil
	}
	if check.Nil(d.approvals) {
		d.approvals = nil
	}
	if check.Nil(d.auth) {
		d.auth = nil
	}
	if check.Nil(d.inv) {
		d.inv = nil
	}
	if check.Nil(d.charts) {
		d.charts = nil
	}
	if d.auth != nil && d.approvals == nil {
		return nil, provider.Invalid("authorizer", nil, "needs approvals to act on (WithApprovals)")
	}
	switch {
	case d.secret == nil:
		d.secret = make([]byte, 32)
		_, _ = rand.Read(d.secret) // never fails (crypto/rand)
	case len(d.secret) < 16:
		return nil, provider.Invalid("csrf_secret", len(d.secret), "must be at least 16 bytes")
	}
	mac := hmac.New(sha256.New, d.secret)
	mac.Write([]byte("idlescale dashboard csrf v1"))
	d.token = hex.EncodeToString(mac.Sum(nil))
	switch {
	case d.clock == nil:
		d.clock = clock.Real{}
	case check.Nil(d.clock): // a nil *clock.Mock: not the default, and would panic
		return nil, provider.Invalid("clock", fmt.Sprintf("%T", d.clock), "must not be a nil pointer")
	}
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.page = template.Must(template.New("page.html.tmpl").Funcs(report.Funcs()).Funcs(template.FuncMap{"change": change, "pathEscape": url.PathEscape}).ParseFS(assets, "assets/page.html.tmpl"))
	d.routes()
	return d, nil
}

func (d *Dashboard) routes() {
	m := http.NewServeMux()
	static, _ := fs.Sub(assets, "assets/static")
	m.HandleFunc("GET /{$}", d.servePage)
	m.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	m.HandleFunc("GET /api/events", d.serveEvents)
	m.HandleFunc("GET /api/report", d.serveReport)
	m.HandleFunc("GET /api/idle", d.serveIdle)
	m.HandleFunc("GET /api/alerts", d.serveAlerts)
	m.HandleFunc("GET /api/approvals", d.serveApprovals)
	m.HandleFunc("GET /api/charts", d.serveChartNames)
	m.HandleFunc("GET /api/charts/{name}", d.serveChartJS)
	m.HandleFunc("GET /charts/{file}", d.serveChartSVG)
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		// JSON, as every refusal (net/http's is plain text).
		writeError(w, http.StatusForbidden, fmt.Errorf("%w: cross-origin request (Sec-Fetch-Site or Origin)", ErrForbidden))
	}))
	m.Handle("POST /api/approvals/{id}/{verb}", cop.Handler(http.HandlerFunc(d.serveDecide)))
	d.mux = m
}

// ServeHTTP implements http.Handler.
func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "+
		"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	if _, pattern := d.mux.Handler(r); pattern == "" || strings.HasPrefix(pattern, "GET /static/") {
		// net/http answers an unknown path, a method no route takes and
		// a missing static file in plain text: JSON, as every error.
		w = &jsonErrors{ResponseWriter: w, r: r}
	}
	d.mux.ServeHTTP(w, r)
}

// jsonErrors is a ResponseWriter that turns an error net/http writes in
// plain text (status 400 or more: a 404, a 405) into the dashboard's JSON
// error, keeping its status and headers (a 405's Allow).
type jsonErrors struct {
	http.ResponseWriter
	r      *http.Request
	failed bool // the JSON error is written: net/http's text is dropped
}

// WriteHeader writes the JSON error for a status of 400 or more, else
// the status.
func (w *jsonErrors) WriteHeader(status int) {
	if status < http.StatusBadRequest || w.failed {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.failed = true
	w.Header().Del("Content-Length")
	msg := "dashboard: " + strings.ToLower(http.StatusText(status)) + ": " + w.r.Method + " " + w.r.URL.Path
	if allow := w.Header().Get("Allow"); status == http.StatusMethodNotAllowed && allow != "" {
		msg += " (allowed: " + allow + ")"
	}
	writeError(w.ResponseWriter, status, errors.New(msg))
}

// Write drops net/http's text after a JSON error.
func (w *jsonErrors) Write(p []byte) (int, error) {
	if w.failed {
		return len(p), nil
	}
	return w.ResponseWriter.Write(p)
}

// Unwrap returns the ResponseWriter underneath, for http.ResponseController.
func (w *jsonErrors) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// ReadOnly reports whether the dashboard refuses every change (no
// Authorizer).
func (d *Dashboard) ReadOnly() bool { return d.auth == nil }

package metrics

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
)

// DefaultNamespace is Config.Namespace's default.
const DefaultNamespace = "idlescale"

// DefaultScrapeTimeout is Config.ScrapeTimeout's default.
const DefaultScrapeTimeout = 2 * time.Second

// UnnamedRule is the rule label of idlescale_blocks_total for a block that
// names no rule: a scaling step refused by a host's own scaling.Gate, or a
// reaper record blocked before the safety gate was asked (its approval
// denied); report.UnnamedRule, as a report counts it.
const UnnamedRule = report.UnnamedRule

// DefaultVerdictTTL is Config.VerdictTTL's default: three runs of a reaper
// at its default interval (reaper.DefaultInterval, 1h).
const DefaultVerdictTTL = 3 * reaper.DefaultInterval

// Config configures a Collector. The zero value means the defaults.
type Config struct {
	// Namespace prefixes every metric name. Default: "idlescale".
	Namespace string `json:"namespace,omitempty" yaml:"namespace,omitempty"`
	// ScrapeTimeout bounds reading the rate-limit budgets during one
	// scrape. Must be ≥ 0. Default (0): 2s.
	ScrapeTimeout time.Duration `json:"scrape_timeout,omitempty" yaml:"scrape_timeout,omitempty"`
	// VerdictTTL is how far a resource's latest verdict may fall behind
	// the newest run that ended before the resource is taken for gone:
	// one that vanished without a terminate the Collector saw (deleted by
	// hand or by another tool, no longer selected by the reaper's
	// filter) leaves the idle count, and the de-duplication keys of its
	// decisions go, at the first scrape after a run ended (a KindRun
	// event done, as monitor.ReaperObserver writes at the end of each
	// run of reaper.Run; a failed run does not count) whose time is
	// newer than its verdict by more than VerdictTTL; while no run event
	// came, after a verdict of another resource is newer than its own by
	// more than VerdictTTL. A run of the reaper judges every resource it
	// lists at or after the run's time, so a resource every run lists is
	// never dropped, whatever the interval, nor, once a run event came,
	// in the middle of a run that has not reached it yet (without run
	// events, a scrape during a run longer apart than VerdictTTL from the
	// previous one drops the resources it has not reached until it does);
	// and nothing is dropped while no run happens. The newest verdict
	// counts up to the Collector's clock (WithClock), so that one dated
	// ahead (a host's clock) drops nothing early. A verdict is aged
	// behind the runs of its own reaper (the events' Actor, as
	// monitor.WithObserverActor names it; behind any reaper's while its
	// own has none), so a host whose reapers run at different intervals
	// (hourly for instances, daily for volumes) names each reaper's
	// observer, or else sets VerdictTTL to a few of the longest
	// interval. Decision keys
	// are dropped by the same age, behind the newest event: a decision
	// recorded twice, once that much later, is counted twice. Must be
	// ≥ 0. Default (0): 3h (DefaultVerdictTTL). A Collector no one
	// scrapes drops them as well, when it is written, once every
	// VerdictTTL of event time: its memory follows the fleet, not time.
	VerdictTTL time.Duration `json:"verdict_ttl,omitempty" yaml:"verdict_ttl,omitempty"`
}

// Validate returns a *provider.InvalidError naming a wrong field: a
// namespace that is not a valid metric name prefix, or a negative timeout
// or TTL.
func (c Config) Validate() error {
	if c.Namespace != "" && !validName(c.Namespace) {
		return provider.Invalid("namespace", c.Namespace, "must match [a-zA-Z_][a-zA-Z0-9_]*")
	}
	if c.ScrapeTimeout < 0 {
		return provider.Invalid("scrape_timeout", c.ScrapeTimeout, "must be ≥ 0; 0 means the default 2s")
	}
	if c.VerdictTTL < 0 {
		return provider.Invalid("verdict_ttl", c.VerdictTTL, "must be ≥ 0; 0 means the default 3h")
	}
	return nil
}

func validName(s string) bool {
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// BudgetSource reports rate-limit budgets: *ratelimit.Limiter implements
// it. Stats is called once per scrape, with a context bounded by
// Config.ScrapeTimeout.
type BudgetSource interface {
	Stats(ctx context.Context) (ratelimit.Stats, error)
}

var _ BudgetSource = (*ratelimit.Limiter)(nil)

// AlertSource lists alerts: *alert.Alerter implements it.
type AlertSource interface {
	Firing() []alert.Alert
}

var _ AlertSource = (*alert.Alerter)(nil)

// Option wires a collaborator into a Collector.
type Option func(*Collector)

// WithBudgets exports the events left in every rate-limit bucket of b.
// Default: none; a nil b (a nil *ratelimit.Limiter too) means none.
func WithBudgets(b BudgetSource) Option { return func(c *Collector) { c.budgets = b } }

// WithAlerts exports the number of firing alerts of a, by severity.
// Default: none; a nil a (a nil *alert.Alerter too) means none.
func WithAlerts(a AlertSource) Option { return func(c *Collector) { c.alerts = a } }

// WithClock sets the clock whose now the realised savings are measured up
// to at a scrape, and which bounds the newest verdict and event for
// Config.VerdictTTL. Default (also for nil): the real clock. New refuses a
// nil pointer (a nil *clock.Mock).
func WithClock(cl clock.Clock) Option { return func(c *Collector) { c.clock = cl } }

// WithLogger sets the logger for sources that fail during a scrape and for
// changes that arrive older than the ones already folded (see
// report.Ledger). Default: discard.
func WithLogger(l *slog.Logger) Option { return func(c *Collector) { c.log = l } }

// Collector is a prometheus.Collector of the monitor's metrics (see the
// package doc) and a monitor.Sink that feeds it. Register it on the host's
// registry. It is safe for concurrent use: the Log writes to it while
// Prometheus scrapes it. Make one with New.
type Collector struct {
	cfg     Config
	budgets BudgetSource
	alerts  AlertSource
	clock   clock.Clock
	log     *slog.Logger

	events, decisions, actions, blocks                      *prometheus.CounterVec
	idleDesc, forecastDesc, savingsDesc, budgetDesc, alertD *prometheus.Desc
	noDataDesc                                              *prometheus.Desc

	mu        sync.Mutex
	verdicts  map[string]string       // resource → latest verdict outcome
	verdictAt map[string]time.Time    // resource → its time
	verdictBy map[string]string       // resource → its Actor (the reaper that judged it)
	forecast  map[forecastKey]float64 // target and strategy → latest forecast error
	noData    map[string]bool         // targets (as labels) whose decisions lack data
	// forecastAt and dataAt are the times of the latest forecast event of
	// each target and strategy and of the latest KindScalingData event of
	// each target, including those whose state left the gauge (unknown,
	// recovered): an older event arriving late changes no gauge. Each
	// holds at most minGoneMemory keys out of the gauge; the oldest are
	// forgotten first.
	forecastAt map[forecastKey]time.Time
	dataAt     map[string]time.Time
	savings    report.Ledger                   // executed changes, for realised savings
	lastSeen   map[string]map[string]time.Time // resource → kind/action → last decision counted
	// gone is, for each resource seen terminated, the time of its
	// terminate: a verdict before it is a late one that must not count
	// it again. It holds at most minGoneMemory; the oldest are forgotten
	// first.
	gone map[string]time.Time
	// newestVerdict and newestEvent are the times of the newest verdict
	// and of the newest event written, and newestRun that of the newest
	// run that ended done (KindRun), for Config.VerdictTTL.
	newestVerdict, newestEvent, newestRun time.Time
	// runsBy is the time of the newest run that ended done of each
	// actor (the reaper, monitor.WithObserverActor): a verdict is aged
	// behind its own reaper's runs.
	runsBy map[string]time.Time
	// prunedAt is the newest event's time (up to the clock's now) at the
	// last dropVanished, so that Write drops too, once a VerdictTTL, for
	// a Collector no one scrapes.
	prunedAt time.Time
}

// minGoneMemory is the number of terminated resources the Collector
// remembers to ignore their late verdicts (see Collector.gone).
const minGoneMemory = 1000

var (
	_ prometheus.Collector = (*Collector)(nil)
	_ monitor.Sink         = (*Collector)(nil)
)

// New returns a Collector for cfg. It returns a *provider.InvalidError
// when cfg is invalid. It starts no goroutine and registers nothing.
func New(cfg Config, opts ...Option) (*Collector, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Namespace == "" {
		cfg.Namespace = DefaultNamespace
	}
	if cfg.ScrapeTimeout == 0 {
		cfg.ScrapeTimeout = DefaultScrapeTimeout
	}
	if cfg.VerdictTTL == 0 {
		cfg.VerdictTTL = DefaultVerdictTTL
	}
	ns := cfg.Namespace
	c := &Collector{cfg: cfg,
		events: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "events_total",
			Help: "Events recorded by the monitor, by kind and source."}, []string{"kind", "source"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "decisions_total",
			Help: "Safety decisions by outcome (pass, require_approval, block), each counted once."}, []string{"outcome"}),
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "actions_total",
			Help: "Actions by action and outcome (done, would_act, deferred, failed) and whether in a dry run."},
			[]string{"action", "outcome", "dry_run"}),
		blocks: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "blocks_total",
			Help: "Blocked proposals by blocking safety rule."}, []string{"rule"}),
		idleDesc: prometheus.NewDesc(ns+"_idle_resources",
			"Resources whose latest verdict is idle.", nil, nil),
		forecastDesc: prometheus.NewDesc(ns+"_forecast_error",
			"Latest forecast error reported for a scaling target.", []string{"target", "strategy"}, nil),
		noDataDesc: prometheus.NewDesc(ns+"_scaling_no_data",
			"1 for each scaling target whose strategies have no data to scale on (a metrics outage).", []string{"target"}, nil),
		savingsDesc: prometheus.NewDesc(ns+"_realised_savings",
			"Money saved so far by executed changes, measured from running hours and hourly costs.", nil, nil),
		budgetDesc: prometheus.NewDesc(ns+"_ratelimit_remaining_events",
			"Events a rate-limit bucket allows now in its window; -1 when unlimited.", []string{"bucket"}, nil),
		alertD: prometheus.NewDesc(ns+"_alerts_firing",
			"Alerts firing, by severity.", []string{"severity"}, nil),
		verdicts: map[string]string{}, verdictAt: map[string]time.Time{}, verdictBy: map[string]string{},
		runsBy: map[string]time.Time{}, forecast: map[forecastKey]float64{}, noData: map[string]bool{},
		forecastAt: map[forecastKey]time.Time{}, dataAt: map[string]time.Time{},
		lastSeen: map[string]map[string]time.Time{}, gone: map[string]time.Time{},
	}
	for _, o := range opts {
		o(c)
	}
	if check.Nil(c.budgets) {
		c.budgets = nil // a nil *ratelimit.Limiter: none, not a scrape that panics
	}
	if check.Nil(c.alerts) {
		c.alerts = nil
	}
	switch {
	case c.clock == nil:
		c.clock = clock.Real{}
	case check.Nil(c.clock): // a nil *clock.Mock: not the default, and would panic
		return nil, provider.Invalid("clock", fmt.Sprintf("%T", c.clock), "must not be a nil pointer")
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Write counts evs; it never fails. It implements monitor.Sink.
func (c *Collector) Write(_ context.Context, evs []monitor.Event) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range evs {
		c.events.WithLabelValues(label(string(e.Kind)), label(e.Source)).Inc()
		if e.Time.After(c.newestEvent) {
			c.newestEvent = e.Time
		}
		switch e.Kind {
		case monitor.KindVerdict:
			if e.Time.After(c.newestVerdict) {
				c.newestVerdict = e.Time
			}
			if !e.Time.Before(c.latest(e.ResourceID)) {
				delete(c.gone, e.ResourceID)
				c.verdicts[e.ResourceID], c.verdictAt[e.ResourceID] = e.Outcome, e.Time
				c.verdictBy[e.ResourceID] = e.Actor
			}
		case monitor.KindDecision, monitor.KindBlocked:
			// The reaper and the engine's auditor may both record one
			// decision: count it once.
			key := string(e.Kind) + "/" + string(e.Action)
			seen := c.lastSeen[e.ResourceID]
			if last, ok := seen[key]; ok && last.Equal(e.Time) {
				continue
			}
			if seen == nil {
				seen = map[string]time.Time{}
				c.lastSeen[e.ResourceID] = seen
			}
			seen[key] = e.Time
			c.decisions.WithLabelValues(label(e.Outcome)).Inc()
			if e.Kind == monitor.KindBlocked {
				for _, r := range e.Rules {
					c.blocks.WithLabelValues(label(r)).Inc()
				}
				if len(e.Rules) == 0 {
					c.blocks.WithLabelValues(UnnamedRule).Inc()
				}
			}
		case monitor.KindAction:
			c.actions.WithLabelValues(label(string(e.Action)), label(e.Outcome), strconv.FormatBool(e.DryRun)).Inc()
			// A terminated resource is gone: its verdict no longer
			// counts (a verdict after this one, of the ID used again,
			// counts anew), and the keys of its decisions, recorded
			// before its action, are dropped.
			if e.Action == safety.ActionTerminate && e.Outcome == monitor.OutcomeDone && !e.DryRun {
				delete(c.lastSeen, e.ResourceID)
				if !e.Time.Before(c.latest(e.ResourceID)) {
					delete(c.verdicts, e.ResourceID)
					delete(c.verdictAt, e.ResourceID)
					delete(c.verdictBy, e.ResourceID)
					c.forget(e.ResourceID, e.Time)
				}
			}
		case monitor.KindRun:
			// A run that ended judged every resource it listed at or
			// after its time; a failed one may have stopped early.
			if e.Outcome == monitor.OutcomeDone && e.Time.After(c.newestRun) {
				c.newestRun = e.Time
			}
			if e.Outcome == monitor.OutcomeDone && e.Time.After(c.runsBy[e.Actor]) {
				c.runsBy[e.Actor] = e.Time
			}
		case monitor.KindForecast:
			// Unknown (−1), or not a number or infinite (which the Log
			// refuses, but a host may Write): no error to export. Each
			// strategy of a target has its own.
			// An error older than the latest event of its strategy
			// arrives late: the newer state stands. An unknown one
			// always ends the series (see late).
			k := forecastKey{target: label(e.ResourceID), strategy: label(e.Strategy)}
			if e.Value < 0 || math.IsNaN(e.Value) || math.IsInf(e.Value, 0) {
				delete(c.forecast, k)
			} else if !late(c.forecastAt, k, e.Time) {
				c.forecast[k] = e.Value
			}
			c.forecastAt[k] = later(c.forecastAt[k], e.Time)
			bound(c.forecastAt, func(k forecastKey) bool { _, ok := c.forecast[k]; return ok })
		case monitor.KindScalingData:
			target := label(e.ResourceID)
			if e.Outcome != monitor.OutcomeNoData {
				delete(c.noData, target)
			} else if !late(c.dataAt, target, e.Time) {
				c.noData[target] = true
			}
			c.dataAt[target] = later(c.dataAt[target], e.Time)
			bound(c.dataAt, func(k string) bool { return c.noData[k] })
		}
		if !c.savings.Add(e) {
			c.log.Warn("metrics: a change older than the ones already folded for its resource is counted from the newest of them",
				"resource", e.ResourceID, "time", e.Time)
		}
	}
	// A Collector no one scrapes drops what vanished too, once every
	// VerdictTTL of events: its memory follows the fleet, not time.
	if now := c.clock.Now(); minTime(c.newestEvent, now).Sub(c.prunedAt) >= c.cfg.VerdictTTL {
		c.dropVanished(now)
	}
	return nil
}

// latest is the time of the resource's latest verdict or terminate (zero
// for neither). c.mu is held.
func (c *Collector) latest(id string) time.Time {
	if t, ok := c.gone[id]; ok {
		return t
	}
	return c.verdictAt[id]
}

// forget remembers the resource as terminated at at, forgetting the
// oldest terminated resources, a quarter at a time so that the sort is
// rare, when more than minGoneMemory are remembered. c.mu is held.
func (c *Collector) forget(id string, at time.Time) {
	c.gone[id] = at
	if len(c.gone) <= minGoneMemory {
		return
	}
	ids := make([]string, 0, len(c.gone))
	for k := range c.gone {
		if k != id {
			ids = append(ids, k)
		}
	}
	slices.SortFunc(ids, func(x, y string) int { return c.gone[x].Compare(c.gone[y]) })
	for _, k := range ids[:len(c.gone)-minGoneMemory*3/4] {
		delete(c.gone, k)
	}
}

// dropVanished forgets the verdicts older than Config.VerdictTTL behind
// the newest run that ended of the reaper that judged them (of any
// reaper while that one's came; the newest verdict while no run event
// came), and the decision keys older than it behind the newest event,
// each newest taken up to now. c.mu is held.
func (c *Collector) dropVanished(now time.Time) {
	c.prunedAt = minTime(c.newestEvent, now)
	ref := c.newestVerdict
	if !c.newestRun.IsZero() {
		// Not the newest verdict: during a run, the resources it has not
		// reached yet carry the previous run's time, a whole interval
		// behind the run's first verdicts.
		ref = c.newestRun
	}
	cutoff := minTime(ref, now).Add(-c.cfg.VerdictTTL)
	for id, at := range c.verdictAt {
		// Behind its own reaper's runs: an hourly reaper's must not age
		// a daily one's verdicts.
		cut := cutoff
		if run, ok := c.runsBy[c.verdictBy[id]]; ok {
			cut = minTime(run, now).Add(-c.cfg.VerdictTTL)
		}
		if at.Before(cut) {
			delete(c.verdicts, id)
			delete(c.verdictAt, id)
			delete(c.verdictBy, id)
		}
	}
	cutoff = minTime(c.newestEvent, now).Add(-c.cfg.VerdictTTL)
	for id, seen := range c.lastSeen {
		for key, at := range seen {
			if at.Before(cutoff) {
				delete(seen, key)
			}
		}
		if len(seen) == 0 {
			delete(c.lastSeen, id)
		}
	}
}

// late reports whether an event at t that would put k's series in a
// gauge (a forecast error, a target without data) is older than the
// latest event of k: it arrived late (an audit trail backfilled, a second
// writer), and the newer state stands; the engine tells only transitions,
// so it would stand until the next one. An event that takes the series
// out (unknown, recovered) is never late: the engine's Forget dates its
// own by its clock, which may lie before the nows a host gave its
// decisions, and a forgotten target must leave the gauges.
func late[K comparable](at map[K]time.Time, k K, t time.Time) bool {
	last, ok := at[k]
	return ok && t.Before(last)
}

func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// bound forgets the oldest times of at whose keys are not exported
// (exported reports which are), a quarter at a time so that the sort is
// rare, when more than minGoneMemory of them are held.
func bound[K comparable](at map[K]time.Time, exported func(K) bool) {
	var out []K
	if len(at) <= minGoneMemory {
		return
	}
	for k := range at {
		if !exported(k) {
			out = append(out, k)
		}
	}
	if len(out) <= minGoneMemory {
		return
	}
	slices.SortFunc(out, func(x, y K) int { return at[x].Compare(at[y]) })
	for _, k := range out[:len(out)-minGoneMemory*3/4] {
		delete(at, k)
	}
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// forecastKey names a forecast_error series: the target and its
// strategy, as label values.
type forecastKey struct{ target, strategy string }

func (k forecastKey) compare(o forecastKey) int {
	return cmp.Or(strings.Compare(k.target, o.target), strings.Compare(k.strategy, o.strategy))
}

// label returns s as a label value: Prometheus refuses text that is not
// valid UTF-8 (and WithLabelValues panics on it), so such text is
// exported Go-quoted (strconv.Quote: "caf\xe9"), which keeps two values
// that differ only in their bad bytes apart (one U+FFFD for each would
// merge them, and a scrape that collects one label twice fails whole).
func label(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strconv.Quote(s)
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	c.events.Describe(ch)
	c.decisions.Describe(ch)
	c.actions.Describe(ch)
	c.blocks.Describe(ch)
	ch <- c.idleDesc
	ch <- c.forecastDesc
	ch <- c.noDataDesc
	ch <- c.savingsDesc
	if c.budgets != nil {
		ch <- c.budgetDesc
	}
	if c.alerts != nil {
		ch <- c.alertD
	}
}

// Collect implements prometheus.Collector. A budget source that fails is
// logged and its gauge left out of this scrape.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	c.events.Collect(ch)
	c.decisions.Collect(ch)
	c.actions.Collect(ch)
	c.blocks.Collect(ch)
	c.mu.Lock()
	now := c.clock.Now()
	c.dropVanished(now)
	idle := 0
	for _, o := range c.verdicts {
		if o == string(detector.Idle) {
			idle++
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(c.forecast), forecastKey.compare) {
		ch <- prometheus.MustNewConstMetric(c.forecastDesc, prometheus.GaugeValue, c.forecast[k], k.target, k.strategy)
	}
	for _, target := range slices.Sorted(maps.Keys(c.noData)) {
		ch <- prometheus.MustNewConstMetric(c.noDataDesc, prometheus.GaugeValue, 1, target)
	}
	saved := c.savings.Saved(now)
	c.mu.Unlock()
	ch <- prometheus.MustNewConstMetric(c.idleDesc, prometheus.GaugeValue, float64(idle))
	ch <- prometheus.MustNewConstMetric(c.savingsDesc, prometheus.GaugeValue, saved)
	if c.budgets != nil {
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.ScrapeTimeout)
		st, err := c.budgets.Stats(ctx)
		cancel()
		if err != nil {
			c.log.Warn("metrics: reading rate-limit budgets failed", "err", err)
		} else {
			for _, b := range st.Buckets {
				ch <- prometheus.MustNewConstMetric(c.budgetDesc, prometheus.GaugeValue, float64(b.Remaining), label(b.Key.String()))
			}
		}
	}
	if c.alerts != nil {
		n := map[alert.Severity]int{}
		for _, a := range c.alerts.Firing() {
			n[a.Severity]++
		}
		for _, s := range []alert.Severity{alert.SeverityInfo, alert.SeverityWarning, alert.SeverityCritical} {
			ch <- prometheus.MustNewConstMetric(c.alertD, prometheus.GaugeValue, float64(n[s]), string(s))
		}
	}
}

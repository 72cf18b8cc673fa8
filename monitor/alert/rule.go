package alert

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Match selects events: one of Kinds, and one of Outcomes and one of
// Sources when they are set.
type Match struct {
	// Kinds are the event kinds that match. Required in a rule's Match.
	Kinds []monitor.Kind `json:"kinds,omitempty" yaml:"kinds,omitempty"`
	// Outcomes keeps only events with one of these outcomes; empty keeps
	// all.
	Outcomes []string `json:"outcomes,omitempty" yaml:"outcomes,omitempty"`
	// Sources keeps only events from one of these sources; empty keeps
	// all.
	Sources []string `json:"sources,omitempty" yaml:"sources,omitempty"`
}

// Matches reports whether e passes m. A Match without kinds matches
// nothing.
func (m Match) Matches(e monitor.Event) bool {
	return slices.Contains(m.Kinds, e.Kind) &&
		(len(m.Outcomes) == 0 || slices.Contains(m.Outcomes, e.Outcome)) &&
		(len(m.Sources) == 0 || slices.Contains(m.Sources, e.Source))
}

func (m Match) validate(field string) error {
	if len(m.Kinds) == 0 {
		return provider.Invalid(field+".kinds", nil, "is required")
	}
	for i, k := range m.Kinds {
		if err := k.Validate(); err != nil {
			return provider.Invalid(field+".kinds["+strconv.Itoa(i)+"]", string(k), "is not a known event kind")
		}
	}
	return nil
}

// DefaultFor is Rule.For's default for metric rules.
const DefaultFor = 5 * time.Minute

// Rule is one alerting rule, as a host loads it from JSON or YAML. It is
// an event rule (Match set) or a metric rule (Metric set), never both.
//
// An event rule fires when an event matches, once per resource (its
// alerts are deduplicated by rule and resource: a repeat counts, it does
// not notify again; events about no resource, such as a reaper's runs,
// by rule and Actor, so that each reaper named by
// monitor.WithObserverActor has its own), and resolves when an event of
// the same resource (or actor) matches one of Resolve (of the same
// action, with PerAction), or when no event matched for ResolveAfter. When
// the matching events name strategies (monitor.Event.Strategy: a target's
// predictive strategies falling back), a resolving event that names one
// resolves the alert once every strategy named has had one dated at or
// after that strategy's latest match, whatever the other strategies' (a
// match that named none is ended by any; a match of a strategy dated at
// or before its resolving event does not make it wait again); a
// resolving event that names none resolves it at once. A
// matching event dated at or before the resolving event (or, for an alert
// resolved by ResolveAfter, at or before its last match) arrives late and
// does not re-open it; a match recorded as history (monitor.WithBackfill:
// an old audit trail imported) already quiet for ResolveAfter opens no
// alert.
//
// A metric rule reads Metric of every resource that Filter selects, reduced
// by Statistic over the last For, and fires when the value is above Above;
// it resolves when the value is at or under it, or when Filter no longer
// selects the resource (stopped, terminated). A selected resource without
// data keeps its alert as it is (missing data is not "healthy").
type Rule struct {
	// Name identifies the rule and its alerts. Required, unique, without
	// "/" or "@" (an alert's ID is the name, "/" and the resource ID, which
	// may itself contain "/", or for events about no resource, the name,
	// "@" and their actor).
	Name string `json:"name" yaml:"name"`
	// Severity is the alerts' severity. Default (unset): warning.
	Severity Severity `json:"severity,omitempty" yaml:"severity,omitempty"`
	// Summary says what the alert means, in words; the notification adds
	// the resource and the latest reason. Default: the rule's name.
	Summary string `json:"summary,omitempty" yaml:"summary,omitempty"`

	// Match selects the events that fire the rule (event rules).
	Match Match `json:"match,omitzero" yaml:"match,omitempty"`
	// Resolve selects events that resolve a firing alert of the same
	// resource (event rules). Default: none.
	Resolve []Match `json:"resolve,omitempty" yaml:"resolve,omitempty"`
	// ResolveAfter resolves a firing alert when no event matched for this
	// long (checked by Alerter.Evaluate; event rules: a metric rule's
	// alert quiet that long is one without data, which keeps its alert).
	// Must be ≥ 0. Default (0): never by time.
	ResolveAfter time.Duration `json:"resolve_after,omitempty" yaml:"resolve_after,omitempty"`
	// PerAction makes a resolving event that names an action
	// (monitor.Event.Action: stop, scale_in) resolve only what its
	// matches named of that action (event rules): the alert resolves
	// once every action its matches named has had a resolving event of
	// its own, dated at or after that action's latest match (whatever
	// the other actions' matches: a stop that passed after its block
	// resolves the stop though a terminate was blocked later), so that a
	// scale_out executed does not resolve a blocked scale_in. A match of
	// an action dated at or before its resolving event is late and does
	// not make it wait again. A resolving event that names no action (a verdict that
	// the resource is not idle), or a match that named none, resolves as
	// without it. Default (false): any resolving event resolves the
	// alert.
	PerAction bool `json:"per_action,omitempty" yaml:"per_action,omitempty"`

	// Metric is the metric a metric rule reads.
	Metric provider.Metric `json:"metric,omitempty" yaml:"metric,omitempty"`
	// Above is the metric rule's threshold, in the metric's unit
	// (utilizations are fractions): it fires when the value is strictly
	// above it. Must be finite.
	Above float64 `json:"above,omitempty" yaml:"above,omitempty"`
	// For is the window the value is taken over, ending at the
	// evaluation's now. Must be ≥ 0. Default (0): 5m.
	For time.Duration `json:"for,omitempty" yaml:"for,omitempty"`
	// Statistic reduces the window's samples to the value. Default
	// (unset): mean, so that one spike does not page anyone.
	Statistic provider.Statistic `json:"statistic,omitempty" yaml:"statistic,omitempty"`
	// Filter selects the resources a metric rule reads. Default: every
	// running resource.
	Filter provider.Filter `json:"filter,omitzero" yaml:"filter,omitempty"`
}

// IsMetric reports whether r is a metric rule.
func (r Rule) IsMetric() bool { return r.Metric != "" }

// Validate returns a *provider.InvalidError naming the first wrong field:
// a missing name or one with "/" or "@", an unknown severity, both or neither of match and
// metric, a match without kinds or with an unknown one, a negative
// duration, a threshold that is not finite, a bad statistic or filter,
// a metric rule's field (above, for, statistic, filter) on an event rule
// and resolve, resolve_after or per_action on a metric rule.
func (r Rule) Validate() error {
	if r.Name == "" {
		return provider.Invalid("name", r.Name, "is required")
	}
	if strings.Contains(r.Name, "/") {
		return provider.Invalid("name", r.Name, `must not contain "/": alert IDs join the rule's name and the resource ID with "/"`)
	}
	if strings.Contains(r.Name, "@") {
		return provider.Invalid("name", r.Name, `must not contain "@": alert IDs join the rule's name and the actor of events about no resource with "@"`)
	}
	if r.Severity != "" {
		if err := r.Severity.Validate(); err != nil {
			return err
		}
	}
	if r.ResolveAfter < 0 {
		return provider.Invalid("resolve_after", r.ResolveAfter, "must be ≥ 0")
	}
	event := len(r.Match.Kinds) > 0 || len(r.Match.Outcomes) > 0 || len(r.Match.Sources) > 0
	switch {
	case event && r.IsMetric():
		return provider.Invalid("metric", r.Metric, "a rule has a match or a metric, not both")
	case !event && !r.IsMetric():
		return provider.Invalid("match", nil, "a rule needs a match (event rule) or a metric (metric rule)")
	case event:
		if err := r.Match.validate("match"); err != nil {
			return err
		}
		for i, m := range r.Resolve {
			if err := m.validate("resolve[" + strconv.Itoa(i) + "]"); err != nil {
				return err
			}
		}
		return r.noMetricFields()
	}
	if err := r.Metric.Validate(); err != nil {
		return provider.Within("metric", err)
	}
	if math.IsNaN(r.Above) || math.IsInf(r.Above, 0) {
		return provider.Invalid("above", r.Above, "must be finite")
	}
	if r.For < 0 {
		return provider.Invalid("for", r.For, "must be ≥ 0; 0 means the default 5m")
	}
	if r.Statistic != "" {
		if err := r.Statistic.Validate(); err != nil {
			return err
		}
	}
	if len(r.Resolve) > 0 {
		return provider.Invalid("resolve", r.Resolve, "is for event rules; a metric rule resolves under its threshold")
	}
	if r.PerAction {
		return provider.Invalid("per_action", r.PerAction, "is for event rules; a metric rule resolves under its threshold")
	}
	if r.ResolveAfter != 0 {
		// Its alert is seen at every evaluation above the threshold: the
		// only one quiet for a while is a resource without data, which
		// is unknown, not recovered.
		return provider.Invalid("resolve_after", r.ResolveAfter, "is for event rules; a metric rule resolves under its threshold, and a resource without data keeps its alert")
	}
	return r.Filter.Validate()
}

// noMetricFields returns an error naming a metric rule's field set on an
// event rule, which would read none of them: a filter set there would
// not narrow its alerts, a threshold would not gate them.
func (r Rule) noMetricFields() error {
	const why = "is for metric rules; an event rule fires on every event its match selects"
	f := r.Filter
	switch {
	case r.Above != 0:
		return provider.Invalid("above", r.Above, why)
	case r.For != 0:
		return provider.Invalid("for", r.For, why)
	case r.Statistic != "":
		return provider.Invalid("statistic", r.Statistic, why)
	case len(f.IDs) > 0 || len(f.Kinds) > 0 || len(f.States) > 0 || f.Region != "" ||
		len(f.InstanceTypes) > 0 || f.Environment != "" || len(f.Tags) > 0:
		return provider.Invalid("filter", f, why+" (Match.Sources narrows them)")
	}
	return nil
}

func (r Rule) withDefaults() Rule {
	if r.Severity == "" {
		r.Severity = SeverityWarning
	}
	if r.Summary == "" {
		r.Summary = r.Name
	}
	if r.IsMetric() {
		if r.For == 0 {
			r.For = DefaultFor
		}
		if r.Statistic == "" {
			r.Statistic = provider.StatMean
		}
		if len(r.Filter.States) == 0 {
			r.Filter.States = []provider.State{provider.StateRunning}
		}
	}
	return r
}

// IdleFoundQuiet is the ResolveAfter of the default idle_found rule,
// eight days: a resource no run has found idle for that long (it
// vanished: deleted outside the reaper, or no longer selected by its
// filter) has its alert resolved; every run that still finds it idle
// keeps it firing, a weekly reaper's too (a day longer than a week, so
// that the next run, which reaches the resource some time after the
// week is up, comes before it: exactly a week resolved the alert at the
// run's start and the run's verdict paged again, every week).
const IdleFoundQuiet = 8 * 24 * time.Hour

// pipelineFailureQuiet is the ResolveAfter of the default
// pipeline_failure rule, three hours: a resource whose step has not failed
// for that long has its alert resolved, while one that fails at every run
// of an hourly reaper (reaper.DefaultInterval, each run an interval after
// the last one ended) keeps it firing, one alert and not a page an hour.
const pipelineFailureQuiet = 3 * time.Hour

// safetyBlockQuiet is the ResolveAfter of the default safety_block rule,
// eight days as IdleFoundQuiet: a block comes from a run that found the
// resource idle, so a resource the gate blocks at every run of a daily
// (or weekly) reaper keeps one alert firing, while one no run blocks
// any more (it vanished) has its alert resolved. A day resolved it just
// before the next run of a daily reaper, whose block paged again, every
// day (reaper.Run waits its interval after a run ends).
const safetyBlockQuiet = IdleFoundQuiet

// DefaultRules returns the built-in alerts: CPU above 0.9 (mean over 5
// minutes), idle resources found (resolved by a verdict that it is not, a
// verified action, or eight days without a verdict that it is:
// IdleFoundQuiet), scaling failures, safety blocks (resolved by a
// decision of the blocked action that passes or asks for an approval, the
// gate blocking it no more, a scaling target's step of the blocked
// direction executed, a verdict that the resource is not idle, or eight
// days without a block, so that one blocked at every run of a daily or
// weekly reaper is one alert; PerAction: a scale_out does not resolve a
// blocked scale_in), failed verifications,
// rollbacks, forecast fallbacks, scaling targets without data (every
// strategy that reads metrics lacks them, so the target is not scaled on
// its load; resolved when one has data again or the target is
// forgotten), pipeline failures (a step, for one
// resource; resolved after three hours without one, so that one failing
// at every run of an hourly reaper is one alert) and failed runs (a whole
// run, such as one whose inventory could not be listed; one alert per
// reaper, the events' Actor (monitor.WithObserverActor), resolved by the
// next run of the same reaper that succeeds).
func DefaultRules() []Rule {
	idle, notIdle := string(detector.Idle), string(detector.NotIdle)
	return []Rule{
		{Name: "high_cpu", Severity: SeverityWarning, Summary: "CPU above 90%",
			Metric: provider.MetricCPU, Above: 0.9, For: DefaultFor},
		{Name: "idle_found", Severity: SeverityInfo, Summary: "idle resource found",
			Match: Match{Kinds: []monitor.Kind{monitor.KindVerdict}, Outcomes: []string{idle}},
			Resolve: []Match{
				{Kinds: []monitor.Kind{monitor.KindVerdict}, Outcomes: []string{notIdle}},
				{Kinds: []monitor.Kind{monitor.KindVerification}, Outcomes: []string{monitor.OutcomeVerified}},
			},
			ResolveAfter: IdleFoundQuiet},
		{Name: "scaling_failure", Severity: SeverityCritical, Summary: "scaling step failed",
			Match:   Match{Kinds: []monitor.Kind{monitor.KindScalingStep}, Outcomes: []string{monitor.OutcomeFailed}},
			Resolve: []Match{{Kinds: []monitor.Kind{monitor.KindScalingStep}, Outcomes: []string{monitor.OutcomeDone}}}},
		{Name: "safety_block", Severity: SeverityWarning, Summary: "action blocked by the safety gate",
			Match: Match{Kinds: []monitor.Kind{monitor.KindBlocked}},
			Resolve: []Match{
				{Kinds: []monitor.Kind{monitor.KindDecision}, Outcomes: []string{string(safety.Pass), string(safety.RequireApproval)}},
				{Kinds: []monitor.Kind{monitor.KindVerdict}, Outcomes: []string{notIdle}},
				// A scaling target's decisions are not recorded: a step
				// executed is the gate letting its changes through.
				{Kinds: []monitor.Kind{monitor.KindScalingStep}, Outcomes: []string{monitor.OutcomeDone}},
			},
			PerAction:    true,
			ResolveAfter: safetyBlockQuiet},
		{Name: "verification_failed", Severity: SeverityCritical, Summary: "action not verified",
			Match:   Match{Kinds: []monitor.Kind{monitor.KindVerification}, Outcomes: []string{monitor.OutcomeFailed}},
			Resolve: []Match{{Kinds: []monitor.Kind{monitor.KindVerification}, Outcomes: []string{monitor.OutcomeVerified}}}},
		{Name: "rollback", Severity: SeverityWarning, Summary: "change rolled back",
			Match:        Match{Kinds: []monitor.Kind{monitor.KindRollback}, Outcomes: []string{monitor.OutcomeStarted, monitor.OutcomeFailed}},
			ResolveAfter: 24 * time.Hour},
		{Name: "forecast_fallback", Severity: SeverityInfo, Summary: "forecast fell back to reactive scaling",
			Match:   Match{Kinds: []monitor.Kind{monitor.KindForecast}, Outcomes: []string{monitor.OutcomeFallback}},
			Resolve: []Match{{Kinds: []monitor.Kind{monitor.KindForecast}, Outcomes: []string{monitor.OutcomeRecovered}}}},
		{Name: "scaling_no_data", Severity: SeverityWarning, Summary: "autoscaler has no data to scale on",
			Match:   Match{Kinds: []monitor.Kind{monitor.KindScalingData}, Outcomes: []string{monitor.OutcomeNoData}},
			Resolve: []Match{{Kinds: []monitor.Kind{monitor.KindScalingData}, Outcomes: []string{monitor.OutcomeRecovered}}}},
		{Name: "pipeline_failure", Severity: SeverityWarning, Summary: "pipeline step failed",
			Match: Match{Kinds: []monitor.Kind{monitor.KindFailure}}, ResolveAfter: pipelineFailureQuiet},
		{Name: "run_failed", Severity: SeverityWarning, Summary: "pipeline run failed",
			Match:   Match{Kinds: []monitor.Kind{monitor.KindRun}, Outcomes: []string{monitor.OutcomeFailed}},
			Resolve: []Match{{Kinds: []monitor.Kind{monitor.KindRun}, Outcomes: []string{monitor.OutcomeDone}}}},
	}
}

package report

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Target is a scaling target whose demand the report compares with its
// capacity.
type Target struct {
	// ResourceID is the group.
	ResourceID string `json:"resource_id"`
	// Demand is the demand on the group (requests per second, ...).
	Demand provider.Series `json:"demand"`
	// PerInstance is the demand one instance serves within its SLO, in
	// Demand's unit. Must be > 0.
	PerInstance float64 `json:"per_instance"`
}

// Input is what a report is built from. Only Now is required; everything
// else may be empty (an empty fleet gives an empty report, not an error).
type Input struct {
	// Title heads the report. Default: "idlescale report".
	Title string
	// Now is the time the report is made for: realised savings are
	// measured up to it. Required.
	Now time.Time
	// From is the start of the period the report covers: events before
	// it are left out, except executed changes, whose savings count from
	// when they took effect. Zero means every event.
	From time.Time
	// Events are the log's events (Log.Query).
	Events []monitor.Event
	// Resources are the fleet as the inventory lists it now: names, size
	// of the fleet, and restarts for realised savings.
	Resources []provider.Resource
	// Alerts are the alerts to list (alert.Alerter.Alerts).
	Alerts []alert.Alert
	// Targets are the scaling targets to compare with their demand.
	Targets []Target
}

// Idle is an idle resource in a report: its latest verdict.
type Idle struct {
	// ResourceID is the resource.
	ResourceID string `json:"resource_id"`
	// Name is its name from the inventory, when known.
	Name string `json:"name,omitempty"`
	// Time is when the verdict was made.
	Time time.Time `json:"time"`
	// Confidence is the verdict's confidence, in [0, 1].
	Confidence float64 `json:"confidence"`
	// Action is the action recommended; empty for none.
	Action safety.Action `json:"action,omitempty"`
	// MonthlySavings is the action's estimated saving a month.
	MonthlySavings float64 `json:"monthly_savings"`
	// MadeMonthlySavings is the part of MonthlySavings that the changes
	// executed since the verdict make (see Totals.EstimatedMonthlySavings):
	// all of it for the action recommended while it holds (and for a stop
	// recommended for a resource stopped before the verdict and still
	// stopped), none after a restart, the change's monthly saving for
	// another action; 0 when none was executed. The estimate still to be made, which the totals
	// count and IdleChart draws, is MonthlySavings less it.
	MadeMonthlySavings float64 `json:"made_monthly_savings,omitempty"`
	// Reason is the verdict's main reasons.
	Reason string `json:"reason,omitempty"`
}

// Action is an action taken, proposed or refused in a report.
type Action struct {
	// Time is when it happened.
	Time time.Time `json:"time"`
	// ResourceID is the resource.
	ResourceID string `json:"resource_id"`
	// Name is its name from the inventory, when known.
	Name string `json:"name,omitempty"`
	// Action is the action.
	Action safety.Action `json:"action"`
	// Outcome is done, would_act, deferred, block, require_approval,
	// rate_limited or failed.
	Outcome string `json:"outcome"`
	// DryRun reports that nothing was changed.
	DryRun bool `json:"dry_run,omitempty"`
	// Rules are the safety rules that blocked it.
	Rules []string `json:"rules,omitempty"`
	// Reason says why.
	Reason string `json:"reason,omitempty"`
	// MonthlySavings is the action's estimated saving a month.
	MonthlySavings float64 `json:"monthly_savings,omitempty"`
}

// UnnamedRule is the rule a block that names none is counted under (in
// Report.Blocks, and in the metrics' idlescale_blocks_total): a scaling
// step a host's own gate refused, a reaper record blocked before the
// safety gate was asked (its approval denied). The SDK's safety rules
// have snake_case names, never this one.
const UnnamedRule = "unnamed"

// RuleCount is how often a safety rule blocked.
type RuleCount struct {
	// Rule is the rule's name.
	Rule string `json:"rule"`
	// Count is how many proposals it blocked.
	Count int `json:"count"`
}

// Scaling summarises one scaling target's events (and demand, when given).
type Scaling struct {
	// ResourceID is the group.
	ResourceID string `json:"resource_id"`
	// Plans counts the plans made (executed or previewed), Steps the
	// steps executed, Previewed the steps a dry run previewed, Failures
	// the steps that failed and Rollbacks the rollbacks started.
	Plans     int `json:"plans"`
	Steps     int `json:"steps"`
	Previewed int `json:"previewed"`
	Failures  int `json:"failures"`
	Rollbacks int `json:"rollbacks"`
	// CapacityHours is the integral of the desired capacity over the
	// period, in instance-hours.
	CapacityHours float64 `json:"capacity_hours"`
	// Cost is what CapacityHours cost, from the instance cost the steps'
	// events carry (monitor.CostChange); 0 when they carry none.
	Cost float64 `json:"cost"`
	// MinCapacity and MaxCapacity bound the capacity over the period.
	MinCapacity int `json:"min_capacity"`
	MaxCapacity int `json:"max_capacity"`
	// SLOViolations counts the demand steps whose demand exceeded the
	// capacity's (capacity × PerInstance); 0 without a Target.
	SLOViolations int `json:"slo_violations"`
	// DemandSteps is the number of demand steps compared.
	DemandSteps int `json:"demand_steps"`
}

// Totals add up a report.
type Totals struct {
	// Resources is the size of the fleet (Input.Resources).
	Resources int `json:"resources"`
	// Idle is the number of idle resources.
	Idle int `json:"idle"`
	// Done, WouldAct, Deferred, Blocked, NeedsApproval, RateLimited and
	// Failed count the Actions by outcome.
	Done          int `json:"done"`
	WouldAct      int `json:"would_act"`
	Deferred      int `json:"deferred"`
	Blocked       int `json:"blocked"`
	NeedsApproval int `json:"needs_approval"`
	RateLimited   int `json:"rate_limited"`
	Failed        int `json:"failed"`
	// EstimatedMonthlySavings sums the idle resources' estimated savings
	// for the actions recommended, but for a resource stopped or resized
	// since its verdict (an executed action that no failed verification
	// undid), or a stop recommended for one stopped before it and still
	// stopped: that saving is made, and counted in the realised savings,
	// not twice. What such a change does not make still counts: all of
	// the estimate once the inventory shows the resource restarted, and
	// the estimate less the change's monthly saving (its cost before and
	// after) when the change was not the action recommended (a resize of
	// a resource whose verdict recommended a stop).
	EstimatedMonthlySavings float64 `json:"estimated_monthly_savings"`
	// RealisedSavings sums Realised.Saved: money saved so far.
	RealisedSavings float64 `json:"realised_savings"`
	// RealisedMonthlyRate sums Realised.MonthlyRate.
	RealisedMonthlyRate float64 `json:"realised_monthly_rate"`
	// FiringAlerts counts the alerts firing.
	FiringAlerts int `json:"firing_alerts"`
}

// Report is what happened over a period: idle resources with confidence
// and reasons, actions taken and refused and why, estimated and realised
// savings, scaling, alerts. Build makes one; WriteText, WriteHTML and
// encoding/json render it.
type Report struct {
	// Title heads it.
	Title string `json:"title"`
	// Now is the time it was made for; From the start of its period (zero
	// for every event).
	Now  time.Time `json:"now"`
	From time.Time `json:"from,omitzero"`
	// Totals add it up.
	Totals Totals `json:"totals"`
	// Idle are the idle resources, most savings first: the latest verdict
	// of each resource in the period, when it is idle and no executed
	// terminate followed it.
	Idle []Idle `json:"idle"`
	// Actions are the actions taken, proposed and refused, oldest first.
	Actions []Action `json:"actions"`
	// Blocks count the blocking safety rules, most first; a block that
	// names none counts under UnnamedRule.
	Blocks []RuleCount `json:"blocks"`
	// Realised are the savings of the executed actions, per resource.
	Realised []Realised `json:"realised"`
	// Scaling summarises each scaling target.
	Scaling []Scaling `json:"scaling"`
	// Alerts are Input.Alerts.
	Alerts []alert.Alert `json:"alerts"`
}

// Build makes the report of in. It returns a *provider.InvalidError when
// Now is zero, From is after Now (a period that ends before it starts:
// the two swapped, most likely), a Target is invalid (no ID,
// PerInstance not positive, an invalid series) or the HourlyCost of a
// Resource with an executed change in the events is not a finite number
// ≥ 0 (which Resource.Validate refuses too: a restart charged at it
// would make the savings infinite or NaN). Another resource's HourlyCost
// is read nowhere, and one that is not a cost does not fail the report.
func Build(in Input) (Report, error) {
	if in.Now.IsZero() {
		return Report{}, provider.Invalid("now", in.Now, "is required")
	}
	if in.From.After(in.Now) {
		return Report{}, provider.Invalid("from", in.From, "must not be after now ("+in.Now.Format(time.RFC3339)+")")
	}
	for i, tg := range in.Targets {
		if err := tg.validate(); err != nil {
			return Report{}, provider.Within("targets["+itoa(i)+"]", err)
		}
	}
	title := in.Title
	if title == "" {
		title = "idlescale report"
	}
	rep := Report{Title: title, Now: in.Now, From: in.From, Idle: []Idle{}, Actions: []Action{}, Blocks: []RuleCount{},
		Realised: []Realised{}, Scaling: []Scaling{}, Alerts: slices.Clone(in.Alerts)}
	if rep.Alerts == nil {
		rep.Alerts = []alert.Alert{}
	}
	inv := map[string]provider.Resource{}
	for _, r := range in.Resources {
		inv[r.ID] = r
	}
	rep.Totals.Resources = len(in.Resources)
	inPeriod := func(e monitor.Event) bool {
		return (in.From.IsZero() || !e.Time.Before(in.From)) && !e.Time.After(in.Now)
	}
	sorted := byTime(in.Events) // once: the savings and the scaling summary read events in time order
	var acted map[string]safety.Action
	rep.Idle, acted = idleList(sorted, inPeriod, in.Now, inv)
	rep.Actions, rep.Blocks = actions(sorted, inPeriod, inv)
	tls := timelines(sorted, in.Now, inventory(in.Resources))
	charged := make(map[string]bool, len(tls))
	for _, tl := range tls {
		charged[tl.id] = true
	}
	for i, r := range in.Resources {
		// Only the cost of a resource with an executed change is read
		// (a restart is charged at it); another's is read nowhere.
		if !validCost(r.HourlyCost) && charged[r.ID] {
			return Report{}, provider.Within("resources["+itoa(i)+"]",
				provider.Invalid("hourly_cost", r.HourlyCost, "must be a finite number ≥ 0 (resource "+r.ID+", acted on)"))
		}
	}
	for _, tl := range tls {
		r := tl.realised(in.Now)
		r.Name = inv[r.ResourceID].Name
		rep.Realised = append(rep.Realised, r)
	}
	rep.Scaling = scaling(sorted, inPeriod, in.Targets, in.From, in.Now)

	t := &rep.Totals
	t.Idle = len(rep.Idle)
	byID := make(map[string]*timeline, len(tls))
	for _, tl := range tls {
		byID[tl.id] = tl
	}
	for k := range rep.Idle {
		i := &rep.Idle[k]
		i.MadeMonthlySavings = i.MonthlySavings - estimated(*i, acted, byID[i.ResourceID], in.Now)
		if i.Action != "" {
			t.EstimatedMonthlySavings += i.MonthlySavings - i.MadeMonthlySavings
		}
	}
	for _, a := range rep.Actions {
		switch a.Outcome {
		case monitor.OutcomeDone:
			t.Done++
		case monitor.OutcomeWouldAct:
			t.WouldAct++
		case monitor.OutcomeDeferred:
			t.Deferred++
		case string(safety.Block):
			t.Blocked++
		case string(safety.RequireApproval):
			t.NeedsApproval++
		case monitor.OutcomeRateLimited:
			t.RateLimited++
		case monitor.OutcomeFailed:
			t.Failed++
		}
	}
	for _, r := range rep.Realised {
		t.RealisedSavings += r.Saved
		t.RealisedMonthlyRate += r.MonthlyRate
	}
	for _, a := range rep.Alerts {
		if a.State == alert.StateFiring {
			t.FiringAlerts++
		}
	}
	return rep, nil
}

func (tg Target) validate() error {
	switch {
	case tg.ResourceID == "":
		return provider.Invalid("resource_id", tg.ResourceID, "is required")
	case !(tg.PerInstance > 0) || math.IsInf(tg.PerInstance, 1):
		return provider.Invalid("per_instance", tg.PerInstance, "must be > 0 and finite")
	}
	return provider.Within("demand", tg.Demand.Validate())
}

// idleList is the latest verdict of every resource, kept when it is idle
// and the resource was not terminated since (an executed terminate up to
// now, at or after the verdict, that no failed verification undid), most
// savings first. acted holds those of them stopped or resized since their
// verdict (an executed stop or resize up to now, at or after the
// verdict, that no failed verification undid), with the latest such
// action: their saving is realised, as far as that change makes it and
// while it holds (see estimated). evs are sorted by time.
func idleList(evs []monitor.Event, in func(monitor.Event) bool, now time.Time, inv map[string]provider.Resource) (idle []Idle, acted map[string]safety.Action) {
	type change struct {
		at     time.Time
		action safety.Action
	}
	latest := map[string]monitor.Event{}
	gone := map[string]time.Time{} // resource → its latest executed terminate
	done := map[string]change{}    // resource → its latest executed stop or resize
	for _, e := range evs {
		executed := e.Kind == monitor.KindAction && e.Outcome == monitor.OutcomeDone && !e.DryRun
		switch {
		case e.Time.After(now):
		case executed && e.Action == safety.ActionTerminate:
			gone[e.ResourceID] = e.Time
		case executed && (e.Action == safety.ActionStop || e.Action == safety.ActionResize):
			done[e.ResourceID] = change{at: e.Time, action: e.Action}
		case failedVerification(e):
			if t, ok := gone[e.ResourceID]; ok && !e.Time.Before(t) {
				delete(gone, e.ResourceID) // the terminate did not take effect
			}
			if c, ok := done[e.ResourceID]; ok && !e.Time.Before(c.at) {
				delete(done, e.ResourceID) // nor did the stop or resize
			}
		}
		if e.Kind != monitor.KindVerdict || !in(e) {
			continue
		}
		if cur, ok := latest[e.ResourceID]; !ok || !e.Time.Before(cur.Time) {
			latest[e.ResourceID] = e
		}
	}
	out := []Idle{}
	acted = map[string]safety.Action{}
	for id, e := range latest {
		if t, ok := gone[id]; e.Outcome != string(detector.Idle) || ok && !e.Time.After(t) {
			continue
		}
		if c, ok := done[id]; ok && !e.Time.After(c.at) {
			acted[id] = c.action
		}
		out = append(out, Idle{ResourceID: id, Name: inv[id].Name, Time: e.Time, Confidence: e.Confidence,
			Action: e.Action, MonthlySavings: e.MonthlySavings, Reason: e.Reason})
	}
	slices.SortFunc(out, func(a, b Idle) int {
		if c := cmp.Compare(b.MonthlySavings, a.MonthlySavings); c != 0 {
			return c
		}
		return cmp.Compare(a.ResourceID, b.ResourceID)
	})
	return out, acted
}

// estimated is the part of i's estimated monthly saving that is not made
// at now: all of it for a resource not acted on since its verdict
// (acted); none for one whose
// latest change since is the action recommended and still holds (its
// saving is realised), or whose change carried no costs (tl nil: what
// it saves is not known); otherwise (restarted by its owner since, or
// another action: a resize where a stop was recommended) the estimate
// less the monthly saving the changes since the verdict still make. A
// stop recommended for a resource that a change before the verdict left
// costing nothing, and that is not restarted at now, is made too: the
// detector read the data from before that stop again, and the realised
// savings count it.
func estimated(i Idle, acted map[string]safety.Action, tl *timeline, now time.Time) float64 {
	act, ok := acted[i.ResourceID]
	switch {
	case !ok && tl != nil && i.Action == safety.ActionStop && tl.costAt(now, true) == 0:
		return 0
	case !ok:
		return i.MonthlySavings
	case tl == nil:
		return 0
	}
	restarted := tl.restarted && !tl.changes[len(tl.changes)-1].at.After(now)
	if act == i.Action && !restarted {
		return 0
	}
	made := (tl.costAt(i.Time, false) - tl.costAt(now, true)) * hoursPerMonth
	return min(i.MonthlySavings, max(0, i.MonthlySavings-made))
}

// actions lists the actions taken, proposed and refused, oldest first,
// and counts the blocking rules. A decision recorded by both the reaper
// and the engine's auditor (same kind, resource, action and time) counts
// once.
func actions(evs []monitor.Event, in func(monitor.Event) bool, inv map[string]provider.Resource) ([]Action, []RuleCount) {
	type key struct {
		kind     monitor.Kind
		id       string
		action   safety.Action
		at       time.Time
		approval bool
	}
	seen := map[key]bool{}
	rules := map[string]int{}
	out := []Action{}
	for _, e := range evs {
		if !in(e) {
			continue
		}
		a := Action{Time: e.Time, ResourceID: e.ResourceID, Name: inv[e.ResourceID].Name, Action: e.Action,
			Outcome: e.Outcome, DryRun: e.DryRun, Reason: e.Reason, MonthlySavings: e.MonthlySavings}
		switch {
		case e.Kind == monitor.KindAction:
		case e.Kind == monitor.KindBlocked, e.Kind == monitor.KindDecision && e.Outcome == string(safety.RequireApproval):
			k := key{e.Kind, e.ResourceID, e.Action, instant(e.Time), false}
			if seen[k] {
				continue
			}
			seen[k] = true
			a.Rules = slices.Clone(e.Rules)
			if e.Kind == monitor.KindBlocked {
				a.Outcome = string(safety.Block)
				for _, r := range e.Rules {
					rules[r]++
				}
				if len(e.Rules) == 0 {
					rules[UnnamedRule]++
				}
			}
		case e.Kind == monitor.KindRateLimited:
			a.Outcome = monitor.OutcomeRateLimited
		case e.Kind == monitor.KindFailure:
			a.Outcome = monitor.OutcomeFailed
		default:
			continue
		}
		out = append(out, a)
	}
	slices.SortStableFunc(out, func(a, b Action) int { return a.Time.Compare(b.Time) })
	counts := make([]RuleCount, 0, len(rules))
	for r, n := range rules {
		counts = append(counts, RuleCount{Rule: r, Count: n})
	}
	slices.SortFunc(counts, func(a, b RuleCount) int {
		if c := cmp.Compare(b.Count, a.Count); c != 0 {
			return c
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return out, counts
}

// scaling summarises every target with scaling events in the period or
// a capacity change before it (its capacity is in force there), and every
// Target, from events sorted by time.
func scaling(sorted []monitor.Event, in func(monitor.Event) bool, targets []Target, from, now time.Time) []Scaling {
	byID := map[string]*Scaling{}
	var order []string
	get := func(id string) *Scaling {
		if s, ok := byID[id]; ok {
			return s
		}
		s := &Scaling{ResourceID: id}
		byID[id] = s
		order = append(order, id)
		return s
	}
	for _, tg := range targets {
		get(tg.ResourceID)
	}
	changes := map[string][]monitor.Event{} // each target's capacity changes (capacityChange), in time order
	for _, e := range sorted {
		if capacityChange(e) {
			changes[e.ResourceID] = append(changes[e.ResourceID], e)
			if !e.Time.After(now) {
				get(e.ResourceID)
			}
		}
		if !in(e) {
			continue
		}
		switch e.Kind {
		case monitor.KindScalingPlan:
			// A plan's events: planned, then done, stopped or failed; the
			// plan counts once, and any of them makes the target's row.
			if s := get(e.ResourceID); e.Outcome == monitor.OutcomePlanned {
				s.Plans++
			}
		case monitor.KindScalingStep:
			switch s := get(e.ResourceID); {
			case e.DryRun || e.Outcome == monitor.OutcomeWouldAct:
				s.Previewed++
			case e.Outcome == monitor.OutcomeFailed:
				s.Failures++
			case e.Outcome == monitor.OutcomeDone:
				s.Steps++
			}
		case monitor.KindRollback:
			if e.Outcome == monitor.OutcomeStarted {
				get(e.ResourceID).Rollbacks++
			}
		}
	}
	dem := map[string]Target{}
	for _, tg := range targets {
		dem[tg.ResourceID] = tg
	}
	out := make([]Scaling, 0, len(order))
	for _, id := range order {
		s := byID[id]
		steps := capacitySteps(changes[id])
		if len(steps) > 0 && !steps[0].At.After(now) { // none in force yet: nothing to measure
			start := steps[0].At
			if !from.IsZero() && from.After(start) {
				start = from
			}
			s.MinCapacity, s.MaxCapacity = capacityAt(steps, start), capacityAt(steps, start)
			for i, c := range steps {
				if c.At.After(now) {
					break
				}
				if !c.At.Before(start) {
					s.MinCapacity, s.MaxCapacity = min(s.MinCapacity, c.Capacity), max(s.MaxCapacity, c.Capacity)
				}
				end := now
				if i+1 < len(steps) && steps[i+1].At.Before(now) {
					end = steps[i+1].At
				}
				b := later(c.At, start)
				if end.After(b) {
					s.CapacityHours += float64(c.Capacity) * end.Sub(b).Hours()
				}
			}
		}
		if c := instanceCost(changes[id]); c > 0 {
			s.Cost = s.CapacityHours * c
		}
		if tg, ok := dem[id]; ok && len(steps) > 0 {
			next := 0 // the first step after the demand's time: the demand's times increase
			for k, v := range tg.Demand.Values {
				at := tg.Demand.TimeAt(k)
				for next < len(steps) && !steps[next].At.After(at) {
					next++
				}
				if provider.IsGap(v) || at.Before(steps[0].At) || at.After(now) || (!from.IsZero() && at.Before(from)) {
					continue
				}
				s.DemandSteps++
				if v > float64(steps[next-1].Capacity)*tg.PerInstance {
					s.SLOViolations++
				}
			}
		}
		out = append(out, *s)
	}
	return out
}

// instanceCost is one instance's hourly cost of a group, from the first
// of its capacity changes that is an executed step carrying costs; 0 when
// none is.
func instanceCost(changes []monitor.Event) float64 {
	for _, e := range changes {
		if e.Kind == monitor.KindScalingStep && e.Cost != nil && e.Capacity.To > 0 {
			return e.Cost.After / float64(e.Capacity.To)
		}
	}
	return 0
}

// CapacityPoint is a group's desired capacity from At on.
type CapacityPoint struct {
	At       time.Time `json:"at"`
	Capacity int       `json:"capacity"`
}

// CapacitySteps returns the capacity timeline of resource id from its
// scaling events: the first event's From at its time, then the To of every
// executed step and rollback, oldest first. Empty when it has none.
func CapacitySteps(evs []monitor.Event, id string) []CapacityPoint {
	var changes []monitor.Event
	for _, e := range byTime(evs) {
		if e.ResourceID == id && capacityChange(e) {
			changes = append(changes, e)
		}
	}
	return capacitySteps(changes)
}

// capacityChange reports whether e changed a group's capacity: an executed
// scaling step or rollback step, not a dry run.
func capacityChange(e monitor.Event) bool {
	return e.Capacity != nil && !e.DryRun && e.Outcome == monitor.OutcomeDone &&
		(e.Kind == monitor.KindScalingStep || e.Kind == monitor.KindRollback)
}

// capacitySteps is CapacitySteps of one group's capacity changes, in time
// order.
func capacitySteps(changes []monitor.Event) []CapacityPoint {
	if len(changes) == 0 {
		return nil
	}
	out := make([]CapacityPoint, 0, len(changes)+1)
	out = append(out, CapacityPoint{At: changes[0].Time, Capacity: changes[0].Capacity.From})
	for _, e := range changes {
		out = append(out, CapacityPoint{At: e.Time, Capacity: e.Capacity.To})
	}
	return out
}

// capacityAt is the capacity in force at t (the first point's before it).
func capacityAt(steps []CapacityPoint, t time.Time) int {
	c := steps[0].Capacity
	for _, p := range steps {
		if p.At.After(t) {
			break
		}
		c = p.Capacity
	}
	return c
}

func itoa(i int) string { return strconv.Itoa(i) }

package report

import (
	"slices"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Realised is the saving an executed action (a stop, terminate or resize
// of the reaper, or a host's) has made so far, measured
// from the resource's cost before and after it: the hours since the
// change times the hourly cost it would have kept costing (Cost.Before of
// its first change), less what it did cost (running hours × hourly cost
// after each change, and again the full cost while it ran after a
// restart outside the recorded changes: the inventory shows it running, or
// a later change found it running).
type Realised struct {
	// ResourceID is the resource.
	ResourceID string `json:"resource_id"`
	// Name is its name from the inventory, when known.
	Name string `json:"name,omitempty"`
	// Action is the first change's action.
	Action string `json:"action"`
	// Since is when the first change took effect.
	Since time.Time `json:"since"`
	// Changes counts the cost changes up to now: actions that took
	// effect, and a restart the inventory shows or a later change
	// implies (it found the resource running).
	Changes int `json:"changes"`
	// HourlyBefore is the hourly cost before the first change.
	HourlyBefore float64 `json:"hourly_before"`
	// HourlyNow is the hourly cost at the report's now.
	HourlyNow float64 `json:"hourly_now"`
	// Hours is the time from Since to now, in hours.
	Hours float64 `json:"hours"`
	// RunningHours is how many of them the resource was running (cost
	// more than nothing).
	RunningHours float64 `json:"running_hours"`
	// Saved is the saving so far: HourlyBefore × Hours − the cost of
	// the period.
	Saved float64 `json:"saved"`
	// MonthlyRate is the saving per month at the current costs:
	// (HourlyBefore − HourlyNow) × hours per month.
	MonthlyRate float64 `json:"monthly_rate"`
}

// hoursPerMonth is the hours of an average month (365.25 × 24 / 12).
const hoursPerMonth = provider.HoursPerMonth

// rateChange is a resource's hourly cost from at on.
type rateChange struct {
	at   time.Time
	rate float64
}

// timeline is one resource's hourly cost over time, from its first
// executed change.
type timeline struct {
	id       string
	action   string
	baseline float64
	changes  []rateChange // sorted by at; changes[0] is the first change
	// restarted reports that the last of changes is a restart the
	// inventory shows (the resource running after a change that left it
	// costing nothing).
	restarted bool
}

// costAt is the hourly cost at t: after the changes at or before it
// (with incl; before it without), the baseline before the first.
func (tl *timeline) costAt(t time.Time, incl bool) float64 {
	rate := tl.baseline
	for _, c := range tl.changes {
		if c.at.After(t) || !incl && c.at.Equal(t) {
			break
		}
		rate = c.rate
	}
	return rate
}

// timelines builds the cost timeline of every resource with an executed
// change in evs up to now: a done action with a Cost, not a dry run, that
// no failed verification of the same resource followed before the next
// change. A resource that the inventory shows running after a
// change that left it costing nothing (restarted since) costs its hourly
// cost again from its launch time (or the change, if later); so does one
// that a later change found running (a stop, or a change with
// Cost.RunningSince), from the time restartedAt gives.
func timelines(evs []monitor.Event, now time.Time, inventory map[string]provider.Resource) []*timeline {
	sorted := costEvents(evs, now)
	slices.SortStableFunc(sorted, byCostTime)
	return timelinesOf(sorted, inventory)
}

// byCostTime orders the events costEvents returns by time and, at one
// time, a change before a failed verification: the reaper dates a failed
// verification at its change's time (its ActedAt), and one read first,
// when the events come in another order than recorded, has no change to
// undo. Otherwise stable: events of one time keep their order.
func byCostTime(a, b monitor.Event) int {
	if c := a.Time.Compare(b.Time); c != 0 {
		return c
	}
	switch fa, fb := failedVerification(a), failedVerification(b); {
	case !fa && fb:
		return -1
	case fa && !fb:
		return 1
	}
	return 0
}

// costEvents returns, in their order, the events of evs up to now that
// timelines reads: executed changes and failed verifications. A report's
// events are mostly verdicts and decisions; the charts copy and sort only
// these.
func costEvents(evs []monitor.Event, now time.Time) []monitor.Event {
	n := 0
	for _, e := range evs {
		if !e.Time.After(now) && (changes(e) || failedVerification(e)) {
			n++
		}
	}
	out := make([]monitor.Event, 0, n)
	for _, e := range evs {
		if !e.Time.After(now) && (changes(e) || failedVerification(e)) {
			out = append(out, e)
		}
	}
	return out
}

// failedVerification reports whether e is a failed verification of an
// executed change.
func failedVerification(e monitor.Event) bool {
	return e.Kind == monitor.KindVerification && e.Outcome == monitor.OutcomeFailed && !e.DryRun
}

// byTime returns a copy of evs sorted by time, stably: events of one time
// keep their order.
func byTime(evs []monitor.Event) []monitor.Event {
	sorted := slices.Clone(evs)
	slices.SortStableFunc(sorted, func(a, b monitor.Event) int { return a.Time.Compare(b.Time) })
	return sorted
}

// timelinesOf is timelines of events sorted by byCostTime.
func timelinesOf(sorted []monitor.Event, inventory map[string]provider.Resource) []*timeline {
	byID := map[string]*timeline{}
	var order []string
	for _, e := range sorted {
		tl := byID[e.ResourceID]
		switch {
		case changes(e):
			if tl == nil {
				tl = &timeline{id: e.ResourceID, action: string(e.Action), baseline: e.Cost.Before}
				byID[e.ResourceID] = tl
				order = append(order, e.ResourceID)
			}
			if n := len(tl.changes); n > 0 && tl.changes[n-1].rate == 0 && ranBefore(e) {
				last := tl.changes[n-1]
				tl.changes = append(tl.changes, rateChange{at: restartedAt(last.at, e.Time, e.Cost.RunningSince), rate: e.Cost.Before})
			}
			tl.changes = append(tl.changes, rateChange{at: e.Time, rate: e.Cost.After})
		case tl != nil && failedVerification(e):
			// The last change did not take effect: the cost is what it was.
			n := len(tl.changes)
			prev := tl.baseline
			if n > 1 {
				prev = tl.changes[n-2].rate
			}
			tl.changes[n-1].rate = prev
		}
	}
	out := make([]*timeline, 0, len(order))
	for _, id := range order {
		tl := byID[id]
		last := tl.changes[len(tl.changes)-1]
		if res, ok := inventory[id]; ok && last.rate == 0 && running(res.State) && res.HourlyCost > 0 {
			at := later(res.LaunchTime, last.at)
			tl.changes = append(tl.changes, rateChange{at: at, rate: res.HourlyCost})
			tl.restarted = true
		}
		out = append(out, tl)
	}
	return out
}

// ranBefore reports whether the change e found its resource running: it
// says since when (Cost.RunningSince), or it is a stop.
func ranBefore(e monitor.Event) bool {
	return !e.Cost.RunningSince.IsZero() || e.Action == safety.ActionStop
}

// restartedAt returns when a resource that an earlier change at prev left
// costing nothing, and that a change at at found running, was restarted
// outside the recorded changes: since, its start as the change read it,
// when that lies between the two, else prev. A restart whose time is not
// known is counted from the earlier change, so that the report claims no
// saving it cannot show.
func restartedAt(prev, at, since time.Time) time.Time {
	if since.After(prev) && !since.After(at) {
		return since
	}
	return prev
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.Before(b) {
		return b
	}
	return a
}

// changes reports whether e is an executed action with costs. Scaling
// steps are not savings (a scale-out costs more by design): their cost is
// in the scaling summary.
func changes(e monitor.Event) bool {
	return e.Kind == monitor.KindAction && !e.DryRun && e.Cost != nil && e.Outcome == monitor.OutcomeDone
}

func running(s provider.State) bool {
	return s == provider.StateRunning || s == provider.StatePending
}

// realised measures the timeline up to now.
func (tl *timeline) realised(now time.Time) Realised {
	r := Realised{ResourceID: tl.id, Action: tl.action, Since: tl.changes[0].at, HourlyBefore: tl.baseline}
	var f costFold
	for _, c := range tl.changes {
		if c.at.After(now) {
			break
		}
		f.apply(c.at, tl.baseline, c.rate, false)
	}
	if f.started {
		r.Changes, r.HourlyNow = f.changes, f.rate
		r.Hours = now.Sub(r.Since).Hours()
		r.RunningHours, r.Saved = f.at(now)
	}
	r.MonthlyRate = (r.HourlyBefore - r.HourlyNow) * hoursPerMonth
	return r
}

// costFold is a resource's cost timeline folded change by change: what
// Realised measures, in one pass. Build folds a timeline at once
// (timeline.realised); a Ledger folds a resource's oldest changes as they
// fall out of its window and the rest at every Saved.
type costFold struct {
	started  bool // a change has been applied
	baseline float64
	since    time.Time // the latest change
	rate     float64   // hourly cost from since
	prev     float64   // hourly cost before since, for a failed verification
	changes  int       // the changes applied
	saved    float64   // the saving over the periods that ended, up to since
	running  float64   // the hours of those periods with a cost
}

// apply applies a change at (before and after are its hourly costs), or,
// with failed, a failed verification. The first change sets the baseline,
// its before; each later one ends the period of the one before it. A
// failed verification puts back the cost before the latest change, from
// that change on (the change did not take effect); one before any change
// is ignored.
func (f *costFold) apply(at time.Time, before, after float64, failed bool) {
	switch {
	case failed:
		if f.started {
			f.rate = f.prev
		}
	case !f.started:
		*f = costFold{started: true, baseline: before, since: at, rate: after, prev: before, changes: 1}
	default:
		f.running, f.saved = f.at(at)
		f.prev, f.since, f.rate = f.rate, at, after
		f.changes++
	}
}

// at returns the hours with a cost and the saving of the folded timeline
// at now: the ended periods' and the latest change's up to now (nothing of
// it when now is not after it).
func (f costFold) at(now time.Time) (running, saved float64) {
	running, saved = f.running, f.saved
	if f.started && now.After(f.since) {
		h := now.Sub(f.since).Hours()
		saved += (f.baseline - f.rate) * h
		if f.rate > 0 {
			running += h
		}
	}
	return running, saved
}

package monitor

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
)

// maxReasons is how many of a verdict's reasons an event's Reason keeps.
const maxReasons = 3

// ReaperEvents converts one record of the reaper into events, oldest
// first; fallback is their time when the record carries none (a resource
// whose detection failed). The events are:
//
//   - KindVerdict with the verdict, when there is one;
//   - KindDecision or KindBlocked with the Gate's decision, when it was
//     consulted (Source SourceReaper; when the engine's auditor records
//     into the same log (Auditor), the safety source records the executed
//     decisions too: count decisions by (kind, resource, action, time));
//     KindBlocked without one for a record blocked before the Gate was
//     asked (its approval denied, or claimed and never reported), with
//     the approval's ID and the record's reason;
//   - by outcome: KindRateLimited; KindAction (would_act, deferred, done)
//     with the hourly cost before and after, done saying "accepted", or
//     that the change may have happened when the provider's call failed
//     without saying that nothing changed; KindVerification (verified
//     or failed) after an action; KindFailure with the errors.
//
// A skipped resource has only its verdict.
func ReaperEvents(rec reaper.Record, fallback time.Time) []Event {
	at := recordTime(rec, fallback)
	base := Event{Time: at, Source: SourceReaper, ResourceID: rec.ResourceID, Action: rec.Action, DryRun: rec.DryRun}
	var out []Event
	if v := rec.Verdict; v != nil {
		e := base
		e.Kind, e.Outcome, e.Confidence = KindVerdict, string(v.State), v.Confidence
		e.Action = verdictAction(v.Action)
		e.MonthlySavings = v.MonthlySavings
		e.Reason = explain(*v)
		out = append(out, e)
	}
	if d := rec.Decision; d != nil {
		e := base
		e.Kind, e.Outcome, e.Risk, e.Reason, e.ApprovalID = KindDecision, string(d.Outcome), d.Risk, d.Summary(), rec.ApprovalID
		if d.Outcome == safety.Block {
			e.Kind, e.Rules = KindBlocked, append([]string(nil), rec.BlockedBy...)
		}
		out = append(out, e)
	}
	switch rec.Outcome {
	case reaper.OutcomeBlocked:
		if rec.Decision == nil {
			e := base
			e.Kind, e.Outcome, e.Reason, e.ApprovalID = KindBlocked, string(safety.Block), rec.Reason, rec.ApprovalID
			out = append(out, e)
		}
	case reaper.OutcomeRateLimited:
		e := base
		e.Kind, e.Outcome, e.Reason = KindRateLimited, OutcomeRateLimited, rec.Reason
		out = append(out, e)
	case reaper.OutcomeWouldAct, reaper.OutcomeDeferred:
		e := base
		e.Kind, e.Outcome, e.Reason = KindAction, OutcomeWouldAct, rec.Reason
		if rec.Outcome == reaper.OutcomeDeferred {
			e.Outcome = OutcomeDeferred
		}
		e.MonthlySavings, e.Cost = savingsOf(rec), costOf(rec)
		out = append(out, e)
	case reaper.OutcomeActed, reaper.OutcomeUnverified:
		e := base
		if !rec.ActedAt.IsZero() {
			e.Time = rec.ActedAt
		}
		e.Kind, e.Outcome, e.Reason = KindAction, OutcomeDone, string(rec.Action)+" accepted"
		if err := actError(rec); err != nil {
			e.Reason = string(rec.Action) + " failed, the change may have happened: " + err.Error()
		}
		e.MonthlySavings, e.Cost, e.ApprovalID = rec.MonthlySavings, costOf(rec), rec.ApprovalID
		out = append(out, e)
		v := e
		v.Cost, v.MonthlySavings, v.ApprovalID = nil, 0, ""
		v.Kind, v.Outcome, v.Reason = KindVerification, OutcomeVerified, rec.Reason
		if rec.Verified && !rec.VerifiedAt.IsZero() {
			v.Time = rec.VerifiedAt
		}
		if !rec.Verified {
			v.Outcome = OutcomeFailed
			if err := rec.Err(); err != nil {
				v.Reason += ": " + err.Error()
			}
		}
		out = append(out, v)
	case reaper.OutcomeFailed:
		e := base
		e.Kind, e.Outcome, e.Reason = KindFailure, OutcomeFailed, rec.Reason
		if err := rec.Err(); err != nil {
			e.Reason += ": " + err.Error()
		}
		out = append(out, e)
	}
	return out
}

// actError returns the cause of the record's error of the act stage (the
// provider's call failed without saying that nothing changed), or nil.
func actError(rec reaper.Record) error {
	for _, err := range rec.Errors {
		var re *reaper.ResourceError
		if errors.As(err, &re) && re.Stage == reaper.StageAct {
			return re.Err
		}
	}
	return nil
}

// recordTime is the time a record's events happened: the Gate's now, else
// the end of the detection window (the run's now), else fallback.
func recordTime(rec reaper.Record, fallback time.Time) time.Time {
	if rec.Decision != nil && !rec.Decision.Now.IsZero() {
		return rec.Decision.Now
	}
	if rec.Verdict != nil && !rec.Verdict.Window.To.IsZero() {
		return rec.Verdict.Window.To
	}
	return fallback
}

// verdictAction maps a detector action to the safety action that carries it
// out; empty for none and schedule.
func verdictAction(a detector.Action) safety.Action {
	switch a {
	case detector.ActionStop:
		return safety.ActionStop
	case detector.ActionTerminate:
		return safety.ActionTerminate
	case detector.ActionDownsize:
		return safety.ActionResize
	}
	return ""
}

func explain(v detector.Verdict) string {
	why := v.Explain()
	if len(why) > maxReasons {
		why = why[:maxReasons]
	}
	return strings.Join(why, "; ")
}

// savingsOf is the record's estimated monthly saving: the verdict's.
func savingsOf(rec reaper.Record) float64 {
	if rec.Verdict == nil {
		return 0
	}
	return rec.Verdict.MonthlySavings
}

// costOf is the hourly cost of the record's resource before and after its
// action: the verdict's monthly saving spread over the month's hours comes
// off the hourly cost (all of it for a stop or terminate), and when the
// resource was running, since when (its LaunchTime). Nil when the cost is
// unknown.
func costOf(rec reaper.Record) *CostChange {
	before := rec.Resource.HourlyCost
	if before <= 0 || !finite(before) {
		return nil
	}
	after := before - savingsOf(rec)/detector.HoursPerMonth
	if after < 1e-9 {
		after = 0
	}
	c := &CostChange{Before: before, After: min(after, before)}
	if st := rec.Resource.State; st == provider.StateRunning || st == provider.StatePending {
		c.RunningSince = rec.Resource.LaunchTime
	}
	return c
}

// ObserverOption wires a collaborator into a ReaperObserver or a
// ScalingObserver.
type ObserverOption func(*observerConfig)

type observerConfig struct {
	clock clock.Clock
	log   *slog.Logger
	cost  func(target string) float64
	actor string
	// err is the options' fault (a nil *clock.Mock), returned by every
	// call in place of recording: the observers have no error return at
	// construction.
	err error
}

func newObserverConfig(opts []ObserverOption) observerConfig {
	var c observerConfig
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.clock == nil:
		c.clock = clock.Real{}
	case check.Nil(c.clock): // a nil *clock.Mock: not the default, and would panic
		c.err = fmt.Errorf("monitor: observer: %w", provider.Invalid("clock", fmt.Sprintf("%T", c.clock), "must not be a nil pointer"))
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.cost == nil {
		c.cost = func(string) float64 { return 0 }
	}
	return c
}

// WithObserverClock sets the clock that stamps records without a time of
// their own. Default (also for nil): the real clock. A nil pointer (a nil
// *clock.Mock) is a fault of the observer: every call records nothing,
// and Err says why.
func WithObserverClock(c clock.Clock) ObserverOption {
	return func(o *observerConfig) { o.clock = c }
}

// WithObserverLogger sets the logger for events that could not be
// recorded. Default: discard.
func WithObserverLogger(l *slog.Logger) ObserverOption {
	return func(o *observerConfig) { o.log = l }
}

// WithObserverActor names the reaper whose records a ReaperObserver
// records, as the Actor of its events: give it the reaper's
// Config.Requester, the Actor of its decisions in the safety audit
// trail. A host whose reapers record into one log (hourly for
// instances, daily for volumes) names each, so that their runs are told
// apart: the alert package's run_failed alert is then one per reaper,
// resolved by that reaper's next run that succeeds, not by another's.
// A ScalingObserver ignores it. Default: none (events without an Actor,
// all runs one reaper's).
func WithObserverActor(actor string) ObserverOption {
	return func(o *observerConfig) { o.actor = actor }
}

// WithInstanceCost sets what one instance of a scaling target costs per
// hour (InstanceCosts reads it from the autoscaler's policy), so that
// scaling steps carry the group's cost before and after them, for
// realised savings. Default: unknown (no Cost on the events).
func WithInstanceCost(cost func(target string) float64) ObserverOption {
	return func(o *observerConfig) { o.cost = cost }
}

// ReaperObserver is a reaper.Observer that records what the reaper did as
// events (ReaperEvents for every record, a KindRun event for every report
// of Run; their Actor the reaper's name, WithObserverActor) in a
// Recorder, usually the Log:
//
//	r, _ := reaper.New(cfg, fleet, det, gate, reaper.WithObserver(monitor.NewReaperObserver(log)))
//
// The reaper's Observer has no error return: a failed Record is logged and
// kept for Err. It is safe for concurrent use.
type ReaperObserver struct {
	r   Recorder
	cfg observerConfig
	errs
}

// errs keeps the errors of an observer's failed Record calls: the first
// maxKeptErrors since the last Err, and how many more failed.
type errs struct {
	mu   sync.Mutex
	list []error
	more int
}

// maxKeptErrors bounds the errors an observer keeps for Err, so that a
// recorder failing for hours, with no Err call, does not grow memory.
const maxKeptErrors = 100

var _ reaper.Observer = (*ReaperObserver)(nil)

// NewReaperObserver returns a ReaperObserver recording into r (required;
// a nil r records nothing and every call's error says so).
func NewReaperObserver(r Recorder, opts ...ObserverOption) *ReaperObserver {
	return &ReaperObserver{r: r, cfg: newObserverConfig(opts)}
}

// ObserveRecord records ReaperEvents(rec, now on the clock).
func (o *ReaperObserver) ObserveRecord(rec reaper.Record) {
	if o.cfg.err != nil {
		o.fail(o.cfg.log, o.cfg.err, 1)
		return
	}
	o.record(ReaperEvents(rec, o.cfg.clock.Now()))
}

// ObserveReport records a KindRun event for a run of reaper.Run: Outcome
// done, or failed (err), or deferred when err matches context.Canceled
// (the run's context ended: the host stopping it, which reaper.Run does
// not count as a failure; the candidates it had not reached are deferred
// to the next run, and nothing failed), Value the resources examined,
// Reason the totals.
func (o *ReaperObserver) ObserveReport(rep reaper.Report, err error) {
	if o.cfg.err != nil {
		o.fail(o.cfg.log, o.cfg.err, 1)
		return
	}
	at := rep.Now
	if at.IsZero() {
		at = o.cfg.clock.Now()
	}
	t := rep.Totals
	e := Event{Time: at, Kind: KindRun, Source: SourceReaper, Outcome: OutcomeDone, DryRun: rep.DryRun,
		Value: float64(t.Resources),
		Reason: fmt.Sprintf("%d resources: %d idle, %d acted, %d would act, %d deferred, %d need approval, %d blocked, %d rate limited, %d failed",
			t.Resources, t.Idle, t.Acted, t.WouldAct, t.Deferred, t.NeedsApproval, t.Blocked, t.RateLimited, t.Failed)}
	switch {
	case errors.Is(err, context.Canceled):
		// Stopped, not failed: the run_failed alert is not for a deploy.
		e.Outcome, e.Reason = OutcomeDeferred, e.Reason+": stopped before it was done: "+err.Error()
	case err != nil:
		e.Outcome, e.Reason = OutcomeFailed, e.Reason+": "+err.Error()
	}
	o.record([]Event{e})
}

func (o *ReaperObserver) record(evs []Event) {
	if o.cfg.actor != "" {
		for i := range evs {
			if evs[i].Actor == "" {
				evs[i].Actor = o.cfg.actor
			}
		}
	}
	o.errs.record(o.r, o.cfg.log, evs)
}

// record records evs in r, keeping and logging a failure.
func (e *errs) record(r Recorder, log *slog.Logger, evs []Event) {
	if len(evs) == 0 {
		return
	}
	var err error
	if check.Nil(r) {
		err = errors.New("monitor: observer has no recorder")
	} else {
		err = r.Record(context.Background(), evs...)
	}
	if err == nil {
		return
	}
	e.fail(log, err, len(evs))
}

// fail logs and keeps err, the failure to record n events.
func (e *errs) fail(log *slog.Logger, err error, n int) {
	log.Warn("monitor: recording events failed", "err", err, "events", n)
	e.mu.Lock()
	if len(e.list) < maxKeptErrors {
		e.list = append(e.list, err)
	} else {
		e.more++
	}
	e.mu.Unlock()
}

// Err returns the errors of the Record calls that failed since the last
// call to Err, joined (the first 100, then how many more failed), and
// forgets them; nil when none failed.
func (e *errs) Err() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	list := e.list
	if e.more > 0 {
		list = append(list, fmt.Errorf("monitor: %d more Record calls failed", e.more))
	}
	e.list, e.more = nil, 0
	return errors.Join(list...)
}

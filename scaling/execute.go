package scaling

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
)

// planKey is the context key of PlanFromContext.
type planKey struct{}

// PlanStepRef identifies the plan step a provider call belongs to.
type PlanStepRef struct {
	// PlanID is the plan's ID.
	PlanID string
	// Step is the step's number (rollback steps count on from the plan's
	// last step).
	Step int
	// Rollback marks a rollback step, whose write's context is marked by
	// provider.WithRollback too (provider.IsRollback), for a driver that
	// does not know package scaling.
	Rollback bool
}

// ContextWithPlan returns ctx carrying ref, as the engine passes it to
// every provider write, so that a provider (a host's driver) can tag the
// change with the plan (an idempotency token, a change ticket).
func ContextWithPlan(ctx context.Context, ref PlanStepRef) context.Context {
	return context.WithValue(ctx, planKey{}, ref)
}

// PlanFromContext returns the plan step a provider call belongs to, if
// the engine made it.
func PlanFromContext(ctx context.Context) (PlanStepRef, bool) {
	ref, ok := ctx.Value(planKey{}).(PlanStepRef)
	return ref, ok
}

// Execute carries out p step by step and returns its execution record.
// Each step is fenced (WithFencer), gated (Gate.Check; a refusal stops the
// plan as blocked, and so does a gate that fails: fail closed), rate
// limited (WithReserver; a denial stops the plan as rate_limited, and so
// does a limiter that fails; a clamp shortens the step and re-splits the
// rest), written through the provider (retrying throttling with backoff on
// the engine's clock within RetryDeadline) and verified: the capacity (or
// size) must settle within the monitoring plan's Timeout and its signals
// stay healthy for its Window. A step that fails or is not verified rolls
// the plan back on its own, through the gate again; the rollback is
// recorded. Every step is an event for the observer and a record in the
// journal.
//
// Execute is idempotent: a plan whose execution is final returns its
// record without acting, and a plan that was interrupted (ctx ended
// between or within steps) resumes from the target's real capacity: a
// step whose change took effect is not repeated (its change is recorded
// in the History), one that did not is carried out (the reservation its
// cut-off write spent, kept in its StepRecord, is refunded before it
// reserves again). A plan interrupted while rolling back
// (Execution.RollbackCause set) resumes its rollback, from the target's
// real capacity, instead. While a plan runs, another Execute of it
// returns ErrPlanRunning. When the capacity is found neither where the
// plan left it nor where it was going, the plan stops (ErrDrift) without
// acting.
//
// A plan that stops is not an error: Execution.Status says how the plan
// ended (see PlanStatus), and the error is nil when it completed, when
// the safety gate refused a step (status blocked; Execution.Gate is the
// decision, which says whether an approval would allow it) and when the
// rate limiter denied one (status rate_limited; Execution.RateLimit is the
// reservation, with the time the step could go ahead). The error is
// non-nil for a failure, also kept in Execution.Err: a *StepError naming
// the step and Stage and wrapping the cause — the gate or the rate
// limiter failing (a rule error, an audit that could not be recorded:
// they stop the plan, fail closed, with status blocked or rate_limited), a
// fence that refused (stopped), a read of the target before a step that
// fails (StageRead, stopped: the steps verified before it stay, as after a
// refusal, since a rollback would need the read that failed), an engine
// without the provider capability
// a step writes with (provider.ErrInvalid naming cloud.resizer or
// cloud.scaler, at StageAct: stopped before the step is fenced or
// gated), a capacity changed outside the plan (ErrDrift, stopped), a
// provider error (stopped when nothing changed, else rolled back; a
// write found in effect despite its error has its change recorded, as a
// rollback write found so is settled and the rollback goes on), a
// provider write that did not return within EngineConfig.WriteTimeout
// (ErrWriteTimeout at StageAct: its outcome is unknown, so it is rolled
// back, never refunded, and a change found in effect is recorded), a step
// not verified (ErrNotVerified, rolled back), a rollback that failed
// (ErrRollback, failed; with ErrDrift when the group is found at a desired
// capacity, or the resource at a size, the plan never went through:
// another's change, not undone).
// A plan interrupted by ctx, also while rolling back, returns ctx's
// error and status interrupted; so does, with the
// read's error (StageRead), a resumed plan whose interrupted write cannot
// be settled, or whose step executed before the interruption cannot be
// verified, because the target cannot be read (the Autoscaler does not
// decide its target until a resume settles it). A plan whose monitoring
// plan would verify less than it says (a negative Window or Timeout, a
// signal Signal.Validate refuses: a host's VerifyConfig, which
// Engine.Plan takes as it is) is refused before anything is done, with
// an error matching provider.ErrInvalid naming the field (status
// planned), and so is a plan whose steps are not a change it can carry
// out as the plan says (a host's hand-built or edited plan): without an
// ID or target ID, with steps not numbered 1, 2, … in order, or not
// going from From to To one after another, with a capacity that is not
// valid (0 ≤ Min ≤ Desired ≤ Max) or a desired capacity outside the
// target's bounds (Target.Min and Max, Max ≥ 1), a step whose action is
// not the way it moves (a scale_in that raises the desired capacity, a
// scale_out that lowers it or a bound) or not its target's (a resize of
// a group, a scale of a resource), or a size its resource's kind cannot
// have (provider.Size.ValidateFor: NaN vCPUs, a function without
// memory or timeout): found by the gate or the provider when its turn
// came, such a step stopped the plan, or rolled it back, half done.
func (e *Engine) Execute(ctx context.Context, p Plan) (Execution, error) {
	if len(p.Steps) == 0 {
		return Execution{Plan: p, Status: PlanCompleted, UpdatedAt: e.clock.Now()}, nil
	}
	if err := p.validate(); err != nil {
		// A bad step found by the gate or the provider would stop the
		// plan, or roll it back, after the steps before it were
		// written: refused before anything is (fail closed).
		return Execution{Plan: p, Status: PlanPlanned}, fmt.Errorf("scaling: execute %s: %w", p.ID, err)
	}
	if err := p.Monitoring.validate(); err != nil {
		// Verified with it, a step would pass unchecked or fail after its
		// write: refused before anything is written (fail closed).
		return Execution{Plan: p, Status: PlanPlanned}, fmt.Errorf("scaling: execute %s: %w", p.ID, err)
	}
	if !e.lockPlan(p.ID, p.Target.ID) {
		return Execution{Plan: p, Status: PlanRunning}, fmt.Errorf("scaling: execute %s: %w", p.ID, ErrPlanRunning)
	}
	defer e.unlockPlan(p.ID, p.Target.ID)
	x, found, err := e.journal.Load(ctx, p.ID)
	if err != nil {
		return Execution{Plan: p, Status: PlanPlanned}, fmt.Errorf("scaling: execute %s: journal: %w", p.ID, err)
	}
	if found && x.Status.Final() {
		if x.Err == nil && x.Error != "" {
			// A journal that serializes keeps the error's text only.
			x.Err = fmt.Errorf("scaling: execute %s: ended %s before: %s", p.ID, x.Status, x.Error)
		}
		return x, x.Err
	}
	if !found {
		x = Execution{Plan: p, Status: PlanPlanned}
		for _, s := range p.Steps {
			x.Steps = append(x.Steps, StepRecord{Step: s, Status: StepPending})
		}
		e.emit(Event{Time: e.clock.Now(), Kind: EventPlanned, Target: p.Target.ID, PlanID: p.ID, Strategy: p.Strategy,
			From: p.From, To: p.To, FromSize: p.FromSize, ToSize: p.ToSize, Reason: p.Reason})
	}
	if found {
		if err := e.recreated(ctx, x.Plan); err != nil {
			// Resumed, it would act on another resource with the
			// decision made for the one that is gone (fail closed).
			e.stop(&x, PlanStopped, "", &StepError{PlanID: p.ID, Step: openStep(x), Stage: StageRead, Err: err})
			e.save(ctx, &x)
			return x, x.Err
		}
	}
	x.Status, x.Err, x.Reason, x.Gate, x.RateLimit = PlanRunning, nil, "", nil, nil
	e.save(ctx, &x)
	if x.RollbackCause != "" {
		e.resumeRollback(ctx, &x) // interrupted while rolling back
	} else {
		e.run(ctx, &x)
	}
	e.save(ctx, &x)
	return x, x.Err
}

// recreated returns an error matching ErrDrift when the group that has
// plan p's target ID now is not the one p was planned on: both have a
// launch time (the group's creation) and they differ, as for a group
// deleted and made again with the same name. A vertical target is not
// checked: an instance's launch time moves when a resize restarts it. It
// reads the resource with the Cloud's Inventory, or its Scaler when that
// is one too; without either, or when the read fails or a launch time is
// unknown, it cannot tell and returns nil (the capacity read that
// follows decides, as before).
func (e *Engine) recreated(ctx context.Context, p Plan) error {
	planned := p.Target.Resource.LaunchTime
	if planned.IsZero() || !p.Target.horizontal() {
		return nil
	}
	inv := e.cloud.Inventory
	if inv == nil {
		inv, _ = e.cloud.Scaler.(provider.Inventory)
	}
	if inv == nil {
		return nil
	}
	rctx, cancel := readContext(ctx, p)
	defer cancel()
	r, err := inv.Get(rctx, p.Target.Resource.ID)
	if err != nil || r.LaunchTime.IsZero() || r.LaunchTime.Equal(planned) {
		return nil
	}
	when := "after"
	if r.LaunchTime.Before(planned) {
		when = "before"
	}
	return fmt.Errorf("%w: %s was launched at %s, %s the plan's (launched at %s): another resource with its ID, not the one the plan was made for",
		ErrDrift, p.Target.Resource.ID, r.LaunchTime.UTC().Format(time.RFC3339), when, planned.UTC().Format(time.RFC3339))
}

// openStep returns the number of x's first step not verified (the last
// step when all are).
func openStep(x Execution) int {
	for _, s := range x.Steps {
		if s.Status != StepVerified {
			return s.Step.Index
		}
	}
	if n := len(x.Steps); n > 0 {
		return x.Steps[n-1].Step.Index
	}
	return 0
}

// errJournal marks a journal that could not be read: whether a plan of
// the target is half done is unknown.
var errJournal = errors.New("journal")

// Resume continues the target's unfinished plans (interrupted by a
// cancelled context or a crash), oldest first, and returns their
// executions; the error joins theirs. A plan older than maxAge is not
// resumed but ended, without acting (its steps done stay; the next
// decision starts from the real capacity): a step whose write the
// interruption cut off is first reconciled with the target's state, so
// that a write that took effect is recorded as executed and in the
// History, and one that did not is skipped and its reservation refunded;
// then the plan stops (no error), or, when it was interrupted while
// rolling back, fails (ErrRollback: the change it was undoing stays).
// When that step's target cannot be read, the plan is left unfinished
// and the error returned. A plan of a group that was made again since
// (the group of that ID now has another launch time than the plan's,
// usually a later one: deleted and recreated, as a target that left the
// policy and came back may be) is not resumed on it but stopped without
// acting (ErrDrift at StageRead). Plans running in this process are left alone.
// A journal that cannot be read is an error and nothing is resumed.
func (e *Engine) Resume(ctx context.Context, target string, now time.Time, maxAge time.Duration) ([]Execution, error) {
	xs, err := e.journal.Unfinished(ctx, target)
	if err != nil {
		return nil, fmt.Errorf("scaling: resume %s: %w: %w", target, errJournal, err)
	}
	var (
		out  []Execution
		errs []error
	)
	for _, x := range xs {
		if e.isRunning(x.Plan.ID) {
			continue
		}
		if maxAge > 0 && now.Sub(x.Plan.CreatedAt) > maxAge {
			done, ok, err := e.abandon(ctx, x.Plan.ID, x.Plan.Target.ID, maxAge)
			if err != nil {
				errs = append(errs, err) // a journal read that failed too
			}
			if ok {
				out = append(out, done)
			}
			continue
		}
		done, err := e.Execute(ctx, x.Plan)
		out = append(out, done)
		if err != nil {
			errs = append(errs, err)
		}
	}
	return out, errors.Join(errs...)
}

// lockPlan marks plan id, of target, running, unless it runs already.
func (e *Engine) lockPlan(id, target string) bool {
	e.planLock.Lock()
	defer e.planLock.Unlock()
	if e.running[id] {
		return false
	}
	e.running[id] = true
	e.targetPlans[target]++
	return true
}

// unlockPlan ends lockPlan(id, target). The target's History is
// forgotten with the last of its plans when the last Autoscaler holding
// it was closed while they ran (Autoscaler.Close).
func (e *Engine) unlockPlan(id, target string) {
	e.planLock.Lock()
	delete(e.running, id)
	n := e.targetPlans[target] - 1
	if n > 0 {
		e.targetPlans[target] = n
	} else {
		delete(e.targetPlans, target)
	}
	e.planLock.Unlock()
	if n <= 0 {
		e.dropIfReleased(target)
	}
}

// plansOf returns the number of plans of target running. e.mu is held
// (lock order: e.mu, then e.planLock).
func (e *Engine) plansOf(target string) int {
	e.planLock.Lock()
	defer e.planLock.Unlock()
	return e.targetPlans[target]
}

func (e *Engine) isRunning(id string) bool {
	e.planLock.Lock()
	defer e.planLock.Unlock()
	return e.running[id]
}

// save stores x in the journal, even after ctx ended (bookkeeping of what
// happened must not be lost); a journal error is logged.
func (e *Engine) save(ctx context.Context, x *Execution) {
	if err := e.saveErr(ctx, x); err != nil {
		e.log.Error("scaling: journal save failed", "plan", x.Plan.ID, "err", err)
	}
}

// journalTimeout bounds a journal write, which runs even after ctx ended
// (an interrupted plan must be recorded as such).
const journalTimeout = 30 * time.Second

// saveErr records x in the journal and returns the journal's error.
func (e *Engine) saveErr(ctx context.Context, x *Execution) error {
	x.UpdatedAt = e.clock.Now()
	x.Error = ""
	if x.Err != nil {
		x.Error = x.Err.Error()
	}
	jctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
	defer cancel()
	return e.journal.Save(jctx, *x)
}

// stop ends the plan without rolling back, with status and, for a
// failure, err; reason says why when err is nil.
func (e *Engine) stop(x *Execution, status PlanStatus, reason string, err error) {
	x.Status, x.Err, x.Reason = status, err, reason
	if err != nil {
		x.Reason = err.Error()
	}
	e.skipRest(x, x.Reason)
	e.emit(Event{Time: e.clock.Now(), Kind: EventPlanStopped, Target: x.Plan.Target.ID, PlanID: x.Plan.ID, Strategy: x.Plan.Strategy, Reason: x.Reason, Err: err})
}

// skipRest marks the pending steps skipped.
func (e *Engine) skipRest(x *Execution, reason string) {
	for i := range x.Steps {
		if x.Steps[i].Status == StepPending {
			x.Steps[i].Status, x.Steps[i].Reason = StepSkipped, reason
		}
	}
}

// run is the state machine of Execute.
func (e *Engine) run(ctx context.Context, x *Execution) {
	p := x.Plan
	for i := 0; i < len(x.Steps); i++ {
		sr := &x.Steps[i]
		if sr.Status == StepVerified {
			continue
		}
		s := sr.Step
		if err := ctx.Err(); err != nil {
			x.Status, x.Err, x.Reason = PlanInterrupted, err, "interrupted: "+err.Error()
			return
		}
		actual, err := e.known(ctx, p)
		if err != nil {
			if ctx.Err() != nil {
				x.Status, x.Err, x.Reason = PlanInterrupted, ctx.Err(), "interrupted: "+ctx.Err().Error()
				return
			}
			serr := &StepError{PlanID: p.ID, Step: s.Index, Stage: StageRead, Err: err}
			if sr.Status == StepExecuting {
				// An interrupted write that may have taken effect: left
				// unfinished, for a resume that can read the target to
				// record it (stopped, its change would be lost).
				x.Status, x.Err, x.Reason = PlanInterrupted, serr, "the target could not be read to settle an interrupted write: "+err.Error()
				return
			}
			if sr.Status == StepExecuted {
				// A change made and not yet verified: left unfinished, for
				// a resume that verifies it (stopped, it would stay
				// unverified, never rolled back).
				x.Status, x.Err, x.Reason = PlanInterrupted, serr, "the target could not be read to verify an executed step: "+err.Error()
				return
			}
			e.stop(x, PlanStopped, "", serr)
			return
		}
		switch atTo, atFrom := actual.where(s); {
		case atTo:
			// Already in effect: a resumed step whose write went through.
			if sr.Status == StepPending || sr.Status == StepExecuting {
				e.inEffect(p, sr, false)
			}
		case atFrom:
			if sr.Status == StepExecuted && !actual.matches(s.To, s.ToSize) {
				// Its write took effect (it returned), and the target is
				// back where the step started: undone outside the plan
				// since, not a write to make again.
				e.stop(x, PlanStopped, "", &StepError{PlanID: p.ID, Step: s.Index, Stage: StageRead,
					Err: fmt.Errorf("%w: found %s, where step %d started, after its write took effect", ErrDrift, actual, s.Index)})
				return
			}
			// An interrupted write that did not take effect: its
			// reservation bought nothing, and the step reserves again.
			if sr.Status == StepExecuting && e.refund(ctx, p, sr, true) {
				x.Status, x.Err, x.Reason = PlanInterrupted, ctx.Err(), "interrupted while refunding an interrupted write: "+ctx.Err().Error()
				return
			}
			sr.Status = StepPending
			if !e.act(ctx, x, i, actual) {
				return
			}
			sr = &x.Steps[i] // act may re-split the steps
			s = sr.Step
		default:
			e.stop(x, PlanStopped, "", &StepError{PlanID: p.ID, Step: s.Index, Stage: StageRead,
				Err: fmt.Errorf("%w: found %s, expected %s or %s", ErrDrift, actual, stateString(s.From, s.FromSize), stateString(s.To, s.ToSize))})
			return
		}
		if err := e.verify(ctx, p, s); err != nil {
			if ctx.Err() != nil {
				x.Status, x.Err, x.Reason = PlanInterrupted, ctx.Err(), "interrupted while verifying: "+ctx.Err().Error()
				return
			}
			sr.Status, sr.At, sr.Reason = StepFailed, e.clock.Now(), err.Error()
			serr := &StepError{PlanID: p.ID, Step: s.Index, Stage: StageVerify, Err: err}
			e.emit(e.stepEvent(p, s, EventVerificationFailed, err.Error(), serr))
			e.rollback(ctx, x, serr)
			return
		}
		sr.Status, sr.At, sr.Reason = StepVerified, e.clock.Now(), "settled; signals healthy"
		e.emit(e.stepEvent(p, s, EventStepVerified, sr.Reason, nil))
		e.save(ctx, x)
	}
	x.Status, x.Reason = PlanCompleted, "every step verified"
	e.emit(Event{Time: e.clock.Now(), Kind: EventPlanCompleted, Target: p.Target.ID, PlanID: p.ID, Strategy: p.Strategy,
		From: p.From, To: p.To, FromSize: p.FromSize, ToSize: p.ToSize, Reason: p.Reason})
}

// giveBack passes res, a grant of step s that nothing will be written
// for, to the Reserver's CancelAt with ctx's values but not its end
// (bounded by journalTimeout): a reservation made while ctx ended is
// refunded all the same. A failed refund is reported (refundFailed).
func (e *Engine) giveBack(ctx context.Context, p Plan, s PlanStep, now time.Time, res ratelimit.Reservation) {
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
	defer cancel()
	if err := e.reserver.CancelAt(rctx, now, res); err != nil {
		e.refundFailed(p, s.Index, err)
	}
}

// refundFailed reports a refund the Reserver failed: the budget stays
// spent for a change never made. It is logged and emitted as an
// EventError naming the plan and step, with a *StepError of
// StageRateLimit, so that a host's audit trail and the monitor see it;
// the plan's outcome does not depend on it.
func (e *Engine) refundFailed(p Plan, step int, err error) {
	e.log.Warn("scaling: rate-limit refund failed", "plan", p.ID, "step", step, "err", err)
	serr := &StepError{PlanID: p.ID, Step: step, Stage: StageRateLimit, Err: fmt.Errorf("refund: %w", err)}
	e.emit(Event{Time: e.clock.Now(), Kind: EventError, Target: p.Target.ID, PlanID: p.ID, Step: step, Strategy: p.Strategy,
		Reason: "rate-limit refund failed: the budget stays spent for a change not made", Err: serr})
}

// act fences, gates, reserves and writes step i of a target read as
// actual. It returns false when the plan ended (stopped, rolled back,
// failed).
func (e *Engine) act(ctx context.Context, x *Execution, i int, actual observed) bool {
	p := x.Plan
	s := x.Steps[i].Step
	if err := e.writable(s); err != nil {
		e.stop(x, PlanStopped, "", &StepError{PlanID: p.ID, Step: s.Index, Stage: StageAct, Err: err})
		return false
	}
	if e.fencer != nil {
		if err := e.fencer.Fence(ctx, p.ID, s.Index); err != nil {
			if cerr := ctx.Err(); cerr != nil {
				x.Status, x.Err, x.Reason = PlanInterrupted, cerr, "interrupted at the fence: "+cerr.Error()
				return false
			}
			e.stop(x, PlanStopped, "", &StepError{PlanID: p.ID, Step: s.Index, Stage: StageFence, Err: err})
			return false
		}
	}
	now := e.clock.Now()
	d, err := e.gate.Check(ctx, e.proposal(p, s, now))
	if err != nil || !d.Allowed {
		if cerr := ctx.Err(); cerr != nil {
			x.Status, x.Err, x.Reason = PlanInterrupted, cerr, "interrupted at the safety gate: "+cerr.Error()
			return false
		}
		x.Gate = &d
		if !safety.IsFailure(d, err) {
			e.emit(e.blockedEvent(p, s, now, d.Summary(), nil))
			e.stop(x, PlanBlocked, fmt.Sprintf("step %d: %s", s.Index, d.Summary()), nil)
			return false
		}
		serr := &StepError{PlanID: p.ID, Step: s.Index, Stage: StageSafety, Err: err}
		e.emit(e.blockedEvent(p, s, now, d.Summary(), serr))
		e.stop(x, PlanBlocked, "", serr)
		return false
	}
	var res, down ratelimit.Reservation
	if e.reserver != nil {
		dir, both := direction(s)
		if br, ok := e.reserver.(BothReserver); both && ok && br.ReservesBoth() {
			// One event that fits both budgets, counted once in a
			// global one.
			dir, both = ratelimit.Both, false
		}
		res, err = e.reserver.ReserveAt(ctx, now, ratelimit.Request{Target: p.Target.ID, Direction: dir, Units: s.Units()})
		if both && err == nil && res.OK() {
			// A resize whose sizes do not tell its direction spends
			// both budgets, here as two events (a Reserver that does
			// not take ratelimit.Both): up reserved, down too, or
			// neither.
			down, err = e.reserver.ReserveAt(ctx, now, ratelimit.Request{Target: p.Target.ID, Direction: ratelimit.Down, Units: s.Units()})
			if err != nil || !down.OK() {
				// Given back even once ctx ended (the usual reason the
				// second reservation failed), as a grant returned with
				// an error is below.
				e.giveBack(ctx, p, s, now, res)
				res, down = down, ratelimit.Reservation{} // the one that said no
			}
		}
		if err != nil || !res.OK() {
			if err != nil && res.OK() {
				// Granted, then the Reserver failed (a host's wrapper
				// whose audit of the grant failed): nothing is written,
				// so the grant is given back, even once ctx ended.
				e.giveBack(ctx, p, s, now, res)
			}
			if cerr := ctx.Err(); cerr != nil && err != nil {
				x.Status, x.Err, x.Reason = PlanInterrupted, cerr, "interrupted at the rate limiter: "+cerr.Error()
				return false
			}
			x.RateLimit = &res
			if err == nil {
				e.emit(e.stepEvent(p, s, EventStepRateLimited, res.String(), nil))
				e.stop(x, PlanRateLimited, fmt.Sprintf("step %d: rate limited: %s", s.Index, res.String()), nil)
				return false
			}
			serr := &StepError{PlanID: p.ID, Step: s.Index, Stage: StageRateLimit, Err: err}
			e.emit(e.stepEvent(p, s, EventStepRateLimited, res.String(), serr))
			e.stop(x, PlanRateLimited, "", serr)
			return false
		}
		if bad, units := badGrant(res, down, s.Units()); bad.OK() {
			// A grant the step cannot follow (no unit, whether Allowed
			// or Clamped, or a clamp to more than asked), in either of a
			// resize's reservations: the limiter failed (fail closed),
			// and every reservation is given back, since nothing is
			// written.
			err := provider.Invalid("reservation.granted", bad.Granted, fmt.Sprintf("a step of %d units must be granted 1 to %d (%s)", units, units, bad.String()))
			x.Steps[i].Reservation, x.Steps[i].DownReservation = res, down
			res = bad
			e.refund(ctx, p, &x.Steps[i], false)
			x.RateLimit = &res
			serr := &StepError{PlanID: p.ID, Step: s.Index, Stage: StageRateLimit, Err: err}
			e.emit(e.stepEvent(p, s, EventStepRateLimited, res.String(), serr))
			e.stop(x, PlanRateLimited, "", serr)
			return false
		}
		if res.Granted < s.Units() && s.Action != safety.ActionResize {
			// Clamped, or Allowed with fewer units than asked (a
			// Reserver that contradicts itself): the step moves what
			// was granted, never more.
			e.clamp(x, i, res.Granted)
			s = x.Steps[i].Step
			e.emit(e.stepEvent(p, s, EventStepRateLimited, res.String(), nil))
		}
	}
	// The reservation is kept with the step (and saved with it) so that a
	// write the context cuts off is refunded by the resume that finds it
	// changed nothing.
	x.Steps[i].Status, x.Steps[i].At, x.Steps[i].Reservation, x.Steps[i].DownReservation = StepExecuting, e.clock.Now(), res, down
	if err := e.saveErr(ctx, x); err != nil {
		// Unrecorded, a write in flight would be unknown to a resume
		// after a crash, or to the replica that takes over: not written
		// (fail closed).
		serr := &StepError{PlanID: p.ID, Step: s.Index, Stage: StageJournal, Err: err}
		e.refund(ctx, p, &x.Steps[i], false)
		x.Steps[i].Status, x.Steps[i].At, x.Steps[i].Reason = StepSkipped, e.clock.Now(), "not written: "+err.Error()
		e.emit(e.stepEvent(p, s, EventStepFailed, err.Error(), serr))
		e.stop(x, PlanStopped, "", serr)
		return false
	}
	err = e.write(ContextWithPlan(ctx, PlanStepRef{PlanID: p.ID, Step: s.Index}), p, s, actual.spec(s), s.ToSize)
	if fr := (*notWritten)(nil); errors.As(err, &fr) {
		if cerr := ctx.Err(); cerr != nil {
			// Kept executing with its reservation, for the resume.
			x.Status, x.Err, x.Reason = PlanInterrupted, cerr, "interrupted at the fence: "+cerr.Error()
			return false
		}
		// Deposed since the step was fenced, or the target moved during
		// a throttled attempt's backoff: nothing written.
		serr := &StepError{PlanID: p.ID, Step: s.Index, Stage: fr.stage, Err: fr.err}
		e.refund(ctx, p, &x.Steps[i], false)
		x.Steps[i].Status, x.Steps[i].At, x.Steps[i].Reason = StepSkipped, e.clock.Now(), "not written: "+fr.err.Error()
		e.emit(e.stepEvent(p, s, EventStepFailed, fr.err.Error(), serr))
		e.stop(x, PlanStopped, "", serr)
		return false
	}
	if err != nil {
		serr := &StepError{PlanID: p.ID, Step: s.Index, Stage: StageAct, Err: err}
		if ctx.Err() != nil {
			// Whether the write took effect is unknown: the next run reads
			// the capacity and decides (refunding the reservation when
			// nothing changed).
			x.Status, x.Err, x.Reason = PlanInterrupted, ctx.Err(), "interrupted while writing: "+err.Error()
			return false
		}
		actual, rerr := e.read(ctx, p)
		inEffect, unchanged := false, false
		if rerr == nil {
			inEffect, unchanged = actual.where(s)
			if actual.unknownSize(p) {
				// A size being applied (read as unknown): the
				// rollback's read waits for it, and settles whether
				// this write took effect (undo).
				x.unsettled = i + 1
			}
		}
		reason := err.Error()
		timedOut := errors.Is(err, ErrWriteTimeout)
		if timedOut {
			// The outcome is unknown: a target found where the step
			// started may still be changed by the write, so it is not
			// taken for nothing changed (no refund, no stop: rolled
			// back).
			unchanged = false
		}
		switch {
		case inEffect:
			// Changed by the write despite its error (a reply lost
			// after the backend applied it, or a write that timed
			// out): its change is recorded, for the History's rate
			// limits and the fleet share, and its reservation kept.
			reason += "; found in effect"
			e.changed(p, Change{At: e.clock.Now(), PlanID: p.ID, Step: s.Index, Strategy: p.Strategy,
				From: s.From, To: s.To, FromSize: s.FromSize, ToSize: s.ToSize})
		case timedOut && rerr != nil:
			reason += "; the target could not be read: " + rerr.Error()
		case timedOut:
			reason += "; found " + actual.String()
		}
		if unchanged {
			e.refund(ctx, p, &x.Steps[i], false)
		}
		x.Steps[i].Status, x.Steps[i].At, x.Steps[i].Reason = StepFailed, e.clock.Now(), reason
		e.emit(e.stepEvent(p, s, EventStepFailed, reason, serr))
		if unchanged && i == 0 {
			// Nothing was changed by this plan: nothing to roll back.
			e.stop(x, PlanStopped, "", serr)
			return false
		}
		e.rollback(ctx, x, serr)
		return false
	}
	x.Steps[i].Status, x.Steps[i].At = StepExecuted, e.clock.Now()
	e.changed(p, Change{At: x.Steps[i].At, PlanID: p.ID, Step: s.Index, Strategy: p.Strategy,
		From: s.From, To: s.To, FromSize: s.FromSize, ToSize: s.ToSize})
	e.emit(e.stepEvent(p, s, EventStepExecuted, d.Summary(), nil))
	e.save(ctx, x)
	return true
}

// badGrant returns the first of res and down (a resize's second
// reservation, not OK when there is none) that is OK but grants what a
// step of units cannot follow: no unit (Allowed or Clamped to 0), or a
// clamp to more than asked; a zero Reservation when both can be followed.
func badGrant(res, down ratelimit.Reservation, units int) (ratelimit.Reservation, int) {
	for _, r := range [...]ratelimit.Reservation{res, down} {
		if r.OK() && (r.Granted < 1 || r.Outcome == ratelimit.Clamped && r.Granted > units) {
			return r, units
		}
	}
	return ratelimit.Reservation{}, units
}

// refund passes the reservations of step record sr (Reservation and
// DownReservation), whose write changed nothing, to the Reserver's
// CancelAt, with ctx's values but not its end (bounded by
// journalTimeout), and clears them from the record. A refund that fails
// is reported (refundFailed: the plan's outcome does not depend on it)
// and cleared, unless ctx ended and the caller leaves the plan to be
// resumed (resumable): then it reports true and the record keeps the
// reservation, for the resume to refund (cancelling a reservation
// already refunded does nothing). A caller that stops the plan passes
// resumable false: no resume would refund it, so its failure is
// reported whether ctx ended or not.
func (e *Engine) refund(ctx context.Context, p Plan, sr *StepRecord, resumable bool) (interrupted bool) {
	if e.reserver == nil {
		return false
	}
	// ctx's values, not its end: a plan that stops as ctx ends is never
	// resumed, and its reservation would stay spent (as giveBack).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), journalTimeout)
	defer cancel()
	for _, r := range [...]*ratelimit.Reservation{&sr.Reservation, &sr.DownReservation} {
		if !r.OK() {
			continue
		}
		if err := e.reserver.CancelAt(rctx, e.clock.Now(), *r); err != nil {
			if resumable && ctx.Err() != nil {
				e.log.Warn("scaling: rate-limit refund failed; kept for the resume", "plan", p.ID, "step", sr.Step.Index, "err", err)
				return true
			}
			e.refundFailed(p, sr.Step.Index, err)
		}
		*r = ratelimit.Reservation{}
	}
	return false
}

// inEffect marks step record rec, found in effect, executed. When an
// interruption left it executing, the write was this plan's and took
// effect: its change is recorded in the History, once (rec is executed
// from now on); rollback says it was a rollback step.
func (e *Engine) inEffect(p Plan, rec *StepRecord, rollback bool) {
	s := rec.Step
	if rec.Status == StepExecuting {
		e.changed(p, Change{At: e.clock.Now(), PlanID: p.ID, Step: s.Index, Strategy: p.Strategy, Rollback: rollback,
			From: s.From, To: s.To, FromSize: s.FromSize, ToSize: s.ToSize})
	}
	rec.Status, rec.At, rec.Reason = StepExecuted, e.clock.Now(), "found in effect"
}

// inFlight returns the step record an interruption left executing (the
// provider was called; whether it changed anything is unknown), if any,
// and whether it is a rollback step. There is at most one: steps are
// written one at a time, and a rollback starts after the plan's step
// that failed is marked so.
func (x *Execution) inFlight() (rec *StepRecord, rollback bool) {
	for i := range x.Steps {
		if x.Steps[i].Status == StepExecuting {
			return &x.Steps[i], false
		}
	}
	for i := range x.Rollback {
		if x.Rollback[i].Status == StepExecuting {
			return &x.Rollback[i], true
		}
	}
	return nil, false
}

// abandon ends the interrupted plan id of target, too old to be resumed (Resume's
// maxAge), without acting. A step its interruption left executing is
// first reconciled with the target's state, as run does (a size read as
// unknown while it is applied is waited for, within the monitoring plan's
// Timeout): found in effect, it is executed and its change recorded in
// the History; found where it started, it is skipped and its reservation
// refunded; found elsewhere, it failed. Then a plan that was not rolling back stops (no error), and
// one whose rollback was interrupted fails (ErrRollback: the change it
// was undoing stays). When the target cannot be read, the plan is left
// as it is, for a later Resume, and the error returned. ok is false when
// the plan runs in this process, is no longer in the journal, or cannot
// be loaded from it (with the error).
func (e *Engine) abandon(ctx context.Context, id, target string, maxAge time.Duration) (_ Execution, ok bool, _ error) {
	if !e.lockPlan(id, target) {
		return Execution{}, false, nil
	}
	defer e.unlockPlan(id, target)
	x, found, err := e.journal.Load(ctx, id)
	switch {
	case err != nil:
		return Execution{}, false, fmt.Errorf("scaling: resume %s: %w: %w", id, errJournal, err)
	case !found:
		return Execution{}, false, nil
	case x.Status.Final(): // finished meanwhile
		return x, true, x.Err
	}
	p := x.Plan
	reason := fmt.Sprintf("interrupted plan older than %s not resumed", maxAge)
	if rec, rollback := x.inFlight(); rec != nil {
		s := rec.Step
		actual, err := e.known(ctx, p) // a size being applied is waited for, as run does
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return x, true, cerr
			}
			return x, true, &StepError{PlanID: p.ID, Step: s.Index, Stage: StageRead, Err: err}
		}
		switch atTo, atFrom := actual.where(s); {
		case atTo:
			e.inEffect(p, rec, rollback)
		case atFrom:
			if e.refund(ctx, p, rec, true) {
				return x, true, ctx.Err()
			}
			rec.Status, rec.At, rec.Reason = StepSkipped, e.clock.Now(), reason+"; its interrupted write did not take effect"
		default:
			rec.Status, rec.At, rec.Reason = StepFailed, e.clock.Now(),
				fmt.Sprintf("%s; %v: found %s, expected %s or %s", reason, ErrDrift, actual, stateString(s.From, s.FromSize), stateString(s.To, s.ToSize))
		}
	}
	if x.RollbackCause != "" {
		cause := x.rollbackCause()
		e.skipRest(&x, reason)
		e.rollbackFailed(&x, cause, errors.New(reason))
		e.save(ctx, &x)
		return x, true, x.Err
	}
	x.Status, x.Err, x.Reason = PlanStopped, nil, reason
	e.skipRest(&x, x.Reason)
	e.save(ctx, &x)
	e.emit(Event{Time: e.clock.Now(), Kind: EventPlanStopped, Target: p.Target.ID, PlanID: p.ID, Strategy: p.Strategy, Reason: x.Reason})
	return x, true, nil
}

// clamp shortens step i to granted instances and re-splits the rest of
// the plan from there.
func (e *Engine) clamp(x *Execution, i int, granted int) {
	s := x.Steps[i].Step
	to := x.Plan.To
	next := s.To
	next.Desired = s.From.Desired + granted*sign(s.To.Desired-s.From.Desired)
	next.Min, next.Max = min(to.Min, next.Desired), max(to.Max, next.Desired)
	if next == to {
		return
	}
	s.To = next
	rest := gradualSteps(next, to, e.maxStep)
	x.Steps = x.Steps[:i]
	x.Steps = append(x.Steps, StepRecord{Step: s, Status: StepPending})
	for _, r := range rest {
		r.Index = len(x.Steps) + 1
		x.Steps = append(x.Steps, StepRecord{Step: r, Status: StepPending})
	}
	// A new array: the old one is the caller's Plan's (Execute's p).
	x.Plan.Steps = make([]PlanStep, 0, len(x.Steps))
	for _, r := range x.Steps {
		x.Plan.Steps = append(x.Plan.Steps, r.Step)
	}
}

// direction returns the rate-limit budget step s spends: Up for a scale
// out, Down for a scale in, and for a resize the way its sizes move,
// compared in vCPUs and in memory: Up when one grows and none shrinks,
// Down when one shrinks and none grows (or nothing compared changes: a
// function's timeout alone). When the sizes do not tell, both is true
// and the step spends Up and Down (one event of ratelimit.Both with a
// BothReserver, else one event each), so that a resize counted in the wrong
// budget never lets the other be exceeded (fail closed): vCPUs or memory
// given on one side only (a driver that reports the instance type alone,
// as the AWS driver does, against a strategy's target with its vCPUs and
// memory), another instance type without either, or vCPUs and memory
// moving opposite ways.
func direction(s PlanStep) (d ratelimit.Direction, both bool) {
	switch s.Action {
	case safety.ActionScaleOut:
		return ratelimit.Up, false
	case safety.ActionResize:
	default:
		return ratelimit.Down, false
	}
	from, to := s.FromSize, s.ToSize
	unknown := (from.VCPU > 0) != (to.VCPU > 0) || (from.MemoryMiB > 0) != (to.MemoryMiB > 0) ||
		from.VCPU == 0 && from.MemoryMiB == 0 && from.InstanceType != to.InstanceType
	up := to.VCPU > from.VCPU && from.VCPU > 0 || to.MemoryMiB > from.MemoryMiB && from.MemoryMiB > 0
	down := to.VCPU < from.VCPU && to.VCPU > 0 || to.MemoryMiB < from.MemoryMiB && to.MemoryMiB > 0
	switch {
	case unknown || up && down:
		return ratelimit.Up, true
	case up:
		return ratelimit.Up, false
	}
	return ratelimit.Down, false
}

// write sets the capacity (or size), retrying throttling with backoff on
// the engine's clock until RetryDeadline, the target read again before
// each retry (notWritten when it moved); each attempt is bounded by
// WriteTimeout (attempt), and one that timed out is not retried.
func (e *Engine) write(ctx context.Context, p Plan, s PlanStep, to provider.CapacitySpec, toSize provider.Size) error {
	if err := e.writable(s); err != nil {
		return err
	}
	start := e.clock.Now()
	backoff := e.cfg.RetryBackoff
	for {
		// Right before every attempt, as the Fencer's contract says: the
		// term may have ended during the gate, the reservation, the
		// journal's save or a throttled attempt's backoff.
		if e.fencer != nil {
			if err := e.fencer.Fence(ctx, p.ID, s.Index); err != nil {
				return &notWritten{stage: StageFence, err: err}
			}
		}
		err := e.attempt(ctx, p, s, to, toSize)
		if err == nil || !errors.Is(err, provider.ErrThrottled) || errors.Is(err, ErrWriteTimeout) {
			return err
		}
		if e.clock.Now().Sub(start)+backoff > e.cfg.RetryDeadline {
			return fmt.Errorf("throttled for %s: %w", e.cfg.RetryDeadline, err)
		}
		e.emit(e.stepEvent(p, s, EventStepRetried, fmt.Sprintf("throttled; retrying in %s", backoff), err))
		if err := e.wait(ctx, backoff); err != nil {
			return err
		}
		// Read again before the retry, as before the step: a target
		// moved during the backoff (minutes, waiting out a cooldown) was
		// changed by someone else, and the retry would write over it
		// what the gate approved from where the step starts.
		o, err := e.known(ctx, p)
		if err != nil {
			if cerr := ctx.Err(); cerr != nil {
				return cerr
			}
			return &notWritten{stage: StageRead, err: err}
		}
		if atTo, atFrom := o.where(s); !atTo && !atFrom {
			return &notWritten{stage: StageRead, err: fmt.Errorf("%w: found %s before retrying a throttled write, expected %s or %s",
				ErrDrift, o, stateString(s.From, s.FromSize), stateString(s.To, s.ToSize))}
		}
		backoff = max(e.cfg.RetryBackoff, min(2*backoff, DefaultMaxRetryBackoff)) // never below the first
	}
}

// attempt makes one provider write of step s, bounded by WriteTimeout in
// real time (an I/O bound, not the engine's clock). A write cut off by
// that bound while ctx lives returns an error matching ErrWriteTimeout
// (and the provider's error): its outcome is unknown. A write that
// returns nil after the bound took effect.
func (e *Engine) attempt(ctx context.Context, p Plan, s PlanStep, to provider.CapacitySpec, toSize provider.Size) error {
	wctx, cancel := context.WithTimeoutCause(ctx, e.cfg.WriteTimeout, ErrWriteTimeout)
	defer cancel()
	var err error
	if s.Action == safety.ActionResize {
		err = e.cloud.Resizer.Resize(wctx, p.Target.Resource.ID, toSize)
	} else {
		err = e.cloud.Scaler.SetCapacity(wctx, p.Target.Resource.ID, to)
	}
	if err != nil && ctx.Err() == nil && errors.Is(context.Cause(wctx), ErrWriteTimeout) {
		return fmt.Errorf("%w after %s, its outcome unknown (it may have taken effect, or still take effect): %w", ErrWriteTimeout, e.cfg.WriteTimeout, err)
	}
	return err
}

// notWritten is write's error when an attempt was not made: the Fencer
// refused right before it (StageFence), or, before a retry, the target
// could not be read or was found moved by someone else (StageRead,
// ErrDrift). Nothing was written (an earlier attempt was throttled, which
// changes nothing).
type notWritten struct {
	stage Stage
	err   error
}

func (f *notWritten) Error() string { return f.err.Error() }
func (f *notWritten) Unwrap() error { return f.err }

// writable returns an error matching provider.ErrInvalid, naming the
// Cloud field, when the engine lacks the provider capability step s
// writes with: a Resizer for a resize, a Scaler for a change of capacity
// (NewEngine requires only one of them).
func (e *Engine) writable(s PlanStep) error {
	if s.Action == safety.ActionResize {
		if e.cloud.Resizer == nil {
			return provider.Invalid("cloud.resizer", nil, "is required to resize")
		}
		return nil
	}
	if e.cloud.Scaler == nil {
		return provider.Invalid("cloud.scaler", nil, "is required to scale groups")
	}
	return nil
}

// wait waits d on the engine's clock, or until ctx ends. An ended ctx
// wins even when the wait is over (select picks at random among ready
// cases), so that no step is retried after ctx ended.
func (e *Engine) wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-e.clock.After(d):
		return nil
	}
}

// observed is a target's capacity or size as read.
type observed struct {
	capacity   provider.Capacity
	size       provider.Size
	horizontal bool
	// stopping is set for a group whose plan starts or ends stopped (a
	// desired capacity of 0): only its steps carry a Min of 0 from a
	// stopped group's reported bounds, which a driver keeping its own
	// floor replaces (keptFloor). Any other plan's group is matched
	// exactly, so that a floor raised outside the plan is drift.
	stopping bool
	// keptMin and keptMax are set for a group whose driver keeps bounds of
	// its own (provider.BoundsKeeper) and whose plan keeps the bounds it
	// read, and read its Min (keptMin) or Max (keptMax) at its desired
	// capacity: a bound the driver may have widened to include a desired
	// capacity set outside the group's own bounds (a kubectl scale), and
	// which it does not store when passed back (keptBound).
	keptMin, keptMax bool
}

func (o observed) String() string {
	if o.horizontal {
		return specString(o.capacity.CapacitySpec)
	}
	return sizeString(o.size)
}

func stateString(c provider.CapacitySpec, s provider.Size) string {
	if s.IsZero() {
		return specString(c)
	}
	return sizeString(s)
}

// matches reports whether the observed state is the given spec (groups) or
// size (vertical: the fields the size sets): exactly, or for a group
// whose plan starts or ends stopped, with its driver's floor kept in place
// of spec's Min of 0 (keptFloor).
func (o observed) matches(spec provider.CapacitySpec, size provider.Size) bool {
	if o.horizontal {
		have := o.capacity.CapacitySpec
		return have == spec || o.stopping && keptFloor(have, spec) || o.keptBound(have, spec)
	}
	return sizeMatches(o.size, size)
}

// keptFloor reports whether a group read as have is where spec put it
// but for its Min: spec's 0, have's a floor of the driver's own, at most
// the desired capacity. A stopped group reports a Min of 0 when its
// bounds come from a policy the driver keeps (the Kubernetes driver's
// Config.Workloads and bound annotations): a wake passes that 0 back, and
// the driver keeps the policy's floor rather than store the 0.
func keptFloor(have, spec provider.CapacitySpec) bool {
	return spec.Min == 0 && have.Min > 0 && have.Min <= have.Desired &&
		have.Desired == spec.Desired && have.Max == spec.Max
}

// keptBound reports whether a group read as have is where spec put it but
// for a bound its driver kept: spec's Min (keptMin) below have's, which is
// at most the desired capacity, or spec's Max (keptMax) above have's, at
// least the desired capacity. A driver whose bounds are a policy of its
// own (the Kubernetes driver's bound annotations) reports a group scaled
// outside them by someone else with bounds widened to include its desired
// capacity; a plan that keeps those bounds passes them back, and the
// driver keeps its own rather than store the widened ones (which would
// lower its owner's floor, or raise the ceiling, for good). Capacity then
// reports its own bounds, widened to the new desired capacity only.
func (o observed) keptBound(have, spec provider.CapacitySpec) bool {
	return (o.keptMin || o.keptMax) && have.Desired == spec.Desired &&
		(have.Min == spec.Min || o.keptMin && spec.Min < have.Min && have.Min <= have.Desired) &&
		(have.Max == spec.Max || o.keptMax && spec.Max > have.Max && have.Max >= have.Desired)
}

// spec is what step s writes to a group read as o: its To, but for a
// bound its driver kept (keptBound), which the write passes back as read,
// widened only to the step's desired capacity: bounds a driver reports,
// which it does not store when passed back, where the step's own (the
// plan's widened bounds, a bound below its floor or above its ceiling)
// would be stored by it as new bounds.
func (o observed) spec(s PlanStep) provider.CapacitySpec {
	to := s.To
	if !o.horizontal {
		return to
	}
	have := o.capacity.CapacitySpec
	if o.keptMin && to.Min < have.Min {
		to.Min = min(have.Min, to.Desired)
	}
	if o.keptMax && to.Max > have.Max {
		to.Max = max(have.Max, to.Desired)
	}
	return to
}

// where reports whether the observed state is step s's To (to) or its
// From (from); neither when it is elsewhere (drift). For a group, an
// exact match wins over keptBound's (which only a plan that keeps bounds
// read at its desired capacity allows) and keptFloor's (which only a plan
// that starts or ends stopped allows), and only one of them is reported: a
// step that only lowers the Min to 0 starts exactly where keptFloor would
// take it as done, and is written.
func (o observed) where(s PlanStep) (to, from bool) {
	if !o.horizontal {
		return sizeMatches(o.size, s.ToSize), sizeMatches(o.size, s.FromSize)
	}
	switch have := o.capacity.CapacitySpec; {
	case have == s.To:
		return true, false
	case have == s.From:
		return false, true
	case o.keptBound(have, s.To):
		return true, false
	case o.keptBound(have, s.From):
		return false, true
	case !o.stopping:
		return false, false
	case keptFloor(have, s.To):
		return true, false
	}
	return false, keptFloor(o.capacity.CapacitySpec, s.From)
}

// sizeMatches reports whether have has every field want sets, but the
// vCPUs and memory of an instance type: the type decides them, and a
// driver may report the type alone (the AWS driver does).
func sizeMatches(have, want provider.Size) bool {
	switch {
	case want.InstanceType != "" && have.InstanceType != want.InstanceType:
		return false
	case want.InstanceType == "" && want.MemoryMiB != 0 && have.MemoryMiB != want.MemoryMiB:
		return false
	case want.Timeout != 0 && have.Timeout != want.Timeout:
		return false
	case want.InstanceType == "" && want.VCPU != 0 && have.VCPU != want.VCPU:
		return false
	}
	return true
}

// read reads the target's current capacity (groups) or size (vertical),
// the read bounded by readContext.
func (e *Engine) read(ctx context.Context, p Plan) (observed, error) {
	ctx, cancel := readContext(ctx, p)
	defer cancel()
	if p.Target.horizontal() {
		if e.cloud.Scaler == nil {
			return observed{}, provider.Invalid("cloud.scaler", nil, "is required to scale groups")
		}
		c, err := e.cloud.Scaler.Capacity(ctx, p.Target.Resource.ID)
		keeps := e.keepsBounds && p.From.Min == p.To.Min && p.From.Max == p.To.Max
		return observed{capacity: c, horizontal: true, stopping: p.From.Desired == 0 || p.To.Desired == 0,
			keptMin: keeps && p.From.Min == p.From.Desired && p.From.Desired > 0,
			keptMax: keeps && p.From.Max == p.From.Desired}, err
	}
	if e.cloud.Inventory == nil {
		return observed{}, provider.Invalid("cloud.inventory", nil, "is required to resize")
	}
	r, err := e.cloud.Inventory.Get(ctx, p.Target.Resource.ID)
	return observed{size: r.Size}, err
}

// readContext bounds one provider read of plan p's target (its capacity,
// size or a signal's metric) by the monitoring plan's Timeout, in real
// time (an I/O bound, as EngineConfig.WriteTimeout is for writes), so that
// a driver whose read hangs holds the plan, and its target, no longer
// than a step's verification may take: the read fails, and so does the
// verification. A Timeout of 0 bounds nothing.
func readContext(ctx context.Context, p Plan) (context.Context, context.CancelFunc) {
	if p.Monitoring.Timeout <= 0 {
		return ctx, func() {}
	}
	return context.WithTimeout(ctx, p.Monitoring.Timeout)
}

// unknownSize reports whether o is a vertical target's size read as
// unknown (zero) though plan p started from a known one: a size being
// applied, which known waits for.
func (o observed) unknownSize(p Plan) bool {
	return !p.Target.horizontal() && o.size.IsZero() && !p.FromSize.IsZero()
}

// known reads the target as read does, and a vertical target whose size
// reads as unknown (zero: a driver reports a size still being applied so,
// as the AWS driver does a Lambda function while its update is in
// progress) though the plan started from a known one again, polling on the engine's clock, until it is known or
// the monitoring plan's Timeout passes (ErrNotVerified): the plan's
// rollback and resume start from the real size, and the safety gate
// refuses to resize from an unknown one.
func (e *Engine) known(ctx context.Context, p Plan) (observed, error) {
	start := e.clock.Now()
	for {
		o, err := e.read(ctx, p)
		if err != nil || !o.unknownSize(p) {
			return o, err // a target planned from no size has none yet: not waited for
		}
		elapsed := e.clock.Now().Sub(start)
		if elapsed >= p.Monitoring.Timeout {
			return o, fmt.Errorf("%w: the size is unknown after %s (an update still being applied, or one that failed)", ErrNotVerified, p.Monitoring.Timeout)
		}
		if err := e.wait(ctx, min(e.cfg.PollInterval, p.Monitoring.Timeout-elapsed)); err != nil {
			return o, err
		}
	}
}

// verify waits for the step to settle within the monitoring plan's
// Timeout, then checks its signals over the Window (read in whole minutes
// from the minute it settled in). A signal with no data in the window
// (read again until the Timeout has passed since the window ended, as
// metrics are published late), or read as an infinite value, is unknown,
// and unknown is not healthy: the step is not verified; but a step that
// leaves a group no instance has no
// instance to report its signals, and passes without their data (data it
// has is checked). A window with data that is not yet published up to
// its end (windowPublished) is read again too, until the Timeout, and
// then checked on the data it has. A signal whose missing data are
// zeros (Signal.MissingIsZero: an error count, published only when
// errors happen) is not waited for until its samples reach the window's
// end, which a quiet minute's never do: it is read again until its
// PublishDelay has passed since the window's end (also after a step to
// zero: its events need no instance to report them; also past the
// Timeout after the window's wait, when the window, read in whole
// minutes, ends after that wait), and then checked on that read, no
// data reading 0. A throttled read of the window
// (provider.ErrThrottled) is read again too; a signal with no read
// answered by the Timeout is not verified, with the throttling as cause
// (a MissingIsZero one too: a read that did not answer is no zero).
func (e *Engine) verify(ctx context.Context, p Plan, s PlanStep) error {
	settledAt, err := e.settle(ctx, p, s.To, s.ToSize, p.Monitoring.Timeout)
	if err != nil {
		return err
	}
	if len(p.Monitoring.Signals) == 0 || e.cloud.Metrics == nil || p.Monitoring.Window <= 0 {
		return nil
	}
	if err := e.wait(ctx, p.Monitoring.Window); err != nil {
		return err
	}
	// The window is read in whole minutes (CloudWatch's resolution, and
	// the coarsest common one), from the minute the step settled in.
	start := settledAt.Truncate(time.Minute)
	span := (p.Monitoring.Window + time.Minute - 1).Truncate(time.Minute)
	// Metrics are published late (CloudWatch's minutes after their
	// period): a window without data yet, or with data not yet up to its
	// end, is read again until the Timeout has passed since it ended.
	ended := e.clock.Now()
	toZero := p.Target.horizontal() && s.To.Desired == 0
	for _, sig := range p.Monitoring.Signals {
		stat := sig.Statistic
		if stat == "" {
			stat = provider.StatMax
		}
		q := provider.Query{ResourceID: p.Target.Resource.ID, Metric: sig.Metric, Start: start, End: start.Add(span), Step: span, Statistic: stat}
		var (
			v         float64
			n         int
			complete  bool
			throttled error // the latest read's, when it was throttled
			// A signal whose missing data are zeros is published once
			// its delay has passed since the window's end (a quiet
			// window has no sample to show it), also at zero capacity:
			// its events (a load balancer's errors) need no instance
			// to report them.
			published = q.End.Add(sig.publishDelay(p.Monitoring.Timeout))
			// The reads end the Timeout after the window's wait ended,
			// and for a MissingIsZero signal never before its delay has
			// passed: a window not of whole minutes is read to the
			// minute after it, up to a minute after its wait, and no
			// data read before the delay is not yet a quiet window.
			deadline = ended.Add(p.Monitoring.Timeout)
		)
		if sig.MissingIsZero && published.After(deadline) {
			deadline = published
		}
		for {
			if sig.MissingIsZero {
				complete = !e.clock.Now().Before(published)
			} else if !toZero {
				// Checked before the window is read, so that the read
				// holds every sample the check saw: a minute published
				// between the two is not taken as read.
				rctx, cancel := readContext(ctx, p)
				complete, err = e.windowPublished(rctx, q)
				cancel()
				if err != nil {
					return fmt.Errorf("%w: signal %s could not be read: %w", ErrNotVerified, sig, err)
				}
			}
			rctx, cancel := readContext(ctx, p)
			ser, err := e.cloud.Metrics.QueryMetric(rctx, q)
			cancel()
			switch {
			case errors.Is(err, provider.ErrThrottled) && ctx.Err() == nil:
				// Tells nothing of the step: read again at the next
				// poll, up to the Timeout. The samples the check saw
				// are in no read: an earlier read is not taken for
				// the published window.
				throttled, complete = err, false
			case err != nil:
				return fmt.Errorf("%w: signal %s could not be read: %w", ErrNotVerified, sig, err)
			default:
				throttled = nil
				if rv, _, rn := meanOfLast(ser, 1, time.Time{}); rn > 0 {
					v, n = rv, rn // the latest read with data (a later one may have none: the Kubernetes metrics API's)
				}
			}
			if throttled == nil && complete && sig.MissingIsZero {
				break // no data is 0
			}
			if throttled == nil && !sig.MissingIsZero && (toZero || complete && n > 0) {
				// A group at zero: its instances are gone, no more
				// data is coming.
				break
			}
			now := e.clock.Now()
			if !now.Before(deadline) {
				break
			}
			d := min(e.cfg.PollInterval, deadline.Sub(now))
			if sig.MissingIsZero && now.Before(published) {
				d = min(d, published.Sub(now)) // read when the delay has passed, not a poll after
			}
			if err := e.wait(ctx, d); err != nil {
				return err
			}
		}
		if n == 0 && throttled != nil {
			return fmt.Errorf("%w: signal %s could not be read within %s after the window: %w", ErrNotVerified, sig, p.Monitoring.Timeout, throttled)
		}
		switch {
		case n == 0 && sig.MissingIsZero:
			v = 0 // no event in the window: checked as any value
		case n == 0 && toZero:
			// A group's metric is reported by its instances, and none is
			// left: no data is what a group at zero has, not unknown.
			continue
		case n == 0:
			return fmt.Errorf("%w: no data for signal %s in the %s after settling, nor published within %s after", ErrNotVerified, sig, p.Monitoring.Window, p.Monitoring.Timeout)
		}
		if !complete && (!toZero || sig.MissingIsZero) {
			e.log.Warn("scaling: a verification signal's window is checked on the data published within the timeout, which do not reach its end",
				"plan", p.ID, "step", s.Index, "signal", sig.String(), "window_start", q.Start, "window_end", q.End, "timeout", p.Monitoring.Timeout)
		}
		if math.IsInf(v, 0) {
			return fmt.Errorf("%w: signal %s read as %g, which is no value: unknown", ErrNotVerified, sig, v)
		}
		if !sig.healthy(v) {
			return fmt.Errorf("%w: signal %s unhealthy: %.3g", ErrNotVerified, sig, v)
		}
	}
	return nil
}

// The grid on which windowPublished reads a verification window's
// samples: one-minute steps (CloudWatch's standard resolution, and the
// window's unit), from publishLookback before the window, so that the
// period of a source that samples every 5 minutes (EC2's basic
// monitoring) is seen in two of them whatever the window.
const (
	publishStep     = time.Minute
	publishLookback = 10 * time.Minute
)

// windowPublished reports whether the samples of the verification window
// q (its one-step read) are published as far as its source will publish
// them. It reads the metric again on a grid of publishStep, from
// publishLookback before the window to the minute after now (at least to
// the window's end), and takes each step with data for a sample stamped
// at the step's start. The source's period p is the shortest distance
// between two consecutive samples of that read (publishStep with fewer
// than two). The window is published when
//
//   - a sample lies at or after its end: the source publishes past it,
//     and fills in no earlier period; or
//   - its last sample's period reaches the window's end (last + p ≥
//     End): the next sample is stamped at or after the end, outside the
//     window's read, so no sample the window holds is missing. A sample
//     stamped in the window whose period ends after it (a window end not
//     aligned to the source's periods) is waited for: the window's read
//     takes it once published, and until then the window's last minutes
//     have no data.
//
// A source that cannot read the finer grid (provider.ErrUnsupported or
// ErrInvalid: a counter's sum of EC2 basic monitoring at one minute) is
// taken as published: the window is checked on what its one-step read
// has, as before. A throttled read (provider.ErrThrottled) tells nothing
// either way: the window is taken as not yet published, and read again at
// the next poll, up to the Timeout, rather than fail the step for a read
// only meant to tell whether to wait.
func (e *Engine) windowPublished(ctx context.Context, q provider.Query) (bool, error) {
	g := q
	g.Start, g.Step = q.Start.Add(-publishLookback), publishStep
	if end := e.clock.Now().Truncate(publishStep).Add(publishStep); end.After(g.End) {
		g.End = end
	}
	s, err := e.cloud.Metrics.QueryMetric(ctx, g)
	switch {
	case errors.Is(err, provider.ErrUnsupported) || errors.Is(err, provider.ErrInvalid):
		return true, nil
	case errors.Is(err, provider.ErrThrottled) && ctx.Err() == nil:
		return false, nil
	case err != nil:
		return false, err
	}
	var (
		last, prev time.Time
		period     time.Duration
	)
	for i, v := range s.Values {
		if provider.IsGap(v) {
			continue
		}
		t := g.Start.Add(time.Duration(i) * g.Step) // the grid asked for (a source's Start is q's)
		if !t.Before(q.End) {
			return true, nil
		}
		if d := t.Sub(prev); !prev.IsZero() && (period == 0 || d < period) {
			period = d
		}
		prev = t
		if !t.Before(q.Start) {
			last = t
		}
	}
	if last.IsZero() {
		return false, nil
	}
	if period == 0 {
		period = publishStep
	}
	return !last.Add(period).Before(q.End), nil
}

// settle polls until the target reached spec (every desired instance
// present and ready) or size, or the timeout passes on the engine's
// clock. It returns when it settled.
func (e *Engine) settle(ctx context.Context, p Plan, spec provider.CapacitySpec, size provider.Size, timeout time.Duration) (time.Time, error) {
	start := e.clock.Now()
	var last observed
	for {
		o, err := e.read(ctx, p)
		if err != nil && ctx.Err() != nil {
			return time.Time{}, ctx.Err()
		}
		if err == nil {
			last = o
			if p.Target.horizontal() && o.matches(spec, size) && o.capacity.Settled() ||
				!p.Target.horizontal() && sizeMatches(o.size, size) {
				return e.clock.Now(), nil
			}
		}
		elapsed := e.clock.Now().Sub(start)
		if elapsed >= timeout {
			if err != nil {
				return time.Time{}, fmt.Errorf("%w: could not read the target within %s: %w", ErrNotVerified, timeout, err)
			}
			if p.Target.horizontal() {
				return time.Time{}, fmt.Errorf("%w: capacity did not settle within %s: desired %d, current %d, ready %d", ErrNotVerified,
					timeout, last.capacity.Desired, last.capacity.Current, last.capacity.Ready)
			}
			return time.Time{}, fmt.Errorf("%w: size is %s, not %s, after %s", ErrNotVerified, sizeString(last.size), sizeString(size), timeout)
		}
		if err := e.wait(ctx, min(e.cfg.PollInterval, timeout-elapsed)); err != nil {
			return time.Time{}, err
		}
	}
}

// rollback starts undoing the plan after cause (a step failed or was not
// verified): it marks the plan as rolling back (RollbackCause) and saves
// it, so that an interruption from here on leaves a plan whose resume
// finishes the rollback, then rolls back (undo).
func (e *Engine) rollback(ctx context.Context, x *Execution, cause error) {
	p := x.Plan
	e.skipRest(x, "rolled back")
	x.Err, x.RollbackCause, x.rollbackErr = cause, cause.Error(), cause
	e.emit(Event{Time: e.clock.Now(), Kind: EventRollbackStarted, Target: p.Target.ID, PlanID: p.ID, Strategy: p.Strategy,
		From: p.To, To: p.From, FromSize: p.ToSize, ToSize: p.FromSize, Reason: cause.Error(), Err: cause})
	e.save(ctx, x)
	e.undo(ctx, x, cause)
}

// resumeRollback finishes the rollback of a plan interrupted while it
// rolled back, from the target's real state.
func (e *Engine) resumeRollback(ctx context.Context, x *Execution) {
	cause := x.rollbackCause()
	x.Err = cause
	e.undo(ctx, x, cause)
}

// rollbackCause returns the cause of x's rollback: the error itself when
// the journal kept it (in memory), else an error of its text.
func (x *Execution) rollbackCause() error {
	if x.rollbackErr == nil {
		x.rollbackErr = errors.New(x.RollbackCause)
	}
	return x.rollbackErr
}

// rollbackFailed ends the plan as failed: its rollback after cause did
// not finish, because of err.
func (e *Engine) rollbackFailed(x *Execution, cause, err error) {
	p := x.Plan
	x.Status, x.Reason = PlanFailed, fmt.Sprintf("%v; rollback failed: %v", cause, err)
	x.Err = errors.Join(cause, &StepError{PlanID: p.ID, Step: 0, Stage: StageRollback, Err: fmt.Errorf("%w: %w", ErrRollback, err)})
	e.emit(Event{Time: e.clock.Now(), Kind: EventRollbackFailed, Target: p.Target.ID, PlanID: p.ID, Strategy: p.Strategy, Reason: x.Reason, Err: x.Err})
}

// undo rolls the plan back from the target's real state to the plan's
// From, through the gate, with gradual steps numbered on after the
// rollback steps already recorded; each is verified to settle, the
// target read again right before it (found elsewhere than where it
// starts, it was changed by someone else: ErrDrift, the rollback fails).
// A rollback
// step an interruption left behind (executing, or executed and not yet
// settled) is first reconciled with the target's state: found in effect,
// it is recorded and settled; found where it started, skipped. A resize
// planned from no size (a pod without requests) cannot be undone once a
// size is read, and a group found at a desired capacity outside those
// the plan went through, or a resource at neither of its sizes, was
// changed by someone else (ErrDrift), whose change is not undone: the
// rollback fails. undo sets the plan's final status, or interrupted
// when ctx ends: the plan keeps RollbackCause, and its resume finishes
// the rollback.
func (e *Engine) undo(ctx context.Context, x *Execution, cause error) {
	p := x.Plan
	fail := func(err error) {
		if cerr := ctx.Err(); cerr != nil {
			// Cut off, not failed: the change stays unverified until the
			// resume rolls back from wherever the target is then.
			x.Status, x.Err, x.Reason = PlanInterrupted, cerr, "interrupted while rolling back: "+err.Error()
			return
		}
		e.rollbackFailed(x, cause, err)
	}
	actual, err := e.known(ctx, p)
	if err != nil {
		fail(fmt.Errorf("read: %w", err))
		return
	}
	if k := x.unsettled; k > 0 {
		// The step whose write failed while its size read as unknown:
		// found in effect now that the size is known, its change is
		// recorded.
		x.unsettled = 0
		if sr := &x.Steps[k-1]; sr.Status == StepFailed {
			if atTo, _ := actual.where(sr.Step); atTo {
				s := sr.Step
				e.changed(p, Change{At: e.clock.Now(), PlanID: p.ID, Step: s.Index, Strategy: p.Strategy,
					From: s.From, To: s.To, FromSize: s.FromSize, ToSize: s.ToSize})
				sr.Reason += "; found in effect"
			}
		}
	}
	if n := len(x.Rollback); n > 0 {
		if err := e.reconcileRollback(ctx, p, &x.Rollback[n-1], actual); err != nil {
			fail(err)
			return
		}
	}
	var steps []PlanStep
	if p.Target.horizontal() {
		if lo, hi := x.reach(); actual.capacity.Desired < lo || actual.capacity.Desired > hi {
			// Not where any step of the plan left it: changed by someone
			// else, whose change the rollback does not undo.
			fail(fmt.Errorf("%w: found %s, outside the desired capacities %d to %d the plan went through", ErrDrift, actual, lo, hi))
			return
		}
		steps = gradualSteps(actual.capacity.CapacitySpec, p.From, e.maxStep)
	} else if p.FromSize.IsZero() && !actual.size.IsZero() {
		// Planned from no size (a pod without requests), which every
		// size matches and no resize restores: not rolled back.
		fail(fmt.Errorf("the plan started from no size, which no resize restores: %s stays", sizeString(actual.size)))
		return
	} else if !sizeMatches(actual.size, p.FromSize) {
		if !sizeMatches(actual.size, p.ToSize) {
			// Neither size the plan went through: resized by someone
			// else, whose change the rollback does not undo.
			fail(fmt.Errorf("%w: found %s, neither the size the plan started from (%s) nor the one it set (%s)",
				ErrDrift, sizeString(actual.size), sizeString(p.FromSize), sizeString(p.ToSize)))
			return
		}
		steps = []PlanStep{{Action: safety.ActionResize, FromSize: actual.size, ToSize: p.FromSize}}
	}
	for _, s := range steps {
		n := len(x.Rollback) + 1 // the rollback step's number
		s.Index = len(x.Steps) + n
		// Read again, as run does before each step: a target moved since
		// the last step settled (or since it was read above, while an
		// interrupted rollback step settled) was changed by someone else,
		// and this step, gated from where it starts, would undo that
		// with a change the gate never saw.
		o, err := e.read(ctx, p)
		if err != nil {
			fail(fmt.Errorf("read: %w", err))
			return
		}
		if to, from := o.where(s); !to && !from {
			fail(&StepError{PlanID: p.ID, Step: s.Index, Stage: StageRead,
				Err: fmt.Errorf("%w: found %s, expected %s or %s", ErrDrift, o, stateString(s.From, s.FromSize), stateString(s.To, s.ToSize))})
			return
		}
		if e.fencer != nil {
			if err := e.fencer.Fence(ctx, p.ID, s.Index); err != nil {
				fail(&StepError{PlanID: p.ID, Step: s.Index, Stage: StageFence, Err: err})
				return
			}
		}
		prop := e.proposal(p, s, e.clock.Now())
		prop.ID = fmt.Sprintf("%s/rollback-%d", p.ID, n)
		prop.Reason = "rollback: " + cause.Error()
		d, err := e.gate.Check(ctx, prop)
		if err == nil && !d.Allowed {
			err = fmt.Errorf("%w: not allowed by the gate: %s", safety.ErrBlocked, d.Summary())
		}
		if err != nil {
			e.emit(e.blockedEvent(p, s, prop.Now, d.Summary(), err))
			fail(&StepError{PlanID: p.ID, Step: s.Index, Stage: StageSafety, Err: err})
			return
		}
		x.Rollback = append(x.Rollback, StepRecord{Step: s, Status: StepExecuting, At: e.clock.Now()})
		e.save(ctx, x)
		rec := &x.Rollback[len(x.Rollback)-1]
		// Marked as a rollback (provider.WithRollback): the driver lets
		// it through a cooldown, most often the one the step it undoes
		// started, which may outlast RetryDeadline (Auto Scaling's
		// default cooldown is 300 s, RetryDeadline's 2 min).
		marked := provider.WithRollback(ContextWithPlan(ctx, PlanStepRef{PlanID: p.ID, Step: s.Index, Rollback: true}))
		err = e.write(marked, p, s, o.spec(s), s.ToSize)
		var fr *notWritten
		switch {
		case err == nil:
			rec.Status, rec.At = StepExecuted, e.clock.Now()
			e.changed(p, Change{At: rec.At, PlanID: p.ID, Step: s.Index, Strategy: p.Strategy, Rollback: true,
				From: s.From, To: s.To, FromSize: s.FromSize, ToSize: s.ToSize})
		case errors.As(err, &fr):
			if ctx.Err() == nil {
				rec.Status, rec.At, rec.Reason = StepSkipped, e.clock.Now(), "not written: "+fr.err.Error()
			} // else the resume reads whether an earlier attempt took effect
			fail(&StepError{PlanID: p.ID, Step: s.Index, Stage: fr.stage, Err: fr.err})
			return
		default:
			serr := &StepError{PlanID: p.ID, Step: s.Index, Stage: StageAct, Err: err}
			if ctx.Err() == nil {
				// A write that failed may have taken effect (a reply
				// lost after the backend applied it; one that timed
				// out has an unknown outcome): read whether it did,
				// waiting for a size being applied (read as unknown),
				// as the step's re-read does.
				o, rerr := e.known(ctx, p)
				if rerr == nil {
					if atTo, _ := o.where(s); atTo {
						e.inEffect(p, rec, true) // its change recorded in the History
						rec.Reason = err.Error() + "; found in effect"
						e.emit(e.stepEvent(p, s, EventStepFailed, rec.Reason, serr))
						break // settled below, and the rollback goes on
					}
				} else if ctx.Err() == nil {
					// Whether it took effect is unknown, not "it did
					// not": the error says so.
					err = fmt.Errorf("%w; whether it took effect could not be read: %w", err, rerr)
					serr.Err = err
				}
			}
			if ctx.Err() == nil {
				rec.Status, rec.At, rec.Reason = StepFailed, e.clock.Now(), err.Error()
			} // else whether it took effect is unknown: the resume reads it
			fail(serr)
			return
		}
		if err := e.settleRollback(ctx, p, rec); err != nil {
			fail(err)
			return
		}
		e.save(ctx, x)
	}
	for i := range x.Steps {
		if x.Steps[i].Status == StepExecuted || x.Steps[i].Status == StepVerified || x.Steps[i].Status == StepFailed {
			x.Steps[i].Status = StepRolledBack
		}
	}
	x.Status, x.Reason = PlanRolledBack, "rolled back: "+cause.Error()
	e.emit(Event{Time: e.clock.Now(), Kind: EventRollbackCompleted, Target: p.Target.ID, PlanID: p.ID, Strategy: p.Strategy,
		From: p.To, To: p.From, FromSize: p.ToSize, ToSize: p.FromSize, Reason: x.Reason, Err: cause})
}

// reach returns the lowest and the highest desired capacity of group
// plan x's From and of the steps it wrote or found in effect (From and
// To: a write applied in part leaves the group between them), the range
// its rollback may find the group in.
func (x *Execution) reach() (lo, hi int) {
	lo, hi = x.Plan.From.Desired, x.Plan.From.Desired
	for _, r := range x.Steps {
		if r.Status == StepPending || r.Status == StepSkipped {
			continue // never written
		}
		lo, hi = min(lo, r.Step.From.Desired, r.Step.To.Desired), max(hi, r.Step.From.Desired, r.Step.To.Desired)
	}
	return lo, hi
}

// reconcileRollback brings the last rollback step's record rec up to date
// with the target's state actual when an interruption left it behind:
// executing and found in effect, it is recorded (inEffect); executed (by
// this run or found so), it is settled; executing and found where it
// started, it is skipped (undo makes it again); anywhere else, it failed
// (undo goes on from there).
func (e *Engine) reconcileRollback(ctx context.Context, p Plan, rec *StepRecord, actual observed) error {
	s := rec.Step
	atTo, atFrom := actual.where(s)
	switch {
	case rec.Status != StepExecuting && rec.Status != StepExecuted:
		return nil
	case atTo:
		if rec.Status == StepExecuting {
			e.inEffect(p, rec, true)
		}
		return e.settleRollback(ctx, p, rec)
	case rec.Status == StepExecuting && atFrom:
		rec.Status, rec.At, rec.Reason = StepSkipped, e.clock.Now(), "interrupted; its write did not take effect"
	default:
		rec.Status, rec.At, rec.Reason = StepFailed, e.clock.Now(), fmt.Sprintf("found %s, expected %s", actual, stateString(s.To, s.ToSize))
	}
	return nil
}

// settleRollback waits for the rollback step of record rec to settle:
// then it is verified (EventRollbackStep); otherwise it failed and the
// error is a StepError at StageVerify. When ctx ends it stays executed,
// for the resume to settle.
func (e *Engine) settleRollback(ctx context.Context, p Plan, rec *StepRecord) error {
	s := rec.Step
	if _, err := e.settle(ctx, p, s.To, s.ToSize, p.Monitoring.Timeout); err != nil {
		if ctx.Err() == nil {
			rec.Status, rec.Reason = StepFailed, err.Error()
		}
		return &StepError{PlanID: p.ID, Step: s.Index, Stage: StageVerify, Err: err}
	}
	rec.Status = StepVerified
	e.emit(e.stepEvent(p, s, EventRollbackStep, "rolled back", nil))
	return nil
}

// stepEvent is the event of one step.
// blockedEvent is the EventStepBlocked of step s, stamped with now, the
// time of the gate's decision (its proposal's Now, which the safety
// engine's audit record of the same decision carries), not the clock's
// time after the gate returned: a consumer that sees both (monitor's
// metrics) counts one decision once.
func (e *Engine) blockedEvent(p Plan, s PlanStep, now time.Time, reason string, err error) Event {
	ev := e.stepEvent(p, s, EventStepBlocked, reason, err)
	ev.Time = now
	return ev
}

func (e *Engine) stepEvent(p Plan, s PlanStep, kind EventKind, reason string, err error) Event {
	return Event{Time: e.clock.Now(), Kind: kind, Target: p.Target.ID, PlanID: p.ID, Step: s.Index, Strategy: p.Strategy,
		From: s.From, To: s.To, FromSize: s.FromSize, ToSize: s.ToSize, Reason: reason, Err: err}
}

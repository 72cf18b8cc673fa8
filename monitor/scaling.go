package monitor

import (
	"strings"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// OutcomeStarted is the Outcome of a KindRollback event that opens a
// rollback (its steps follow as OutcomeDone, with their capacity).
const OutcomeStarted = "started"

// approvalRequired starts safety.Decision.Summary of a decision that
// asks for an approval.
const approvalRequired = "approval required"

// OutcomeStopped is the Outcome of a KindScalingPlan event for a plan that
// ended early without failing: the safety gate refused a step or the rate
// limiter denied one. A plan that a failure stopped (a gate or rate
// limiter that failed, a fence, a drift, a provider error) has
// OutcomeFailed.
const OutcomeStopped = "stopped"

// ScalingEvents converts an event of the scaling engine or autoscaler into
// events of the log (none for the kinds the log does not keep: decisions,
// which every evaluation makes, retries, and the end of a rollback, whose
// steps are recorded). instanceCost is what one instance of the target
// costs per hour (0 when unknown): executed steps and rollback steps then
// carry the group's cost before and after, for realised savings.
//
//	scaling                   monitor
//	planned                   KindScalingPlan   planned   (Capacity: the whole change)
//	previewed                 KindScalingStep   would_act (DryRun)
//	step_executed             KindScalingStep   done      (Capacity, Cost)
//	step_failed               KindScalingStep   failed
//	step_blocked              KindBlocked       block
//	  (approval required)     KindDecision      require_approval
//	step_rate_limited         KindRateLimited   rate_limited
//	step_verified             KindVerification  verified
//	verification_failed       KindVerification  failed
//	rollback_started          KindRollback      started
//	rollback_step             KindRollback      done      (Capacity, Cost)
//	rollback_failed           KindRollback      failed
//	plan_completed            KindScalingPlan   done
//	plan_stopped              KindScalingPlan   stopped   (failed when the event has an Err)
//	error                     KindFailure       failed
//	forecast_fallback         KindForecast      fallback  (Strategy, Value)
//	forecast_recovered        KindForecast      recovered (Strategy, Value)
//	no_data                   KindScalingData   no_data
//	data_recovered            KindScalingData   recovered (Reason names the strategy)
//
// A forecast event's error that is not a number or infinite is unknown,
// −1. A step_blocked event whose Reason is a decision that asks for an
// approval (safety.Decision.Summary: "approval required: ...") and whose
// Err, if any, is a refusal, not a failure (safety.IsFailure), is the
// require_approval decision it records, not a block. Every event has
// Source SourceScaling, ResourceID the target, Ref the plan's ID, and
// Action scale_out, scale_in or resize from the change (a change of the
// bounds alone is scale_out when they only rise, else scale_in, as the
// engine names its steps); a forecast event
// has Strategy, the strategy's name (a target's predictive strategies
// each have their own standing).
func ScalingEvents(e scaling.Event, instanceCost float64) []Event {
	ev := Event{Time: e.Time, Source: SourceScaling, ResourceID: e.Target, Ref: e.PlanID, Reason: e.Reason,
		Action: scalingAction(e)}
	if e.Err != nil {
		if ev.Reason != "" {
			ev.Reason += ": "
		}
		ev.Reason += e.Err.Error()
	}
	change := func() {
		if e.From != (provider.CapacitySpec{}) || e.To != (provider.CapacitySpec{}) {
			ev.Capacity = &CapacityChange{From: e.From.Desired, To: e.To.Desired}
		}
	}
	cost := func() {
		if instanceCost > 0 && finite(instanceCost) && ev.Capacity != nil {
			ev.Cost = &CostChange{Before: float64(ev.Capacity.From) * instanceCost, After: float64(ev.Capacity.To) * instanceCost}
		}
	}
	switch e.Kind {
	case scaling.EventPlanned:
		ev.Kind, ev.Outcome = KindScalingPlan, OutcomePlanned
		change()
	case scaling.EventPreviewed:
		ev.Kind, ev.Outcome, ev.DryRun = KindScalingStep, OutcomeWouldAct, true
		change()
	case scaling.EventStepExecuted:
		ev.Kind, ev.Outcome = KindScalingStep, OutcomeDone
		change()
		cost()
	case scaling.EventStepFailed:
		ev.Kind, ev.Outcome = KindScalingStep, OutcomeFailed
		change()
	case scaling.EventStepBlocked:
		ev.Kind, ev.Outcome = KindBlocked, string(safety.Block)
		if strings.HasPrefix(e.Reason, approvalRequired) && (e.Err == nil || !safety.IsFailure(safety.Decision{}, e.Err)) {
			// A refusal for want of an approval (safety.Decision.Summary
			// says so) is not a block.
			ev.Kind, ev.Outcome = KindDecision, string(safety.RequireApproval)
		}
	case scaling.EventStepRateLimited:
		ev.Kind, ev.Outcome = KindRateLimited, OutcomeRateLimited
	case scaling.EventStepVerified:
		ev.Kind, ev.Outcome = KindVerification, OutcomeVerified
	case scaling.EventVerificationFailed:
		ev.Kind, ev.Outcome = KindVerification, OutcomeFailed
	case scaling.EventRollbackStarted:
		ev.Kind, ev.Outcome = KindRollback, OutcomeStarted
	case scaling.EventRollbackStep:
		ev.Kind, ev.Outcome = KindRollback, OutcomeDone
		change()
		cost()
	case scaling.EventRollbackFailed:
		ev.Kind, ev.Outcome = KindRollback, OutcomeFailed
	case scaling.EventPlanCompleted:
		ev.Kind, ev.Outcome = KindScalingPlan, OutcomeDone
	case scaling.EventPlanStopped:
		ev.Kind, ev.Outcome = KindScalingPlan, OutcomeStopped
		if e.Err != nil {
			ev.Outcome = OutcomeFailed
		}
	case scaling.EventError:
		ev.Kind, ev.Outcome = KindFailure, OutcomeFailed
	case scaling.EventForecastFallback:
		ev.Kind, ev.Outcome, ev.Value, ev.Strategy = KindForecast, OutcomeFallback, forecastError(e.Value), e.Strategy
	case scaling.EventForecastRecovered:
		ev.Kind, ev.Outcome, ev.Value, ev.Strategy = KindForecast, OutcomeRecovered, forecastError(e.Value), e.Strategy
	case scaling.EventNoData:
		ev.Kind, ev.Outcome = KindScalingData, OutcomeNoData
	case scaling.EventDataRecovered:
		// Not the strategy that has data: the want of data was the
		// target's, not a strategy's, and an alerter resolves an alert
		// whose match named no strategy only on a recovery naming none.
		ev.Kind, ev.Outcome = KindScalingData, OutcomeRecovered
	default: // decision, step_retried, rollback_completed
		return nil
	}
	return []Event{ev}
}

// forecastError is a forecast event's error as the log keeps it: −1
// (unknown) for a value that is not a number or infinite (a host's
// strategy may report one; the engine passes it on), which an Event
// must not carry.
func forecastError(v float64) float64 {
	if !finite(v) {
		return -1
	}
	return v
}

// scalingAction is the safety action of a scaling event's change, as the
// engine names its step and the gate judges it: scale out or in by the
// desired capacity, at an equal one scale out when the bounds only rise
// and scale in when one falls, resize for a size change, none when the
// event carries no change.
func scalingAction(e scaling.Event) safety.Action {
	switch {
	case e.To.Desired > e.From.Desired:
		return safety.ActionScaleOut
	case e.To.Desired < e.From.Desired:
		return safety.ActionScaleIn
	case e.FromSize != e.ToSize:
		return safety.ActionResize
	case e.To == e.From:
		return ""
	case e.To.Min >= e.From.Min && e.To.Max >= e.From.Max:
		return safety.ActionScaleOut
	}
	return safety.ActionScaleIn
}

// InstanceCosts returns the instance cost of every target of an
// autoscaler's policy (TargetConfig.InstanceHourlyCost), for
// WithInstanceCost.
func InstanceCosts(cfg scaling.Config) func(target string) float64 {
	costs := make(map[string]float64, len(cfg.Targets))
	for _, t := range cfg.Targets {
		costs[t.ID] = t.InstanceHourlyCost
	}
	return func(target string) float64 { return costs[target] }
}

// ScalingObserver is a scaling.Observer that records what the scaling
// engine and the autoscaler do as events (ScalingEvents) in a Recorder,
// usually the Log:
//
//	obs := monitor.NewScalingObserver(log, monitor.WithInstanceCost(monitor.InstanceCosts(policy)))
//	engine, _ := scaling.NewEngine(scaling.EngineConfig{}, cloud, gate, scaling.WithObserver(obs))
//
// The scaling Observer has no error return: a failed Record is logged and
// kept for Err. It is safe for concurrent use.
type ScalingObserver struct {
	r   Recorder
	cfg observerConfig
	errs
}

var _ scaling.Observer = (*ScalingObserver)(nil)

// NewScalingObserver returns a ScalingObserver recording into r
// (required; a nil r records nothing and every call's error says so).
func NewScalingObserver(r Recorder, opts ...ObserverOption) *ScalingObserver {
	return &ScalingObserver{r: r, cfg: newObserverConfig(opts)}
}

// Observe records ScalingEvents(e, the target's instance cost).
func (o *ScalingObserver) Observe(e scaling.Event) {
	if o.cfg.err != nil {
		o.fail(o.cfg.log, o.cfg.err, 1)
		return
	}
	evs := ScalingEvents(e, o.cfg.cost(e.Target))
	for i := range evs {
		if evs[i].Time.IsZero() {
			evs[i].Time = o.cfg.clock.Now()
		}
	}
	o.record(o.r, o.cfg.log, evs)
}

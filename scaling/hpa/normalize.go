package hpa

import (
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// Condition reasons the normalization reports, as the HPA controller sets
// them on its AbleToScale and ScalingLimited conditions.
const (
	ReasonReadyForNewScale    = "ReadyForNewScale"    // the recommendation was not stabilized
	ReasonScaleUpStabilized   = "ScaleUpStabilized"   // a lower recent recommendation held a scale up back
	ReasonScaleDownStabilized = "ScaleDownStabilized" // a higher recent recommendation held a scale down back
	ReasonDesiredWithinRange  = "DesiredWithinRange"  // no limit applied
	ReasonScaleUpLimit        = "ScaleUpLimit"        // the scale-up rate limit applied
	ReasonScaleDownLimit      = "ScaleDownLimit"      // the scale-down rate limit applied
	ReasonTooManyReplicas     = "TooManyReplicas"     // MaxReplicas applied
	ReasonTooFewReplicas      = "TooFewReplicas"      // MinReplicas applied
)

// TimedReplicas is one unstabilized recommendation and when it was made.
type TimedReplicas struct {
	// Replicas is the recommended replica count.
	Replicas int32 `json:"replicas"`
	// At is when it was recommended.
	At time.Time `json:"at"`
}

// ScaleEvent is one rescale in one direction.
type ScaleEvent struct {
	// Change is the number of replicas added or removed (≥ 0).
	Change int32 `json:"change"`
	// At is when the rescale happened.
	At time.Time `json:"at"`
	// Outdated marks an event older than the direction's longest policy
	// period, whose slot the next event reuses.
	Outdated bool `json:"outdated,omitempty"`
}

// History is what the HPA controller remembers of one autoscaler between
// decisions: its recent unstabilized recommendations, its rescale events
// per direction (kept only when the Spec has a Behavior) and whether it
// scaled the target to zero. The zero History is the state of a
// controller that has not seen the autoscaler yet. History.Record and
// History.RecordScale update it exactly as the controller does; a host
// that keeps its own history may build one by hand.
type History struct {
	// Recommendations are the recent unstabilized recommendations. nil
	// means none yet: the first decision starts it with the current
	// replica count (recordInitialRecommendation).
	Recommendations []TimedReplicas `json:"recommendations,omitempty"`
	// ScaleUpEvents are the scale-up events.
	ScaleUpEvents []ScaleEvent `json:"scale_up_events,omitempty"`
	// ScaleDownEvents are the scale-down events.
	ScaleDownEvents []ScaleEvent `json:"scale_down_events,omitempty"`
	// ScaledToZero is the HPA's ScaledToZero condition: the autoscaler
	// itself scaled the target to zero, so it may scale it up again from
	// zero.
	ScaledToZero bool `json:"scaled_to_zero,omitempty"`
}

// Record updates h with the recommendations d made: the initial
// recommendation of a first decision, and the unstabilized recommendation
// of a normalized decision, which takes the slot of the last entry that
// has left every stabilization window (or is appended). Call it once after
// every Decide, whether or not the target was rescaled.
func (h *History) Record(d Decision) {
	if d.rec.initial && h.Recommendations == nil {
		h.Recommendations = append(h.Recommendations, TimedReplicas{Replicas: d.rec.initialReplicas, At: d.rec.now})
	}
	if !d.rec.logged {
		return
	}
	r := TimedReplicas{Replicas: d.rec.replicas, At: d.rec.now}
	if i := d.rec.replace; i >= 0 && i < len(h.Recommendations) {
		h.Recommendations[i] = r
		return
	}
	h.Recommendations = append(h.Recommendations, r)
}

// RecordScale updates h after the target was rescaled as d decided, at
// at: it stores the scale event (only when the Spec has a Behavior,
// reusing an outdated slot) and sets ScaledToZero as the controller does.
// Call it only when the rescale succeeded.
func (h *History) RecordScale(d Decision, at time.Time) {
	if !d.Rescale {
		return
	}
	h.ScaledToZero = d.ScaledToZero
	if d.rec.behavior == nil {
		return
	}
	if d.Replicas > d.rec.current {
		h.ScaleUpEvents = storeScaleEvent(h.ScaleUpEvents, d.rec.behavior.ScaleUp.longestPeriod(), at, d.Replicas-d.rec.current)
	} else {
		h.ScaleDownEvents = storeScaleEvent(h.ScaleDownEvents, d.rec.behavior.ScaleDown.longestPeriod(), at, d.rec.current-d.Replicas)
	}
}

// storeScaleEvent marks the events older than longest outdated and stores
// a new event of change at at in the last outdated slot, or appends it
// (storeScaleEvent and markScaleEventsOutdated).
func storeScaleEvent(events []ScaleEvent, longest time.Duration, at time.Time, change int32) []ScaleEvent {
	cutoff := at.Add(-longest)
	slot := -1
	for i := range events {
		if events[i].At.Before(cutoff) {
			events[i].Outdated = true
		}
		if events[i].Outdated {
			slot = i
		}
	}
	ev := ScaleEvent{Change: change, At: at}
	if slot >= 0 {
		events[slot] = ev
		return events
	}
	return append(events, ev)
}

// changeInPeriod sums the changes of the events after now − period
// (getReplicasChangePerPeriod).
func changeInPeriod(period time.Duration, events []ScaleEvent, now time.Time) int32 {
	cutoff := now.Add(-period)
	var n int32
	for _, e := range events {
		if e.At.After(cutoff) {
			n += e.Change
		}
	}
	return n
}

// NormalizeInput is what the normalization of a proposal reads.
type NormalizeInput struct {
	// Now is the time of the decision.
	Now time.Time
	// Current is the current replica count.
	Current int32
	// Desired is the proposal to normalize (the metrics' maximum).
	Desired int32
	// Min and Max are the Spec's bounds.
	Min, Max int32
	// Behavior is the Spec's behavior; nil for the legacy normalization.
	// Unset fields take the API defaults, and an unset scale-down window
	// the Config's.
	Behavior *Behavior
	// History holds the recent recommendations and scale events. The
	// proposal being normalized is not in it yet.
	History History
}

// validate checks the time, the replica counts and bounds, and the scale
// events' changes.
func (in *NormalizeInput) validate() error {
	switch {
	case in.Now.IsZero():
		return provider.Invalid("now", in.Now, "is required")
	case in.Current < 0:
		return provider.Invalid("current", in.Current, "must be ≥ 0")
	case in.Desired < 0:
		return provider.Invalid("desired", in.Desired, "must be ≥ 0")
	case in.Min < 0:
		return provider.Invalid("min", in.Min, "must be ≥ 0")
	case in.Max < 1 || in.Max < in.Min:
		return provider.Invalid("max", in.Max, fmt.Sprintf("must be ≥ 1 and ≥ min %d", in.Min))
	}
	return provider.Within("history", in.History.validate())
}

// validate checks that no scale event has a negative change.
func (h *History) validate() error {
	for i, e := range h.ScaleUpEvents {
		if e.Change < 0 {
			return provider.Invalid(fmt.Sprintf("scale_up_events[%d].change", i), e.Change, "must be ≥ 0")
		}
	}
	for i, e := range h.ScaleDownEvents {
		if e.Change < 0 {
			return provider.Invalid(fmt.Sprintf("scale_down_events[%d].change", i), e.Change, "must be ≥ 0")
		}
	}
	return nil
}

// Normalization is the result of Config.Normalize.
type Normalization struct {
	// Replicas is the normalized replica count.
	Replicas int32 `json:"replicas"`
	// Stabilized is the recommendation after stabilization, before the
	// bounds and rate limits.
	Stabilized int32 `json:"stabilized"`
	// AbleToScale is the AbleToScale condition's reason:
	// ReasonReadyForNewScale, ReasonScaleUpStabilized or
	// ReasonScaleDownStabilized.
	AbleToScale string `json:"able_to_scale"`
	// ScalingLimited is the ScalingLimited condition's reason:
	// ReasonDesiredWithinRange or the limit that applied.
	ScalingLimited string `json:"scaling_limited"`
}

// Normalize bounds a proposal as the HPA controller does, as a pure
// function of its input: without a Behavior, the highest recommendation of
// the last DownscaleStabilizationWindow, then MinReplicas and the scale-up
// limit max(2 × current, 4) or MaxReplicas; with one, the stabilization
// windows of both directions, then the rate policies (counting the scale
// events of both directions in each period) and the bounds. It does not
// record the proposal: History.Record does, after Calculator.Decide. It
// returns an error matching provider.ErrInvalid for an invalid behavior or
// configuration, or an invalid input: a zero Now, a negative Current,
// Desired, Min or scale event Change, a Max below 1 or below Min.
func (c Config) Normalize(in NormalizeInput) (Normalization, error) {
	if err := c.Validate(); err != nil {
		return Normalization{}, err
	}
	if err := in.validate(); err != nil {
		return Normalization{}, err
	}
	c = c.WithDefaults()
	var b *Behavior
	if in.Behavior != nil {
		if err := in.Behavior.Validate(); err != nil {
			return Normalization{}, provider.Within("behavior", err)
		}
		d := in.Behavior.WithDefaults()
		if d.ScaleDown.StabilizationWindow == nil {
			w := c.behaviorDownscaleWindow()
			d.ScaleDown.StabilizationWindow = &w
		}
		b = &d
	}
	n, _ := normalize(c, b, in)
	return n, nil
}

// normalize is Normalize for a defaulted configuration and behavior. It
// also returns the log slot the proposal replaces (-1 to append).
func normalize(c Config, b *Behavior, in NormalizeInput) (Normalization, int) {
	var (
		n       Normalization
		replace int
	)
	if b == nil {
		n.Stabilized, replace = stabilize(in.History.Recommendations, in.Now, in.Desired, c.DownscaleStabilizationWindow)
		n.AbleToScale = ReasonReadyForNewScale
		if n.Stabilized != in.Desired {
			n.AbleToScale = ReasonScaleDownStabilized
		}
		n.Replicas, n.ScalingLimited = limitLegacy(in.Current, n.Stabilized, in.Min, in.Max)
		return n, replace
	}
	var stabilizedReason string
	n.Stabilized, stabilizedReason, replace = stabilizeWithBehavior(in.History.Recommendations, in.Now, in.Current, in.Desired,
		*b.ScaleUp.StabilizationWindow, *b.ScaleDown.StabilizationWindow)
	n.AbleToScale = ReasonReadyForNewScale
	if n.Stabilized != in.Desired {
		n.AbleToScale = stabilizedReason
	}
	n.Replicas, n.ScalingLimited = limitWithBehavior(in.Now, in.Current, n.Stabilized, in.Min, in.Max, b, in.History)
	return n, replace
}

// stabilize is stabilizeRecommendation (no Behavior): the highest of
// desired and the recommendations of the last window. It also returns the
// last entry older than the window (-1 when none), whose slot the new
// recommendation takes.
func stabilize(log []TimedReplicas, now time.Time, desired int32, window time.Duration) (int32, int) {
	highest := desired
	cutoff := now.Add(-window)
	replace := -1
	for i, r := range log {
		if r.At.Before(cutoff) {
			replace = i
		} else if r.Replicas > highest {
			highest = r.Replicas
		}
	}
	return highest, replace
}

// stabilizeWithBehavior is stabilizeRecommendationWithBehaviors: current
// moved toward desired but no further than the lowest recommendation of
// the scale-up window and the highest of the scale-down window.
func stabilizeWithBehavior(log []TimedReplicas, now time.Time, current, desired int32, upWindow, downWindow time.Duration) (int32, string, int) {
	up, down := desired, desired
	upCutoff, downCutoff := now.Add(-upWindow), now.Add(-downWindow)
	replace := -1
	for i, r := range log {
		u, d := r.At.Compare(upCutoff), r.At.Compare(downCutoff)
		if u > 0 {
			up = min(r.Replicas, up)
		}
		if d > 0 {
			down = max(r.Replicas, down)
		}
		if u < 0 && d < 0 {
			replace = i
		}
	}
	rec := current
	if rec < up {
		rec = up
	}
	if rec > down {
		rec = down
	}
	reason := ReasonScaleUpStabilized
	if desired < current {
		reason = ReasonScaleDownStabilized
	}
	return rec, reason, replace
}

// limitLegacy is convertDesiredReplicasWithRules.
func limitLegacy(current, desired, minReplicas, maxReplicas int32) (int32, string) {
	scaleUpLimit := toInt32(math.Max(2.0*float64(current), 4.0))
	maxAllowed, reason := maxReplicas, ReasonTooManyReplicas
	if maxReplicas > scaleUpLimit {
		maxAllowed, reason = scaleUpLimit, ReasonScaleUpLimit
	}
	switch {
	case desired < minReplicas:
		return minReplicas, ReasonTooFewReplicas
	case desired > maxAllowed:
		return maxAllowed, reason
	}
	return desired, ReasonDesiredWithinRange
}

// limitWithBehavior is convertDesiredReplicasWithBehaviorRate.
func limitWithBehavior(now time.Time, current, desired, minReplicas, maxReplicas int32, b *Behavior, h History) (int32, string) {
	switch {
	case desired > current:
		limit := scaleUpLimit(now, current, h.ScaleUpEvents, h.ScaleDownEvents, b.ScaleUp)
		if limit < current {
			limit = current
		}
		maxAllowed, reason := maxReplicas, ReasonTooManyReplicas
		if maxAllowed > limit {
			maxAllowed, reason = limit, ReasonScaleUpLimit
		}
		if desired > maxAllowed {
			return maxAllowed, reason
		}
	case desired < current:
		limit := scaleDownLimit(now, current, h.ScaleUpEvents, h.ScaleDownEvents, b.ScaleDown)
		if limit > current {
			limit = current
		}
		minAllowed, reason := minReplicas, ReasonTooFewReplicas
		if minAllowed < limit {
			minAllowed, reason = limit, ReasonScaleDownLimit
		}
		if desired < minAllowed {
			return minAllowed, reason
		}
	}
	return desired, ReasonDesiredWithinRange
}

// scaleUpLimit is calculateScaleUpLimitWithScalingRules: the most replicas
// the policies allow, from the replicas at each period's start.
func scaleUpLimit(now time.Time, current int32, up, down []ScaleEvent, r *ScalingRules) int32 {
	if r.SelectPolicy == SelectDisabled {
		return current
	}
	var result int32 = math.MinInt32
	pick := func(a, b int32) int32 { return max(a, b) }
	if r.SelectPolicy == SelectMin {
		result = math.MaxInt32
		pick = func(a, b int32) int32 { return min(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(p.Period, up, now) + changeInPeriod(p.Period, down, now)
		var proposed int32
		switch p.Type {
		case PolicyPods:
			proposed = start + p.Value
		case PolicyPercent:
			proposed = toInt32(math.Ceil(float64(start) * (1 + float64(p.Value)/100)))
		}
		result = pick(result, proposed)
	}
	return result
}

// scaleDownLimit is calculateScaleDownLimitWithBehaviors: the fewest
// replicas the policies allow.
func scaleDownLimit(now time.Time, current int32, up, down []ScaleEvent, r *ScalingRules) int32 {
	if r.SelectPolicy == SelectDisabled {
		return current
	}
	var result int32 = math.MaxInt32
	pick := func(a, b int32) int32 { return min(a, b) }
	if r.SelectPolicy == SelectMin {
		result = math.MinInt32
		pick = func(a, b int32) int32 { return max(a, b) }
	}
	for _, p := range r.Policies {
		start := current - changeInPeriod(p.Period, up, now) + changeInPeriod(p.Period, down, now)
		var proposed int32
		switch p.Type {
		case PolicyPods:
			proposed = start - p.Value
		case PolicyPercent:
			proposed = toInt32(float64(start) * (1 - float64(p.Value)/100))
		}
		result = pick(result, proposed)
	}
	return result
}

// toInt32 is the int32 conversion of the limits above, truncating toward
// zero, but saturating at the bounds of int32 where Go's conversion of an
// out-of-range float is platform-defined (MinInt32 on amd64, for twice a
// count above MaxInt32/2).
func toInt32(x float64) int32 {
	switch {
	case x >= math.MaxInt32:
		return math.MaxInt32
	case x <= math.MinInt32:
		return math.MinInt32
	}
	return int32(x)
}

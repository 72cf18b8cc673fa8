package hpa

import (
	"fmt"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// Condition reasons of the ScalingActive condition that Decide reports.
const (
	ReasonValidMetricFound = "ValidMetricFound" // a replica count was computed from the metrics
	ReasonScalingDisabled  = "ScalingDisabled"  // the target has zero replicas and may not scale from zero
)

// The rescale reasons Decide reports when the replicas leave the bounds.
const (
	RescaleAboveMax = "Current number of replicas above Spec.MaxReplicas"
	RescaleBelowMin = "Current number of replicas below Spec.MinReplicas"
	RescaleBelow    = "All metrics below target"
)

// Proposal is the combination of a Spec's metrics: the largest valid
// proposal (computeReplicasForMetrics).
type Proposal struct {
	// Replicas is the largest proposal of the valid metrics; -1 when the
	// metrics give none (every metric failed, or one failed and the valid
	// ones would scale down).
	Replicas int32 `json:"replicas"`
	// Metric names the metric that proposed Replicas.
	Metric string `json:"metric,omitempty"`
	// Timestamp is when that metric was measured.
	Timestamp time.Time `json:"timestamp,omitzero"`
	// Metrics holds every metric's result, in Spec order. It is the
	// Calculator's working space: valid until its next call.
	Metrics []MetricResult `json:"metrics"`
}

// Replicas computes every metric of the spec from in and combines them as
// the HPA controller does: the largest proposal wins; a failed metric
// never lets the others scale down. The error is nil when every metric was
// computed; it matches ErrInvalidMetrics (and wraps the first failure)
// when some were not, with Replicas -1 unless the valid ones scale up.
// Invalid input returns an error matching provider.ErrInvalid and
// Replicas -1.
func (c *Calculator) Replicas(in Input) (Proposal, error) {
	if err := c.check(&in); err != nil {
		return Proposal{Replicas: -1}, err
	}
	return c.replicas(&in)
}

// check validates in against the spec.
func (c *Calculator) check(in *Input) error {
	if err := in.validate(&c.m); err != nil {
		return fmt.Errorf("hpa: input: %w", err)
	}
	if len(in.Metrics) != len(c.spec.Metrics) {
		return fmt.Errorf("hpa: input: %w", provider.Invalid("metrics", len(in.Metrics), fmt.Sprintf("must hold one entry per spec metric (%d)", len(c.spec.Metrics))))
	}
	return nil
}

func (c *Calculator) replicas(in *Input) (Proposal, error) {
	c.results = c.results[:0]
	p := Proposal{}
	invalid := 0
	var first error
	mi := MetricInput{Now: in.Now, SpecReplicas: in.SpecReplicas, StatusReplicas: in.StatusReplicas, Tolerances: c.tol, Pods: in.Pods}
	for i := range c.spec.Metrics {
		mi.Values = in.Metrics[i]
		r, err := c.metric(&c.spec.Metrics[i], &mi, c.m.matches[i])
		c.results = append(c.results, r)
		if err != nil {
			if invalid == 0 {
				first = err
			}
			invalid++
			continue
		}
		if p.Replicas == 0 || r.Replicas > p.Replicas {
			p.Replicas, p.Metric, p.Timestamp = r.Replicas, c.names[i], r.Timestamp
		}
	}
	p.Metrics = c.results
	var err error
	if first != nil {
		err = fmt.Errorf("%w (%d invalid out of %d), first error is: %w", ErrInvalidMetrics, invalid, len(c.spec.Metrics), first)
	}
	if invalid >= len(c.spec.Metrics) || (invalid > 0 && p.Replicas < in.SpecReplicas) {
		return Proposal{Replicas: -1, Metrics: c.results}, err
	}
	return p, err
}

// Decision is one reconciliation of the HPA controller, computed by
// Calculator.Decide.
type Decision struct {
	// Replicas is the replica count to set; the current one when Rescale
	// is false.
	Replicas int32 `json:"replicas"`
	// Rescale reports whether Replicas differs from the current count.
	Rescale bool `json:"rescale"`
	// Reason is the rescale reason as the controller words it ("cpu
	// resource utilization (percentage of request) above target", "All
	// metrics below target", RescaleAboveMax, RescaleBelowMin).
	Reason string `json:"reason,omitempty"`
	// Proposal is the metrics' proposal before normalization; -1 when the
	// metrics were not consulted or gave none.
	Proposal int32 `json:"proposal"`
	// Metric names the metric that made the proposal.
	Metric string `json:"metric,omitempty"`
	// Metrics holds every metric's result (the Calculator's working
	// space: valid until its next call). Empty when the metrics were not
	// consulted.
	Metrics []MetricResult `json:"metrics,omitempty"`
	// Stabilized is the proposal after stabilization.
	Stabilized int32 `json:"stabilized"`
	// AbleToScale is the reason of the AbleToScale condition after
	// normalization (ReasonReadyForNewScale, ReasonScaleUpStabilized,
	// ReasonScaleDownStabilized); empty when there was none.
	AbleToScale string `json:"able_to_scale,omitempty"`
	// ScalingLimited is the reason of the ScalingLimited condition
	// (ReasonDesiredWithinRange or the limit that applied); empty when
	// there was no normalization.
	ScalingLimited string `json:"scaling_limited,omitempty"`
	// ScalingActive is the reason of the ScalingActive condition:
	// ReasonValidMetricFound, ReasonScalingDisabled, or the failed
	// metric's reason ("FailedGetPodsMetric") when no decision was made.
	ScalingActive string `json:"scaling_active,omitempty"`
	// ScaledToZero is the ScaledToZero condition once the decision is
	// carried out (History.RecordScale stores it).
	ScaledToZero bool `json:"scaled_to_zero"`
	// Err is ErrInvalidMetrics when some metrics failed but the others
	// scaled up: the decision stands, and the failure is reported.
	Err error `json:"-"`

	rec record
}

// record is what History.Record and RecordScale store after a decision.
type record struct {
	now             time.Time
	current         int32
	initial         bool
	initialReplicas int32
	logged          bool
	replicas        int32
	replace         int
	behavior        *Behavior
}

// Decide runs one reconciliation of the HPA controller for in, as a pure
// function of in and h: the bounds first (a target above MaxReplicas or
// below MinReplicas goes to the bound without reading metrics; one at zero
// replicas stays there unless the autoscaler scaled it to zero and may
// scale it up again), then Replicas, then the normalization
// (Config.Normalize) over h. Record the decision with h.Record(d), and the
// rescale, once done, with h.RecordScale(d, at).
//
// The error is non-nil when no decision could be made (invalid input or
// history, such as a scale event with a negative change, or the metrics
// gave no proposal); the Decision then keeps the current replicas. A decision made on some of the metrics carries the others'
// failure in Decision.Err.
func (c *Calculator) Decide(in Input, h History) (Decision, error) {
	d := Decision{Proposal: -1, Replicas: in.SpecReplicas, ScaledToZero: h.ScaledToZero}
	if err := c.check(&in); err != nil {
		return d, err
	}
	if err := h.validate(); err != nil {
		return d, fmt.Errorf("hpa: %w", provider.Within("history", err))
	}
	current := in.SpecReplicas
	minR, maxR := c.spec.Min(), c.spec.MaxReplicas
	d.rec = record{now: in.Now, current: current, behavior: c.spec.Behavior, replace: -1}

	log := h.Recommendations
	var initial [1]TimedReplicas
	if log == nil {
		d.rec.initial, d.rec.initialReplicas = true, current
		initial[0] = TimedReplicas{Replicas: current, At: in.Now}
		log = initial[:]
	}
	scaledToZero := h.ScaledToZero
	switch {
	case current == 0:
		// shouldComputeMetricsForZeroReplicas: only an autoscaler that
		// scaled the target to zero itself may scale it up again.
		canScaleFromZero := scaledToZero && c.objectOrExternal
		if (minR == 0 || !scaledToZero) && !canScaleFromZero {
			d.ScalingActive = ReasonScalingDisabled
			return d, nil
		}
	case current > maxR:
		d.Replicas, d.Rescale, d.Reason = maxR, true, RescaleAboveMax
		d.ScaledToZero = false
		return d, nil
	case current < minR:
		d.Replicas, d.Rescale, d.Reason = minR, true, RescaleBelowMin
		d.ScaledToZero = false
		return d, nil
	}

	p, err := c.replicas(&in)
	d.Metrics = p.Metrics
	if err != nil && p.Replicas == -1 {
		for _, r := range p.Metrics {
			if r.Err != nil {
				d.ScalingActive = r.Reason
				break
			}
		}
		return d, err
	}
	d.Err = err
	d.ScalingActive = ReasonValidMetricFound
	d.Proposal, d.Metric = p.Replicas, p.Metric

	var desired int32
	metricReason := ""
	if p.Replicas > desired {
		desired = p.Replicas
		for i, name := range c.names {
			if name == p.Metric {
				metricReason = c.aboveTarget[i]
				break
			}
		}
	}
	switch {
	case desired > current:
		d.Reason = metricReason
	case desired < current:
		d.Reason = RescaleBelow
	}

	n, replace := normalize(c.cfg, c.spec.Behavior, NormalizeInput{
		Now: in.Now, Current: current, Desired: desired, Min: minR, Max: maxR,
		Behavior: c.spec.Behavior, History: History{Recommendations: log, ScaleUpEvents: h.ScaleUpEvents, ScaleDownEvents: h.ScaleDownEvents},
	})
	d.rec.logged, d.rec.replicas, d.rec.replace = true, desired, replace
	d.Stabilized, d.AbleToScale, d.ScalingLimited = n.Stabilized, n.AbleToScale, n.ScalingLimited
	final := n.Replicas
	if current == 0 && minR != 0 && scaledToZero && final < minR {
		final = minR
		if d.Reason == "" {
			d.Reason = RescaleBelowMin
		}
	}
	if final != current {
		d.Replicas, d.Rescale = final, true
		d.ScaledToZero = current > 0 && final == 0 && minR == 0 && c.objectOrExternal
	}
	return d, nil
}

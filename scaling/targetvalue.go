package scaling

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// DefaultTargetValueThreshold is TargetValueConfig.Threshold's default:
// nomad-autoscaler's 0.01.
const DefaultTargetValueThreshold = 0.01

// TargetValueConfig configures the target-value strategy, with the
// settings of HashiCorp nomad-autoscaler's target-value strategy plugin.
type TargetValueConfig struct {
	// Metric is the metric to hold at Target. Required.
	Metric provider.Metric `json:"metric" yaml:"metric"`
	// Statistic reduces the samples of a step. Default: mean.
	Statistic provider.Statistic `json:"statistic,omitempty" yaml:"statistic,omitempty"`
	// Step is the metric's grid step. Default: 1m. Five steps, the
	// lookback, must fit in a time.Duration: a step above about 58 years
	// is refused.
	Step time.Duration `json:"step,omitempty" yaml:"step,omitempty"`
	// Target is the value to hold the metric at (≥ 0). Required: 0 is a
	// valid target meaning "keep it empty" (a build queue), where the
	// factor is the metric's value itself.
	Target *float64 `json:"target" yaml:"target"`
	// Threshold is the relative band around the target within which
	// nothing changes: the factor value/target must leave [1 − Threshold,
	// 1 + Threshold]. ≥ 0. nil means the default, 0.01.
	Threshold *float64 `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// MaxScaleUp is the most instances one decision adds; nil: no limit.
	MaxScaleUp *int `json:"max_scale_up,omitempty" yaml:"max_scale_up,omitempty"`
	// MaxScaleDown is the most instances one decision removes; nil: no
	// limit.
	MaxScaleDown *int `json:"max_scale_down,omitempty" yaml:"max_scale_down,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming the first
// wrong field.
func (c TargetValueConfig) Validate() error {
	if err := c.Metric.Validate(); err != nil {
		return provider.Within("metric", err)
	}
	if err := c.Statistic.Validate(); err != nil {
		return err // it names statistic
	}
	if err := nonNegative("step", c.Step); err != nil {
		return err
	}
	if err := fitsSteps("step", c.Step, 5); err != nil { // the lookback
		return err
	}
	switch {
	case c.Target == nil:
		return provider.Invalid("target", nil, "is required (0 means keep the metric at zero)")
	case !finite(*c.Target) || *c.Target < 0:
		return provider.Invalid("target", *c.Target, "must be a finite number ≥ 0")
	case c.Threshold != nil && (!finite(*c.Threshold) || *c.Threshold < 0):
		return provider.Invalid("threshold", *c.Threshold, "must be a finite number ≥ 0")
	case c.MaxScaleUp != nil && *c.MaxScaleUp < 0:
		return provider.Invalid("max_scale_up", *c.MaxScaleUp, "must be ≥ 0")
	case c.MaxScaleDown != nil && *c.MaxScaleDown < 0:
		return provider.Invalid("max_scale_down", *c.MaxScaleDown, "must be ≥ 0")
	}
	return nil
}

// TargetValue holds a metric at a target value the way nomad-autoscaler's
// target-value strategy does, for the same inputs: from the latest sample,
// factor = value/target (the value itself when the target is 0); nothing
// changes while the factor is within [1 − threshold, 1 + threshold]
// (closed), or, from zero instances, while it is 0; otherwise the new
// count is ⌈count × factor⌉ (⌈factor⌉ from zero), limited by MaxScaleUp
// and MaxScaleDown and clamped to the group's Min and Max. Its fitness is 0.7 times the freshness of its data;
// data whose freshness is 0 (the latest value's step ended five steps or
// more before Now, outside the window nomad-autoscaler's query would
// read) is no data, and nothing changes, as for empty metrics. It
// is safe for concurrent use.
type TargetValue struct {
	cfg       TargetValueConfig
	need      Need // its one Need
	target    float64
	threshold float64
}

var (
	_ Strategy     = (*TargetValue)(nil)
	_ MetricNeeder = (*TargetValue)(nil)
)

// NewTargetValue returns a TargetValue strategy for cfg, or an error
// matching provider.ErrInvalid naming the wrong field. It keeps its own
// copy of cfg: later changes to the values it points at change nothing.
func NewTargetValue(cfg TargetValueConfig) (*TargetValue, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scaling: target value: %w", err)
	}
	if cfg.Step == 0 {
		cfg.Step = DefaultStep
	}
	// Its own copies of the values behind the pointers: the caller's later
	// changes must not bypass the validation.
	cfg.Target, cfg.Threshold = clonePtr(cfg.Target), clonePtr(cfg.Threshold)
	cfg.MaxScaleUp, cfg.MaxScaleDown = clonePtr(cfg.MaxScaleUp), clonePtr(cfg.MaxScaleDown)
	s := &TargetValue{cfg: cfg, target: *cfg.Target, threshold: DefaultTargetValueThreshold,
		need: Need{Metric: cfg.Metric, Statistic: cfg.Statistic, Step: cfg.Step, Lookback: 5 * cfg.Step}}
	if cfg.Threshold != nil {
		s.threshold = *cfg.Threshold
	}
	return s, nil
}

// Needs implements MetricNeeder: the last five steps of the metric.
func (s *TargetValue) Needs() []Need { return []Need{s.need} }

// Recommend implements Strategy.
func (s *TargetValue) Recommend(ctx context.Context, st State) (Recommendation, error) {
	return s.recommend(ctx, &st, nil)
}

// recommend is Recommend reading the State through a pointer, as the
// engine calls it (Engine.decide); it changes nothing of *st. The
// recommendation's inputs are carved from the inputs of a batch's
// scratch bs, if any, else a new slice.
func (s *TargetValue) recommend(_ context.Context, st *State, bs *decideScratch) (Recommendation, error) {
	t := &st.Target
	ser, missing, err := needSeries(st, &s.need)
	if err != nil {
		return Recommendation{}, fmt.Errorf("scaling: target value: %w", err)
	}
	if missing != "" {
		return noData(t, s.cfg.Metric, missing), nil
	}
	if err := checkLast(&ser, s.need.Metric, 1, time.Time{}); err != nil {
		return Recommendation{}, fmt.Errorf("scaling: target value: %w", err)
	}
	at, value, ok := ser.Last()
	if !ok {
		return noData(t, s.cfg.Metric, fmt.Sprintf("no %s data in the last %s", s.cfg.Metric, 5*s.cfg.Step)), nil
	}
	if why := staleReason(st.Now, at, s.cfg.Step, s.cfg.Metric); why != "" {
		return noData(t, s.cfg.Metric, why), nil
	}
	count := t.Capacity.Desired
	newCount, factor, direction := TargetValueCount(count, value, s.target, s.threshold, s.cfg.MaxScaleUp, s.cfg.MaxScaleDown)
	var rec Recommendation
	reason := bs.targetValueReason(direction, factor, s.threshold)
	if direction == 0 {
		rec = keep(t, reason)
	} else {
		rec = desired(t, newCount, reason)
	}
	in := [...]Input{
		{Name: string(s.cfg.Metric), Value: value, Unit: string(s.cfg.Metric.Unit())},
		{Name: "target", Value: s.target, Unit: string(s.cfg.Metric.Unit())},
		{Name: "factor", Value: factor},
	}
	if bs != nil && bs.inputs != nil {
		rec.Inputs = append(bs.inputs.make(len(in)), in[:]...)
	} else {
		rec.Inputs = slices.Clone(in[:])
	}
	rec.Fitness = 0.7 * freshness(st.Now, at, s.cfg.Step, staleSteps)
	return rec, nil
}

// targetValueReason is the reason of a target-value decision:
//
//	fmt.Sprintf("factor %f within the threshold %g of the target", factor, threshold)
//
// for direction 0, else
//
//	fmt.Sprintf("scaling %s because factor is %f", "up" or "down", factor)
//
// built without boxing the arguments (a decision per target per pass).
func targetValueReason(direction int, factor, threshold float64) string {
	var buf [96]byte
	return string(appendTargetValueReason(buf[:0], direction, factor, threshold))
}

// targetValueReason is targetValueReason remembered in bs (nil: not
// remembered).
func (bs *decideScratch) targetValueReason(direction int, factor, threshold float64) string {
	if bs == nil {
		return targetValueReason(direction, factor, threshold)
	}
	k := tvReasonKey{direction: direction, factor: math.Float64bits(factor), threshold: math.Float64bits(threshold)}
	i := k.slot()
	if s, ok := bs.tvReasons.get(i, &k); ok {
		return s
	}
	var buf [96]byte
	return bs.tvReasons.put(i, &k, appendTargetValueReason(buf[:0], direction, factor, threshold))
}

// appendTargetValueReason appends the reason of targetValueReason to b.
func appendTargetValueReason(b []byte, direction int, factor, threshold float64) []byte {
	if direction == 0 {
		b = strconv.AppendFloat(append(b, "factor "...), factor, 'f', 6, 64)
		b = strconv.AppendFloat(append(b, " within the threshold "...), threshold, 'g', -1, 64)
		return append(b, " of the target"...)
	}
	dir := "up"
	if direction < 0 {
		dir = "down"
	}
	b = append(append(append(b, "scaling "...), dir...), " because factor is "...)
	return strconv.AppendFloat(b, factor, 'f', 6, 64)
}

// TargetValueCount is nomad-autoscaler's target-value calculation: the new
// count for the current count, the metric's latest value, the target, the
// threshold and the optional limits, with the factor and the direction
// (−1 down, 0 none, +1 up). A computed count equal to the current one is
// direction 0.
func TargetValueCount(count int, value, target, threshold float64, maxUp, maxDown *int) (newCount int, factor float64, direction int) {
	factor = value
	if target != 0 {
		factor = value / target
	}
	switch {
	case count == 0:
		if factor > 0 {
			direction = 1
		}
	case factor < 1-threshold:
		direction = -1
	case factor > 1+threshold:
		direction = 1
	}
	if direction == 0 {
		return count, factor, 0
	}
	if count == 0 {
		newCount = ceilInt(factor)
	} else {
		newCount = ceilInt(float64(count) * factor)
	}
	// The limits compared with the change, not added to the count: a
	// limit as large as an int would overflow count + limit.
	if maxDown != nil && count-newCount > *maxDown {
		newCount = count - *maxDown
	}
	if maxUp != nil && newCount-count > *maxUp {
		newCount = count + *maxUp
	}
	if newCount == count {
		return count, factor, 0
	}
	return newCount, factor, direction
}

// clonePtr returns a pointer to a copy of *p, or nil for nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// ceilInt rounds x up to an int, saturating at the int range.
func ceilInt(x float64) int {
	x = math.Ceil(x)
	switch {
	case math.IsNaN(x) || x <= math.MinInt32:
		return math.MinInt32
	case x >= math.MaxInt32:
		return math.MaxInt32
	}
	return int(x)
}

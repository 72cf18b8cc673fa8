package scaling

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// AdjustmentType says how a step adjustment changes the capacity, as EC2
// Auto Scaling's adjustment types (in snake case).
type AdjustmentType string

// The adjustment types.
const (
	ChangeInCapacity        AdjustmentType = "change_in_capacity"         // add the adjustment (negative removes)
	ExactCapacity           AdjustmentType = "exact_capacity"             // set the capacity to the adjustment
	PercentChangeInCapacity AdjustmentType = "percent_change_in_capacity" // add the adjustment percent of the capacity
)

// String returns the type's name.
func (t AdjustmentType) String() string { return string(t) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless t is a known AdjustmentType.
func (t AdjustmentType) Validate() error {
	switch t {
	case ChangeInCapacity, ExactCapacity, PercentChangeInCapacity:
		return nil
	}
	return provider.Invalid("adjustment_type", string(t), "must be one of change_in_capacity, exact_capacity, percent_change_in_capacity")
}

// MarshalText encodes t as its name (empty when unset); an unknown value is
// an error.
func (t AdjustmentType) MarshalText() ([]byte, error) {
	return enumtext.Marshal(t, AdjustmentType.Validate)
}

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (t *AdjustmentType) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(t, b, AdjustmentType.Validate)
}

// Comparison is how an alarm compares the metric with its threshold.
type Comparison string

// The comparisons (CloudWatch's ComparisonOperator values in snake case).
const (
	GreaterOrEqual Comparison = "greater_or_equal" // metric ≥ threshold
	Greater        Comparison = "greater"          // metric > threshold
	Less           Comparison = "less"             // metric < threshold
	LessOrEqual    Comparison = "less_or_equal"    // metric ≤ threshold
)

// String returns the comparison's name.
func (c Comparison) String() string { return string(c) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless c is a known Comparison.
func (c Comparison) Validate() error {
	switch c {
	case GreaterOrEqual, Greater, Less, LessOrEqual:
		return nil
	}
	return provider.Invalid("comparison", string(c), "must be one of greater_or_equal, greater, less, less_or_equal")
}

// MarshalText encodes c as its name (empty when unset); an unknown value is
// an error.
func (c Comparison) MarshalText() ([]byte, error) { return enumtext.Marshal(c, Comparison.Validate) }

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (c *Comparison) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(c, b, Comparison.Validate)
}

func (c Comparison) holds(v, threshold float64) bool {
	switch c {
	case GreaterOrEqual:
		return v >= threshold
	case Greater:
		return v > threshold
	case Less:
		return v < threshold
	case LessOrEqual:
		return v <= threshold
	}
	return false
}

// StepConfig configures the step-scaling strategy: EC2 Auto Scaling step
// scaling policies, each tied to an alarm on one metric.
type StepConfig struct {
	// Metric is the alarms' metric. Default: cpu.
	Metric provider.Metric `json:"metric,omitempty" yaml:"metric,omitempty"`
	// Statistic reduces the samples of a step. Default: mean.
	Statistic provider.Statistic `json:"statistic,omitempty" yaml:"statistic,omitempty"`
	// Step is the metric's grid step (the alarms' period), at most seven
	// days (CloudWatch's longest evaluation range). Default: 1m.
	Step time.Duration `json:"step,omitempty" yaml:"step,omitempty"`
	// Policies are the step policies (typically one to scale out and one
	// to scale in). At least one.
	Policies []StepPolicy `json:"policies" yaml:"policies"`
}

// StepPolicy is one step scaling policy and its alarm.
type StepPolicy struct {
	// Name names the policy in reasons.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Threshold is the alarm's threshold. Required (any finite value).
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// Comparison is how the alarm compares. Required.
	Comparison Comparison `json:"comparison" yaml:"comparison"`
	// EvaluationPeriods is how many of the latest steps with data, of
	// those of the strategy's lookback (its policies' longest
	// EvaluationPeriods + 4 steps, six at least), must breach for the
	// alarm to fire; a series that covers more is read from then on.
	// Default: 1. At most a day of steps (seven days for a step of an
	// hour or more), as CloudWatch allows.
	EvaluationPeriods int `json:"evaluation_periods,omitempty" yaml:"evaluation_periods,omitempty"`
	// AdjustmentType says how Adjustment counts. Required.
	AdjustmentType AdjustmentType `json:"adjustment_type" yaml:"adjustment_type"`
	// MinAdjustmentMagnitude is the smallest change a percent adjustment
	// makes (≥ 0; only with percent_change_in_capacity).
	MinAdjustmentMagnitude int `json:"min_adjustment_magnitude,omitempty" yaml:"min_adjustment_magnitude,omitempty"`
	// Steps are the step adjustments by breach size (metric − threshold).
	// Their ranges must neither overlap nor leave gaps. At least one.
	Steps []StepAdjustment `json:"steps" yaml:"steps"`
}

// StepAdjustment is one step: the adjustment when the breach (metric −
// threshold) lies between LowerBound and UpperBound. Above the threshold
// the lower bound is inclusive and the upper exclusive; below it the
// lower bound is exclusive and the upper inclusive (as EC2 Auto Scaling's
// MetricIntervalLowerBound and MetricIntervalUpperBound); a breach of 0
// falls in a step bounded by 0 from either side.
type StepAdjustment struct {
	// LowerBound is the breach's lower bound; nil is −∞.
	LowerBound *float64 `json:"lower_bound,omitempty" yaml:"lower_bound,omitempty"`
	// UpperBound is the breach's upper bound; nil is +∞.
	UpperBound *float64 `json:"upper_bound,omitempty" yaml:"upper_bound,omitempty"`
	// Adjustment is the change, by the policy's AdjustmentType: instances
	// to add (negative removes), the capacity (≥ 0), or a percent of the
	// capacity.
	Adjustment int `json:"adjustment" yaml:"adjustment"`
}

// Validate checks every policy as EC2 Auto Scaling does: a comparison and
// an adjustment type; evaluation periods whose range (× Step) CloudWatch
// allows an alarm (at most a day for a step under an hour, seven days
// otherwise; so a Step above seven days is refused, naming step); steps with at most one open lower and one open upper
// bound, never both in one step, whose ranges neither overlap nor leave
// gaps; non-negative exact capacities; adjustments and magnitudes that
// fit in an int32.
func (c StepConfig) Validate() error {
	if c.Metric != "" {
		if err := c.Metric.Validate(); err != nil {
			return provider.Within("metric", err)
		}
	}
	if err := c.Statistic.Validate(); err != nil {
		return err // it names statistic
	}
	if err := nonNegative("step", c.Step); err != nil {
		return err
	}
	if len(c.Policies) == 0 {
		return provider.Invalid("policies", nil, "at least one step policy is required")
	}
	step := c.Step
	if step == 0 {
		step = DefaultStep
	}
	if step > maxEvaluationRangeHour {
		// One evaluation period is already a longer range than an alarm
		// may have (and (periods + 4) × step, the strategy's lookback,
		// overflows from about 58 years).
		return provider.Invalid("step", c.Step, fmt.Sprintf("must be at most %s: one evaluation period × step within the range CloudWatch allows an alarm", maxEvaluationRangeHour))
	}
	for i, p := range c.Policies {
		if err := p.validate(step); err != nil {
			return provider.Within(fmt.Sprintf("policies[%d]", i), err)
		}
	}
	return nil
}

// The longest evaluation range (EvaluationPeriods × the step) of an
// alarm, as CloudWatch's PutMetricAlarm allows it: a day for a period
// under an hour, seven days otherwise.
const (
	maxEvaluationRange     = 24 * time.Hour
	maxEvaluationRangeHour = 7 * 24 * time.Hour
)

func (p StepPolicy) validate(step time.Duration) error {
	if !finite(p.Threshold) {
		return provider.Invalid("threshold", p.Threshold, "must be finite")
	}
	if err := p.Comparison.Validate(); err != nil {
		return err
	}
	if err := p.AdjustmentType.Validate(); err != nil {
		return err
	}
	limit := maxEvaluationRange
	if step >= time.Hour {
		limit = maxEvaluationRangeHour
	}
	if most := max(1, int(limit/step)); p.EvaluationPeriods < 0 || p.EvaluationPeriods > most {
		return provider.Invalid("evaluation_periods", p.EvaluationPeriods, fmt.Sprintf(
			"must be in [0, %d]: evaluation_periods × step (%s) at most %s, as CloudWatch allows an alarm (a day for a period under an hour, seven days otherwise)",
			most, step, limit))
	}
	if p.MinAdjustmentMagnitude < 0 || p.MinAdjustmentMagnitude > math.MaxInt32 || p.MinAdjustmentMagnitude > 0 && p.AdjustmentType != PercentChangeInCapacity {
		return provider.Invalid("min_adjustment_magnitude", p.MinAdjustmentMagnitude, "must be in [0, 2147483647], and only with percent_change_in_capacity")
	}
	if len(p.Steps) == 0 {
		return provider.Invalid("steps", nil, "at least one step adjustment is required")
	}
	steps := slices.Clone(p.Steps)
	for i, s := range steps {
		field := fmt.Sprintf("steps[%d]", i)
		switch {
		case s.LowerBound == nil && s.UpperBound == nil:
			return provider.Invalid(field, nil, "lower_bound and upper_bound cannot both be open")
		case s.LowerBound != nil && !finite(*s.LowerBound), s.UpperBound != nil && !finite(*s.UpperBound):
			return provider.Invalid(field, nil, "bounds must be finite")
		case s.LowerBound != nil && s.UpperBound != nil && *s.LowerBound >= *s.UpperBound:
			return provider.Invalid(field+".upper_bound", *s.UpperBound, "must be above lower_bound")
		case p.AdjustmentType == ExactCapacity && s.Adjustment < 0:
			return provider.Invalid(field+".adjustment", s.Adjustment, "an exact capacity must be ≥ 0")
		case s.Adjustment < math.MinInt32 || s.Adjustment > math.MaxInt32:
			// EC2 Auto Scaling's are int32s; a larger one overflows the
			// new capacity.
			return provider.Invalid(field+".adjustment", s.Adjustment, "must fit in an int32")
		}
	}
	lower := func(s StepAdjustment) float64 {
		if s.LowerBound == nil {
			return math.Inf(-1)
		}
		return *s.LowerBound
	}
	upper := func(s StepAdjustment) float64 {
		if s.UpperBound == nil {
			return math.Inf(1)
		}
		return *s.UpperBound
	}
	slices.SortFunc(steps, func(a, b StepAdjustment) int { return cmpFloat(lower(a), lower(b)) })
	for i := 1; i < len(steps); i++ {
		if lower(steps[i]) != upper(steps[i-1]) {
			return provider.Invalid("steps", nil, fmt.Sprintf("the ranges overlap or leave a gap at %g", upper(steps[i-1])))
		}
	}
	// Steps below the threshold need one open lower bound, above it one
	// open upper bound.
	if lower(steps[0]) < 0 && !math.IsInf(lower(steps[0]), -1) {
		return provider.Invalid("steps", nil, "a negative lower bound needs a step with an open lower bound")
	}
	if u := upper(steps[len(steps)-1]); u > 0 && !math.IsInf(u, 1) {
		return provider.Invalid("steps", nil, "a positive upper bound needs a step with an open upper bound")
	}
	return nil
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Step is EC2 Auto Scaling's step scaling: each policy's alarm fires when
// its comparison holds for the last EvaluationPeriods steps with data;
// the step whose range holds the breach (latest value − threshold) gives
// the adjustment, applied by the policy's adjustment type (percentages of
// the capacity rounded toward zero, to at least one instance, and at least
// MinAdjustmentMagnitude). When several alarms fire, the largest resulting
// capacity wins, as in EC2 Auto Scaling, clamped to the group's Min and
// Max (as EC2 Auto Scaling keeps it within the group's bounds). Its
// fitness is 0.6 times the freshness of its data; data whose freshness
// is 0 (the latest value's step ended five steps or more before Now) is
// no data, and no alarm fires, as a CloudWatch alarm without recent
// datapoints has none to act on. It is safe for
// concurrent use.
type Step struct {
	cfg  StepConfig
	need Need // its one Need
}

var (
	_ Strategy     = (*Step)(nil)
	_ MetricNeeder = (*Step)(nil)
)

// NewStep returns a Step strategy for cfg, or an error matching
// provider.ErrInvalid naming the wrong field. It keeps its own copy of
// cfg: later changes to its policies, steps or bounds change nothing.
func NewStep(cfg StepConfig) (*Step, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scaling: step: %w", err)
	}
	if cfg.Metric == "" {
		cfg.Metric = provider.MetricCPU
	}
	if cfg.Step == 0 {
		cfg.Step = DefaultStep
	}
	// Its own copies of the policies, steps and bounds: the caller's later
	// changes must not bypass the validation.
	cfg.Policies = slices.Clone(cfg.Policies)
	for i := range cfg.Policies {
		p := &cfg.Policies[i]
		p.EvaluationPeriods = max(1, p.EvaluationPeriods)
		p.Steps = slices.Clone(p.Steps)
		for j := range p.Steps {
			p.Steps[j].LowerBound, p.Steps[j].UpperBound = clonePtr(p.Steps[j].LowerBound), clonePtr(p.Steps[j].UpperBound)
		}
	}
	periods := 1
	for _, p := range cfg.Policies {
		periods = max(periods, p.EvaluationPeriods)
	}
	return &Step{cfg: cfg, need: Need{Metric: cfg.Metric, Statistic: cfg.Statistic, Step: cfg.Step, Lookback: time.Duration(periods+4) * cfg.Step}}, nil
}

// Needs implements MetricNeeder: enough steps for the longest evaluation.
func (s *Step) Needs() []Need { return []Need{s.need} }

// Recommend implements Strategy.
func (s *Step) Recommend(_ context.Context, st State) (Recommendation, error) {
	t := &st.Target
	ser, missing, err := needSeries(&st, &s.need)
	if err != nil {
		return Recommendation{}, fmt.Errorf("scaling: step: %w", err)
	}
	if missing != "" {
		return noData(t, s.cfg.Metric, missing), nil
	}
	// Its lookback only: a series may cover more (another strategy's
	// longer need of the metric), whose older values would count as
	// evaluation periods.
	from := readFrom(st.Now, s.need.Lookback, s.cfg.Step)
	if err := checkLast(&ser, s.need.Metric, int(s.need.Lookback/s.cfg.Step), from); err != nil {
		return Recommendation{}, fmt.Errorf("scaling: step: %w", err)
	}
	values, at := lastValues(ser, s.need.Lookback/s.cfg.Step, from)
	if len(values) == 0 {
		return noData(t, s.cfg.Metric, fmt.Sprintf("no %s data", s.cfg.Metric)), nil
	}
	if why := staleReason(st.Now, at, s.cfg.Step, s.cfg.Metric); why != "" {
		return noData(t, s.cfg.Metric, why), nil
	}
	latest := values[0]
	cur := t.Capacity.Desired
	best, fired, reason := cur, false, ""
	for i, p := range s.cfg.Policies {
		if len(values) < p.EvaluationPeriods {
			continue
		}
		breached := true
		for _, v := range values[:p.EvaluationPeriods] {
			breached = breached && p.Comparison.holds(v, p.Threshold)
		}
		if !breached {
			continue
		}
		adj, ok := p.adjustment(latest - p.Threshold)
		if !ok {
			continue
		}
		n := p.apply(cur, adj)
		name := p.Name
		if name == "" {
			name = fmt.Sprintf("policy %d", i)
		}
		if !fired || n > best {
			best, fired = n, true
			reason = fmt.Sprintf("%s: %s %.3g %s %.3g, breach %.3g: %s %d → %d", name, s.cfg.Metric, latest, p.Comparison, p.Threshold, latest-p.Threshold, p.AdjustmentType, adj, n)
		}
	}
	var rec Recommendation
	if fired {
		rec = desired(t, max(best, 0), reason)
	} else {
		rec = keep(t, fmt.Sprintf("no alarm: %s %.3g", s.cfg.Metric, latest))
	}
	rec.Inputs = []Input{{Name: string(s.cfg.Metric), Value: latest, Unit: string(s.cfg.Metric.Unit())}}
	rec.Fitness = 0.6 * freshness(st.Now, at, s.cfg.Step, staleSteps)
	return rec, nil
}

// adjustment returns the adjustment of the step whose range holds breach.
func (p StepPolicy) adjustment(breach float64) (int, bool) {
	for _, s := range p.Steps {
		lo, hi := math.Inf(-1), math.Inf(1)
		if s.LowerBound != nil {
			lo = *s.LowerBound
		}
		if s.UpperBound != nil {
			hi = *s.UpperBound
		}
		var in bool
		switch {
		case breach > 0: // above the threshold: [lower, upper)
			in = lo <= breach && breach < hi
		case breach < 0: // below it: (lower, upper]
			in = lo < breach && breach <= hi
		default: // at it: a step from 0 up or up to 0
			in = lo <= 0 && 0 <= hi
		}
		if in {
			return s.Adjustment, true
		}
	}
	return 0, false
}

// apply returns the capacity after an adjustment of adj from cur.
func (p StepPolicy) apply(cur, adj int) int {
	switch p.AdjustmentType {
	case ExactCapacity:
		return adj
	case PercentChangeInCapacity:
		change := float64(cur) * float64(adj) / 100
		var n int
		switch {
		case change >= 1: // rounded down
			n = int(math.Floor(change))
		case change > 0: // (0, 1) rounds to 1
			n = 1
		case change > -1 && change < 0: // (-1, 0) rounds to -1
			n = -1
		case change <= -1: // rounded up, toward zero
			n = int(math.Ceil(change))
		}
		if m := p.MinAdjustmentMagnitude; m > 0 && n != 0 && abs(n) < m {
			n = m * sign(n)
		}
		return cur + n
	}
	return cur + adj
}

// lastValues returns up to n latest non-gap values of s from from on,
// newest first, and the start of the newest one's step.
func lastValues(s provider.Series, n time.Duration, from time.Time) ([]float64, time.Time) {
	var (
		out    []float64
		latest time.Time
	)
	for i := len(s.Values) - 1; i >= 0 && len(out) < int(n) && !s.TimeAt(i).Before(from); i-- {
		if provider.IsGap(s.Values[i]) {
			continue
		}
		if len(out) == 0 {
			latest = s.TimeAt(i)
		}
		out = append(out, s.Values[i])
	}
	return out, latest
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

func sign(n int) int {
	if n < 0 {
		return -1
	}
	return 1
}

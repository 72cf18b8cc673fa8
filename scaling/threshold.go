package scaling

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// The ThresholdConfig defaults: a classic horizontal policy.
const (
	DefaultThresholdUp     = 0.8 // scale up above 80 % utilization
	DefaultThresholdDown   = 0.3 // scale down below 30 %
	DefaultThresholdFactor = 2.0 // double up, halve down
	DefaultStep            = time.Minute
)

// ThresholdConfig configures the threshold strategy. The zero value means
// the defaults: CPU utilization, doubled above 0.8, halved below 0.3.
type ThresholdConfig struct {
	// Metric is the metric compared with the thresholds, usually a
	// utilization. Default: cpu.
	Metric provider.Metric `json:"metric,omitempty" yaml:"metric,omitempty"`
	// Statistic reduces the samples of a step. Default: mean.
	Statistic provider.Statistic `json:"statistic,omitempty" yaml:"statistic,omitempty"`
	// Step is the metric's grid step. Default: 1m. Window + 2 steps, the
	// lookback, must fit in a time.Duration (a step of at most about 97
	// years); a step or window past it is refused, naming it.
	Step time.Duration `json:"step,omitempty" yaml:"step,omitempty"`
	// Window is how many recent steps with data are averaged (rounded
	// down to whole steps, at least one), of those of the last Window + 2
	// steps, or six when that is less (as long as a value stays fresh): a
	// series that covers more is read from then on. Default: one step,
	// the latest value.
	Window time.Duration `json:"window,omitempty" yaml:"window,omitempty"`
	// Up is the value above which the group scales up (strictly above).
	// Default: 0.8.
	Up float64 `json:"up,omitempty" yaml:"up,omitempty"`
	// Down is the value below which it scales down (strictly below);
	// < Up. Default: 0.3.
	Down float64 `json:"down,omitempty" yaml:"down,omitempty"`
	// UpFactor multiplies the desired capacity on a scale up (rounded up;
	// from 0 it goes to 1). > 1. Default: 2.
	UpFactor float64 `json:"up_factor,omitempty" yaml:"up_factor,omitempty"`
	// DownFactor divides it on a scale down (rounded down). > 1. Default: 2.
	DownFactor float64 `json:"down_factor,omitempty" yaml:"down_factor,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming the first
// wrong field.
func (c ThresholdConfig) Validate() error {
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
	if err := nonNegative("window", c.Window); err != nil {
		return err
	}
	// The lookback, Window + 2 steps (the window at least a step), must
	// fit in a time.Duration.
	step := c.Step
	if step == 0 {
		step = DefaultStep
	}
	if err := fitsSteps("step", step, 3); err != nil {
		return err
	}
	if c.Window > math.MaxInt64-2*step {
		return provider.Invalid("window", c.Window, fmt.Sprintf("must be at most %s: the strategy reads it and two steps", math.MaxInt64-2*step))
	}
	d := c.withDefaults()
	switch {
	case !finite(c.Up) || c.Up < 0:
		return provider.Invalid("up", c.Up, fmt.Sprintf("must be a finite number > 0 (0 means the default %g)", DefaultThresholdUp))
	case !finite(c.Down) || c.Down < 0:
		return provider.Invalid("down", c.Down, "must be a finite number ≥ 0")
	case d.Down >= d.Up:
		return provider.Invalid("down", d.Down, fmt.Sprintf("must be below up (%g)", d.Up))
	case !finite(c.UpFactor) || c.UpFactor != 0 && c.UpFactor <= 1:
		return provider.Invalid("up_factor", c.UpFactor, "must be > 1")
	case !finite(c.DownFactor) || c.DownFactor != 0 && c.DownFactor <= 1:
		return provider.Invalid("down_factor", c.DownFactor, "must be > 1")
	}
	return nil
}

func (c ThresholdConfig) withDefaults() ThresholdConfig {
	if c.Metric == "" {
		c.Metric = provider.MetricCPU
	}
	if c.Step == 0 {
		c.Step = DefaultStep
	}
	if c.Window < c.Step {
		c.Window = c.Step
	}
	if c.Up == 0 {
		c.Up = DefaultThresholdUp
	}
	if c.Down == 0 {
		c.Down = DefaultThresholdDown
	}
	if c.UpFactor == 0 {
		c.UpFactor = DefaultThresholdFactor
	}
	if c.DownFactor == 0 {
		c.DownFactor = DefaultThresholdFactor
	}
	return c
}

// Threshold is the classic horizontal strategy: when the metric (averaged
// over Window) is above Up the desired capacity is multiplied by UpFactor,
// below Down it is divided by DownFactor, in between it stays; the result
// is clamped to the group's Min and Max (the engine then keeps it within
// the policy's Min and Max, [1, 10] by default). Its fitness
// is 0.5 times the freshness of its data: a simple reactive fallback that
// a better-informed strategy outranks. Data whose freshness is 0 (the
// latest value's step ended five steps or more before Now: a metric no
// longer published) is no data: the capacity is kept. It is safe for concurrent use.
type Threshold struct {
	cfg  ThresholdConfig
	need Need // its one Need
}

var (
	_ Strategy     = (*Threshold)(nil)
	_ MetricNeeder = (*Threshold)(nil)
)

// NewThreshold returns a Threshold strategy for cfg, or an error matching
// provider.ErrInvalid naming the wrong field.
func NewThreshold(cfg ThresholdConfig) (*Threshold, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scaling: threshold: %w", err)
	}
	c := cfg.withDefaults()
	return &Threshold{cfg: c, need: Need{Metric: c.Metric, Statistic: c.Statistic, Step: c.Step, Lookback: c.Window + 2*c.Step}}, nil
}

// Needs implements MetricNeeder: the metric over Window plus two steps.
func (s *Threshold) Needs() []Need { return []Need{s.need} }

// Recommend implements Strategy.
func (s *Threshold) Recommend(_ context.Context, st State) (Recommendation, error) {
	c := s.cfg
	t := &st.Target
	ser, missing, err := needSeries(&st, &s.need)
	if err != nil {
		return Recommendation{}, fmt.Errorf("scaling: threshold: %w", err)
	}
	if missing != "" {
		return noData(t, c.Metric, missing), nil
	}
	// Its lookback only: a series may cover more (another strategy's
	// longer need of the metric), whose older values it would average in.
	from := readFrom(st.Now, s.need.Lookback, c.Step)
	if err := checkLast(&ser, s.need.Metric, max(1, int(c.Window/c.Step)), from); err != nil {
		return Recommendation{}, fmt.Errorf("scaling: threshold: %w", err)
	}
	v, at, n := meanOfLast(ser, int(c.Window/c.Step), from)
	if n == 0 {
		return noData(t, c.Metric, fmt.Sprintf("no %s data in the last %s", c.Metric, c.Window+2*c.Step)), nil
	}
	if why := staleReason(st.Now, at, c.Step, c.Metric); why != "" {
		return noData(t, c.Metric, why), nil
	}
	cur := t.Capacity.Desired
	inputs := []Input{
		{Name: string(c.Metric), Value: v, Unit: string(c.Metric.Unit())},
		{Name: "up", Value: c.Up, Unit: string(c.Metric.Unit())},
		{Name: "down", Value: c.Down, Unit: string(c.Metric.Unit())},
	}
	var rec Recommendation
	switch {
	case v > c.Up:
		// Saturated before the conversion: int of a float beyond the int
		// range is undefined (math.MinInt64 on amd64, the minimum).
		n := math.MaxInt
		if up := math.Ceil(float64(cur) * c.UpFactor); up < math.MaxInt {
			n = int(up)
		}
		if n == cur {
			n = cur + 1 // from 0
		}
		rec = desired(t, n, fmt.Sprintf("%s %.3g above %.3g: ×%g", c.Metric, v, c.Up, c.UpFactor))
	case v < c.Down:
		rec = desired(t, int(math.Floor(float64(cur)/c.DownFactor)), fmt.Sprintf("%s %.3g below %.3g: ÷%g", c.Metric, v, c.Down, c.DownFactor))
	default:
		rec = keep(t, fmt.Sprintf("%s %.3g within [%.3g, %.3g]", c.Metric, v, c.Down, c.Up))
	}
	rec.Inputs = inputs
	rec.Fitness = 0.5 * freshness(st.Now, at, c.Step, staleSteps)
	return rec, nil
}

// meanOfLast returns the mean of the last n non-gap values of s from from
// on (the zero time: any), the start of the latest one, and how many were
// found.
func meanOfLast(s provider.Series, n int, from time.Time) (float64, time.Time, int) {
	n = max(n, 1)
	var (
		sum    float64
		found  int
		latest time.Time
	)
	for i := len(s.Values) - 1; i >= 0 && found < n && !s.TimeAt(i).Before(from); i-- {
		v := s.Values[i]
		if provider.IsGap(v) {
			continue
		}
		if found == 0 {
			latest = s.TimeAt(i)
		}
		sum += v
		found++
	}
	if found == 0 {
		return 0, time.Time{}, 0
	}
	return sum / float64(found), latest, found
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// fitsSteps returns an error naming field when n steps of d, a
// strategy's lookback, do not fit in a time.Duration (a typo of a step
// overflowed it to a negative lookback).
func fitsSteps(field string, d time.Duration, n int) error {
	if most := time.Duration(math.MaxInt64) / time.Duration(n); d > most {
		return provider.Invalid(field, d, fmt.Sprintf("must be at most %s: the strategy reads %d of it", most, n))
	}
	return nil
}

func nonNegative(field string, d time.Duration) error {
	if d < 0 {
		return provider.Invalid(field, d, "must be ≥ 0")
	}
	return nil
}

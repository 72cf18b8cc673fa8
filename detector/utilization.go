package detector

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// UtilizationConfig configures the utilization strategy. The zero value
// means the defaults: CPU < 10 %, memory < 10 %, network < 5 %, disk < 5 %
// (see DefaultThresholds), by the mean over the last 24 h, a whole daily
// cycle so that a nightly job or a busy afternoon counts, and held for the
// last hour, so that a resource that has only just gone quiet is not idle
// yet.
type UtilizationConfig struct {
	// Thresholds maps each metric to its idle threshold, in the metric's
	// unit (fractions in [0, 1] for utilization metrics; per second for
	// rates). A resource is idle only if every metric it has data for is
	// below its threshold. Default (nil): cpu 0.10, memory 0.10,
	// network_utilization 0.05, disk_utilization 0.05. A non-nil empty
	// map has no metric to judge by: the signal is always unknown (see
	// EnsembleConfig.AllowWithoutUtilization). Encoded, nil is left out
	// and an empty map is kept ({}), so that a round trip keeps the one
	// from the other.
	Thresholds map[provider.Metric]float64 `json:"thresholds,omitzero" yaml:"thresholds,omitempty"`
	// Statistics maps a metric to the statistic compared with its
	// threshold (mean, max, or a percentile such as p95; any other, and a
	// metric without a threshold, is an error). Default: mean, for a
	// metric it leaves out; nil and an empty map are the same.
	Statistics map[provider.Metric]provider.Statistic `json:"statistics,omitempty" yaml:"statistics,omitempty"`
	// Required lists the metrics without which the signal is unknown: a
	// required metric without a series, whose read failed or whose data
	// fails the quality rules makes it unknown. The other metrics count
	// when they have a series: a failed read (Input.MetricErrors) or data
	// that fails the quality rules makes the signal unknown too, unless
	// the data there is shows load (its statistic at or above the
	// threshold over the window or the hold): then it is not idle, as
	// measured load vetoes idleness. A metric without a series and without
	// an error is one the source does not report. Default (nil): [cpu]
	// (required only when it has a threshold). A non-nil empty list
	// requires none. Every required metric must have a threshold.
	// Encoded, nil is left out and an empty list is kept ([]).
	Required []provider.Metric `json:"required,omitzero" yaml:"required,omitempty"`
	// Window is the look-back examined. Must be at least one step of the
	// series. Default: 24h.
	Window time.Duration `json:"window,omitempty" yaml:"window,omitempty"`
	// Hold is how long the condition must have held up to now: the
	// statistic over the last Hold must be below the threshold too. A hold
	// period without data (gaps and suspect zeros only) makes the metric
	// unknown, stale for the hold (a ReasonStale whose Limit is Hold, or
	// ReasonSuspectZeros when the latest data are suspect zeros): the
	// window's statistic never stands in for it. It is capped at Window.
	// Default: 1h.
	Hold time.Duration `json:"hold,omitempty" yaml:"hold,omitempty"`
	// Quality sets the coverage, staleness and suspect-zero rules.
	Quality DataQuality `json:"quality,omitzero" yaml:"quality,omitempty"`
	// Steepness shapes the idle score 1/(1+exp(k·(x/threshold − 1))): the
	// score is 0.5 at the threshold and tends to 1 at zero. Default: 6.
	Steepness float64 `json:"steepness,omitempty" yaml:"steepness,omitempty"`
}

// clone returns c with copies of its maps and slices (nil stays nil,
// empty stays empty), so that what a strategy or an ensemble keeps or
// hands out shares nothing with its caller.
func (c UtilizationConfig) clone() UtilizationConfig {
	c.Thresholds = maps.Clone(c.Thresholds)
	c.Statistics = maps.Clone(c.Statistics)
	c.Required = slices.Clone(c.Required)
	return c
}

// IsZero reports whether c is the zero value, the defaults: a non-nil
// empty Thresholds or Required is not (it means none, not the default).
// The omitzero of encoding/json and the omitempty of YAML ask it.
func (c UtilizationConfig) IsZero() bool { return reflect.ValueOf(c).IsZero() }

// MarshalYAML encodes c as its fields are tagged, and a non-nil empty
// Thresholds or Required as {} or [], which omitempty would leave out:
// read back, the missing key would be nil, the default.
func (c UtilizationConfig) MarshalYAML() (any, error) {
	type plain UtilizationConfig // without this method
	return yamlKeepingEmpty(plain(c), emptyMap("thresholds", c.Thresholds), emptySlice("required", c.Required))
}

// DefaultThresholds returns the default idle thresholds: CPU and memory
// 10 %, network and disk utilization 5 %. 10 % CPU is where AWS Trusted
// Advisor's low-utilization check draws the line (see NewTrustedAdvisor),
// above the background work of an unused machine (agents, updates, the
// operating system); network and disk, which that background work barely
// uses, get half.
func DefaultThresholds() map[provider.Metric]float64 {
	return map[provider.Metric]float64{
		provider.MetricCPU:                0.10,
		provider.MetricMemory:             0.10,
		provider.MetricNetworkUtilization: 0.05,
		provider.MetricDiskUtilization:    0.05,
	}
}

func (c UtilizationConfig) withDefaults() UtilizationConfig {
	if c.Thresholds == nil {
		c.Thresholds = DefaultThresholds()
	}
	if c.Required == nil {
		c.Required = []provider.Metric{provider.MetricCPU}
	}
	if c.Window == 0 {
		c.Window = 24 * time.Hour
	}
	if c.Hold == 0 {
		c.Hold = time.Hour
	}
	c.Hold = min(c.Hold, c.Window)
	if c.Steepness == 0 {
		c.Steepness = 6
	}
	c.Quality = c.Quality.withDefaults()
	return c
}

// Validate checks every field and returns an error naming the first wrong
// one: thresholds must be finite and ≥ 0 (in [0, 1] for utilization
// metrics), statistics mean, max or a percentile of known metrics that
// have a threshold, required metrics thresholded, durations ≥ 0.
func (c UtilizationConfig) Validate() error {
	for m, t := range c.Thresholds {
		if err := m.Validate(); err != nil {
			return provider.Within("utilization.thresholds."+string(m), err)
		}
		if math.IsNaN(t) || math.IsInf(t, 0) || t < 0 {
			return invalid("utilization.thresholds."+string(m), t, "must be a finite number ≥ 0")
		}
		if m.IsUtilization() && t > 1 {
			return invalid("utilization.thresholds."+string(m), t, "must be in [0, 1]: utilization is a fraction (10 % is 0.10)")
		}
	}
	th := c.Thresholds
	if th == nil {
		th = DefaultThresholds()
	}
	for m, s := range c.Statistics {
		field := "utilization.statistics." + string(m)
		if err := m.Validate(); err != nil {
			return provider.Within(field, err)
		}
		if err := s.Validate(); err != nil {
			// Validate names the field "statistic"; here the field is
			// the map's entry, utilization.statistics.METRIC.
			var ie *provider.InvalidError
			if errors.As(err, &ie) && ie.Field == "statistic" {
				ie.Field = ""
			}
			return provider.Within(field, err)
		}
		if _, isPct := s.Percentile(); s != "" && s != provider.StatMean && s != provider.StatMax && !isPct {
			// min, last: one quiet step of a busy day is below the
			// threshold; sum, count: a day's are never.
			return invalid(field, string(s), "must be mean, max or a percentile (pNN): the statistic compared with the idle threshold")
		}
		if _, ok := th[m]; !ok {
			return invalid(field, string(s), "is for a metric without a threshold: it would judge nothing")
		}
	}
	for i, m := range c.Required {
		if _, ok := th[m]; !ok {
			return invalid(fmt.Sprintf("utilization.required[%d]", i), string(m), "has no threshold")
		}
	}
	if c.Window < 0 {
		return invalid("utilization.window", c.Window, "must be > 0 (0 means the default 24h)")
	}
	if c.Hold < 0 {
		return invalid("utilization.hold", c.Hold, "must be ≥ 0 (0 means the default 1h)")
	}
	if math.IsNaN(c.Steepness) || math.IsInf(c.Steepness, 0) || c.Steepness < 0 {
		return invalid("utilization.steepness", c.Steepness, "must be a finite number > 0")
	}
	return provider.Within("utilization", c.Quality.Validate())
}

// Utilization is the utilization strategy: a resource is idle when every
// metric it has data for stays below its threshold over the window and over
// the hold period that ends now, on data that passes the quality rules
// (see UtilizationConfig.Required for a metric whose data does not). Its
// statistics are, when the resource launched inside the window
// (Resource.LaunchTime), the higher of the whole window's and those of
// its own steps from the launch on: it is idle only if it looks idle both
// ways, so that a resource created again under its predecessor's ID is
// not judged on the predecessor's idle days, nor an instance started
// again yesterday (EC2's LaunchTime is its last start) on one quiet day
// after a busy week. The coverage rule (DataQuality.MinCoverage) holds
// both ways too: the steps since the launch must be covered as the
// window's are, or the metric is gappy (a ReasonGaps whose Duration is
// the time since the launch), so that the predecessor's data does not
// cover for a resource that reported little of its own; a reason's Duration is the span its Value was read
// over (the time since the launch when the resource's own steps gave
// it). Its score is the lowest per-metric score.
// It is safe for concurrent use.
type Utilization struct {
	cfg     UtilizationConfig
	metrics []provider.Metric // sorted, for a stable order of reasons
}

// NewUtilization returns the utilization strategy for cfg, or an error
// matching provider.ErrInvalid naming the wrong field.
func NewUtilization(cfg UtilizationConfig) (*Utilization, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.clone().withDefaults()
	u := &Utilization{cfg: cfg}
	for m := range cfg.Thresholds {
		u.metrics = append(u.metrics, m)
	}
	slices.Sort(u.metrics)
	return u, nil
}

// Config returns the configuration with defaults filled in, a copy, maps
// and slices included: changing it does not change u.
func (u *Utilization) Config() UtilizationConfig { return u.cfg.clone() }

// Detect implements Detector.
func (u *Utilization) Detect(ctx context.Context, in Input) (Verdict, error) {
	return detectOne(ctx, &in, SignalUtilization, func(in *Input, r *result) error {
		return u.evaluate(in, metricData{in: in}, r)
	})
}

// result is the outcome of one signal, built without allocating.
type result struct {
	state   State
	score   float64
	window  Window
	reasons [8]Reason
	n       int
	prof    Profile
	hasProf bool
}

func (r *result) add(reason Reason) {
	if r.n < len(r.reasons) {
		r.reasons[r.n] = reason
		r.n++
	}
}

func (u *Utilization) evaluate(in *Input, data metricData, r *result) error {
	r.window = Window{From: in.Now.Add(-u.cfg.Window), To: in.Now}
	r.state, r.score = Idle, 1
	for _, m := range u.metrics {
		// Only the metrics it reads: another signal's series (a host's
		// daily one) is no concern of the utilization window.
		if step, ok := data.has(m); ok && step > u.cfg.Window {
			return invalid("utilization.window", u.cfg.Window, "is shorter than one step ("+step.String()+") of "+string(m))
		}
	}
	known := 0
	unknown := false // a metric whose data cannot vouch for idleness
	for _, m := range u.metrics {
		th := u.cfg.Thresholds[m]
		required := slices.Contains(u.cfg.Required, m)
		if err := in.metricErr(m); err != nil {
			// Required or not: the data the read hid could show load.
			r.add(Reason{Signal: SignalUtilization, Code: ReasonSourceError, Metric: m, Err: err})
			unknown = true
			continue
		}
		if _, ok := data.has(m); !ok {
			if required {
				r.add(Reason{Signal: SignalUtilization, Code: ReasonMissing, Metric: m})
				unknown = true
			}
			continue // not required: a metric the source does not report
		}
		stat := u.cfg.Statistics[m]
		if stat == "" {
			stat = provider.StatMean
		}
		x, hx, xd, hd, q, why := data.utilization(m, th, stat, u.cfg.Window, u.cfg.Hold, u.cfg.Quality)
		why.Signal, why.Metric = SignalUtilization, m
		switch {
		case q == qMissing:
			if required {
				r.add(why)
				unknown = true
			}
			continue
		case q != qOK && (required || !(x >= th) && !(hx >= th)):
			// Gappy, stale or suspect data: it cannot say the metric
			// stayed below its threshold. A required metric's is what the
			// verdict rests on: unknown, whatever it shows.
			r.add(why)
			unknown = true
			continue
		}
		// Good data, or another metric's data that fails the quality rules
		// but shows load: measured load vetoes idleness however little of
		// it there is.
		known++
		score := 1.0
		for _, v := range [...]float64{x, hx} {
			if !math.IsNaN(v) {
				score = min(score, u.score(v, th))
			}
		}
		r.score = min(r.score, score)
		switch {
		case x >= th:
			r.state = NotIdle
			r.add(Reason{Signal: SignalUtilization, Code: ReasonAbove, Metric: m, Statistic: stat, Value: x, Limit: th, Duration: xd})
		case hx >= th:
			r.state = NotIdle
			r.add(Reason{Signal: SignalUtilization, Code: ReasonNotHeld, Metric: m, Statistic: stat, Value: hx, Limit: th, Duration: hd})
		default:
			r.add(Reason{Signal: SignalUtilization, Code: ReasonBelow, Metric: m, Statistic: stat, Value: x, Limit: th, Duration: xd})
		}
		if q != qOK {
			r.add(why) // what the load was read from
		}
	}
	if unknown && r.state != NotIdle || known == 0 {
		// Missing data never makes a resource idle; a busy metric still
		// makes it not idle.
		r.state, r.score = Unknown, 0
	}
	return nil
}

// score maps a statistic x against threshold th to an idle score in [0, 1]
// that is 0.5 at the threshold.
func (u *Utilization) score(x, th float64) float64 {
	if th == 0 {
		if x <= 0 {
			return 1
		}
		return 0
	}
	return 1 / (1 + math.Exp(u.cfg.Steepness*(x/th-1)))
}

// detectOne runs a single strategy as a Detector: it validates the input,
// applies the grace period and turns the result into a Verdict.
func detectOne(ctx context.Context, in *Input, signal string, eval func(*Input, *result) error) (Verdict, error) {
	if err := ctx.Err(); err != nil {
		return Verdict{}, err
	}
	if err := in.Validate(); err != nil {
		return Verdict{}, err
	}
	var r result
	r.state = Unknown // until eval decides
	if err := eval(in, &r); err != nil {
		return Verdict{}, err
	}
	if young, why := inGrace(in, DefaultGracePeriod); young {
		why.Signal = signal
		r.state = Unknown
		r.add(why)
	}
	v := Verdict{ResourceID: in.Resource.ID, State: r.state, Score: r.score, Window: r.window, Action: ActionNone}
	if r.state == Unknown {
		v.Score = 0
	}
	v.Confidence = confidenceOf(v.State, v.Score)
	v.Signals = []Contribution{{Signal: signal, State: r.state, Score: v.Score, Weight: b2f(r.state != Unknown), Value: b2f(r.state != Unknown) * v.Score}}
	v.Reasons = append([]Reason(nil), r.reasons[:r.n]...)
	return v, nil
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

package stream

import (
	"math"
	"time"
)

// SummaryConfig configures a Summary. Threshold has no default: the zero
// value counts only negative values as below it, which utilization never
// has, so set it. Alpha defaults to 0.05, Step to 5 minutes.
type SummaryConfig struct {
	// Threshold is the idle threshold in the metric's unit: a value below
	// it extends the below-threshold run, any other value ends it.
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// Alpha is the weight of a new value in the exponentially weighted
	// mean and variance, in (0, 1]. Default: 0.05 (a memory of about 20
	// values).
	Alpha float64 `json:"alpha,omitempty" yaml:"alpha,omitempty"`
	// Step is the interval at which Observe expects values. A value that
	// arrives more than 1.5 Step after the previous one (at least one
	// step without data: an agent's outage, a scrape target gone) ends
	// the run below the threshold before it is added, as a NaN gap does:
	// time without data is never idle time. The run of values fed by
	// Observe counts steps of Step (of the grid from the Unix epoch): a
	// step counts once however many values it holds, so that values
	// closer together than Step (an agent reporting every minute, a
	// retried sample) do not make a hold of N steps shorter than N Step.
	// Update takes no time and does not use it: each value is a step.
	// Must be ≥ 0. Default: 5m.
	Step time.Duration `json:"step,omitempty" yaml:"step,omitempty"`
}

// defaultStep is SummaryConfig.Step's default.
const defaultStep = 5 * time.Minute

// Validate checks that Threshold is finite, Alpha in (0, 1] and Step ≥ 0
// (a zero Alpha or Step means the default).
func (c SummaryConfig) Validate() error {
	if math.IsNaN(c.Threshold) || math.IsInf(c.Threshold, 0) {
		return invalid("stream.threshold", c.Threshold, "must be finite")
	}
	if math.IsNaN(c.Alpha) || c.Alpha < 0 || c.Alpha > 1 {
		return invalid("stream.alpha", c.Alpha, "must be in (0, 1] (0 means the default 0.05)")
	}
	if c.Step < 0 {
		return invalid("stream.step", c.Step, "must be ≥ 0 (0 means the default 5m)")
	}
	return nil
}

// Summary is the O(1) state of one resource-metric for watching a large
// fleet without keeping its history: an exponentially weighted mean and
// variance, the maximum, the number of values seen and the length of the
// current run of values below the threshold. It takes 64 bytes.
//
// The zero Summary is not usable; make one with NewSummary. A Summary is
// not safe for concurrent use: keep one per goroutine or guard it.
type Summary struct {
	mean, vari float64
	max        float64
	threshold  float64
	alpha      float64
	last       int64  // Unix nanoseconds of the last Observe; noTime before
	maxGap     uint64 // nanoseconds after last beyond which Observe ends the run: 1.5 Step
	run        uint32 // values below threshold since the last one that was not, saturating
	n          uint32 // values seen, saturating
}

// noTime is Summary.last before the first Observe. Not 0: that is the
// Unix epoch, a time a series may start at.
const noTime = math.MinInt64

// The range of times Observe accepts: after noTime, up to the latest Unix
// nanosecond.
var (
	earliestTime = time.Unix(0, noTime).UTC()
	latestTime   = time.Unix(0, math.MaxInt64).UTC()
)

// NewSummary returns an empty Summary, or an error naming the invalid field.
func NewSummary(cfg SummaryConfig) (Summary, error) {
	if err := cfg.Validate(); err != nil {
		return Summary{}, err
	}
	if cfg.Alpha == 0 {
		cfg.Alpha = 0.05
	}
	if cfg.Step == 0 {
		cfg.Step = defaultStep
	}
	step := uint64(cfg.Step)
	return Summary{threshold: cfg.Threshold, alpha: cfg.Alpha, max: math.Inf(-1), last: noTime, maxGap: step + step/2}, nil
}

// Update adds one value in O(1) without allocating. A NaN is a gap: it is
// not a value (the mean, the maximum and the count ignore it) and it ends
// the run, as it does in BatchScan's runs: a step without data does not
// say the metric stayed below the threshold, so Idle holds only over
// values since the last gap (an agent that died reads as not idle, not
// as idle for as long as it stays dead). Update knows no time: give it a
// NaN for every step without data, or use Observe, which finds them. An
// infinite value (+Inf, a rate over a zero interval, or −Inf) is a broken
// reading, neither idleness nor a value: it ends the run and is not
// added, as Observe refuses it (use Observe to have input checked).
func (s *Summary) Update(v float64) {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s.run = 0
		return
	}
	s.update(v)
}

// update adds a value known not to be NaN.
func (s *Summary) update(v float64) {
	if s.n == 0 {
		s.mean = v
	}
	d := v - s.mean
	s.mean += s.alpha * d
	s.vari = (1 - s.alpha) * (s.vari + s.alpha*d*d)
	if v > s.max {
		s.max = v
	}
	below := uint32(0)
	if v < s.threshold {
		below = 1
	}
	run := s.run
	if run != math.MaxUint32 {
		run++
	}
	s.run = run * below
	if s.n != math.MaxUint32 {
		s.n++
	}
}

// Observe checks and adds the value v observed at t: t must be after the
// previous Observe's time (and after the earliest Unix nanosecond,
// 1677-09-21T00:12:43.145224192Z, and no later than the latest,
// 2262-04-11T23:47:16.854775807Z) and v finite (a NaN gap is accepted, as
// Update takes it). A t more than 1.5 SummaryConfig.Step after the
// previous Observe's time ends the run before v is added: the steps
// between them had no data, and missing data is never idleness. The error
// names the field. The run grows by one for each step of Step (on the
// grid from the Unix epoch) that holds a value, not for each value: a
// value below the threshold in the step of the previous one leaves the
// run as it is (see SummaryConfig.Step). A refused value is not added;
// one refused for its time (a clock that jumped back, a retried sample)
// still ends the run unless it is below the threshold: a busy value seen
// at a wrong time was seen; an infinite one (+Inf, a rate over a zero
// interval, or −Inf) ends it whatever its sign: a broken reading is not
// idleness.
func (s *Summary) Observe(t time.Time, v float64) error {
	if err := s.checkTime(t); err != nil {
		if !(v < s.threshold) || math.IsInf(v, -1) {
			s.run = 0
		}
		return err
	}
	if math.IsInf(v, 0) {
		s.run = 0 // a broken reading is no value below the threshold
		return invalid("stream.value", v, "must be finite or NaN (a gap)")
	}
	ns := t.UnixNano()
	// ns > s.last, so their difference fits in a uint64 even when the
	// int64 one would overflow.
	if s.last != noTime && uint64(ns)-uint64(s.last) > s.maxGap {
		s.run = 0
	}
	// The run counts steps, not values: a value in the step of the
	// previous one adds nothing to it (one at or above the threshold
	// still ends it), so that values closer together than Step (an agent
	// reporting every minute, a retry) do not make minutes a held hour.
	sameStep := s.last != noTime && s.stepOf(ns) == s.stepOf(s.last)
	s.last = ns
	run := s.run
	s.Update(v)
	if sameStep && v < s.threshold {
		s.run = run
	}
	return nil
}

// stepOf returns the step of the grid from the Unix epoch that holds ns,
// Unix nanoseconds; the step is SummaryConfig.Step (maxGap is 1.5 of it,
// rounded down).
func (s *Summary) stepOf(ns int64) int64 {
	step := int64(s.maxGap - s.maxGap/3)
	if step <= 0 {
		return ns // a zero Summary, not made by NewSummary: no grid
	}
	q := ns / step
	if ns%step < 0 {
		q--
	}
	return q
}

// checkTime returns the error naming stream.time when Observe cannot
// take a value at t.
func (s *Summary) checkTime(t time.Time) error {
	if t.IsZero() {
		return invalid("stream.time", t, "must be set")
	}
	// The earliest Unix nanosecond marks "nothing observed yet": a value
	// there would let the next one repeat it. Outside the range of Unix
	// nanoseconds, UnixNano wraps around and would misorder t.
	if !t.After(earliestTime) || t.After(latestTime) {
		return invalid("stream.time", t.UTC().Format(time.RFC3339Nano), "must be after "+earliestTime.Format(time.RFC3339Nano)+
			" and no later than "+latestTime.Format(time.RFC3339Nano)+", the range of times in Unix nanoseconds")
	}
	ns := t.UnixNano()
	if s.last != noTime && ns <= s.last {
		return invalid("stream.time", t.Format(time.RFC3339Nano), "must be after the previous value's "+time.Unix(0, s.last).UTC().Format(time.RFC3339Nano)+" (values must be sorted and not repeated)")
	}
	return nil
}

// Mean returns the exponentially weighted mean; NaN before any value.
func (s *Summary) Mean() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return s.mean
}

// StdDev returns the exponentially weighted standard deviation; NaN before
// any value.
func (s *Summary) StdDev() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return math.Sqrt(s.vari)
}

// Max returns the largest value seen; NaN before any value.
func (s *Summary) Max() float64 {
	if s.n == 0 {
		return math.NaN()
	}
	return s.max
}

// Count returns how many values were seen (gaps excluded), saturating at
// 2³²−1.
func (s *Summary) Count() int { return int(s.n) }

// Run returns the number of values below the threshold since the last
// value that was not or the last gap, saturating at 2³²−1; fed by
// Observe, the number of steps of SummaryConfig.Step holding such values
// (a step counts once, see Observe).
func (s *Summary) Run() int { return int(s.run) }

// Idle reports whether the last hold steps were all values below the
// threshold (no gap among them) and the weighted mean is below it too.
// Idle knows no time: a Summary that stops being fed (an agent that died
// sends no gap either) keeps its answer. Use IdleAt with Observe.
func (s *Summary) Idle(hold int) bool {
	return s.n > 0 && int(s.run) >= max(hold, 1) && s.mean < s.threshold
}

// IdleAt reports Idle(hold) of a Summary fed by Observe whose last value
// is no more than 1.5 SummaryConfig.Step before now: when values stop
// arriving, what they said is stale and the resource is not idle (missing
// data is never idleness). A now before the last value's time by no more
// than 1.5 Step (clocks a little apart) is not stale; one further before
// it is: now's clock and the values' disagree (an agent's clock ahead by
// a day would otherwise keep a machine idle for a day after its agent
// died), and the values say nothing of now. A Summary fed only by Update
// has no time and is never idle by IdleAt.
func (s *Summary) IdleAt(now time.Time, hold int) bool {
	if s.last == noTime || !s.Idle(hold) {
		return false
	}
	age := now.Sub(time.Unix(0, s.last)) // saturates
	if age < 0 {
		if age == math.MinInt64 {
			return false // saturated: far before
		}
		age = -age
	}
	return uint64(age) <= s.maxGap
}

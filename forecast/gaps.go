package forecast

import (
	"fmt"
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// GapPolicy says how Prepare treats gaps (NaN steps) of a series. The zero
// value means the defaults.
type GapPolicy struct {
	// MaxGap is the longest run of gap steps that is linearly interpolated
	// between its neighbours. A longer run inside the series is refused
	// with a *GapError. Default (0): 3 steps; a negative value refuses
	// every gap.
	MaxGap int `json:"max_gap,omitempty"`
	// MaxGapDuration, when > 0, overrides MaxGap with a duration converted
	// with the series' step (rounded down). Must be ≥ 0.
	MaxGapDuration time.Duration `json:"max_gap_duration,omitempty"`
}

// Validate returns a *provider.InvalidError for a negative
// MaxGapDuration (a negative MaxGap is valid: it refuses every gap).
func (p GapPolicy) Validate() error {
	if p.MaxGapDuration < 0 {
		return provider.Invalid("gaps.max_gap_duration", p.MaxGapDuration, "must be ≥ 0 (0: max_gap steps)")
	}
	return nil
}

// MaxSteps is the longest run of gap steps p interpolates in a series of
// the given step (> 0): MaxGapDuration converted with it (rounded down)
// when set, else MaxGap, 3 for 0 and none for a negative MaxGap.
func (p GapPolicy) MaxSteps(step time.Duration) int {
	switch {
	case p.MaxGapDuration > 0:
		return int(p.MaxGapDuration / step)
	case p.MaxGap == 0:
		return 3
	case p.MaxGap < 0:
		return 0
	}
	return p.MaxGap
}

// Prepare returns the values of s ready to fit: leading and trailing gaps
// are trimmed, runs of at most MaxGap gap steps inside are linearly
// interpolated (a gap is never read as zero), and a longer run returns a
// *GapError (ErrLongGap) saying where; fit on the part after it with
// s.Window. It returns an error matching provider.ErrInvalid for an
// invalid series or policy and ErrInsufficientData when every step is a gap. The
// result is a new slice; s is not modified.
func Prepare(s provider.Series, p GapPolicy) ([]float64, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	maxGap := p.MaxSteps(s.Step)
	lo, hi := 0, len(s.Values)
	for lo < hi && math.IsNaN(s.Values[lo]) {
		lo++
	}
	for hi > lo && math.IsNaN(s.Values[hi-1]) {
		hi--
	}
	if lo == hi {
		return nil, fmt.Errorf("%w: series has no data (%d steps, all gaps)", ErrInsufficientData, len(s.Values))
	}
	y := append([]float64(nil), s.Values[lo:hi]...)
	for i := 0; i < len(y); i++ {
		if !math.IsNaN(y[i]) {
			continue
		}
		j := i
		for j < len(y) && math.IsNaN(y[j]) {
			j++
		}
		if j-i > maxGap {
			return nil, &GapError{Index: lo + i, Length: j - i, Max: maxGap}
		}
		a, b := y[i-1], y[j]
		d := b - a // infinite between values of opposite signs near the largest float64
		for k := i; k < j; k++ {
			w := float64(k-i+1) / float64(j-i+1)
			if math.IsInf(d, 0) {
				y[k] = a*(1-w) + b*w
			} else {
				y[k] = a + w*d
			}
		}
		i = j
	}
	return y, nil
}

// FitSeries prepares s with p and fits m on the result. Interpolated steps
// count as data. The model's steps are s's steps: a forecast of h values
// covers [s.End(), s.End()+h·s.Step) when s ends with data.
func FitSeries(m Model, s provider.Series, p GapPolicy) error {
	y, err := Prepare(s, p)
	if err != nil {
		return err
	}
	if isNil(m) {
		return provider.Invalid("model", nil, "must not be nil")
	}
	return m.Fit(y)
}

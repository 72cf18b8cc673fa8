package safety

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// GradualConfig configures GradualRule. The zero value means the
// defaults.
type GradualConfig struct {
	// MaxStepFraction is the largest change of desired capacity allowed in
	// one step, as a fraction of the current desired capacity, in (0, 1]
	// for scale in and (0, ∞) for scale out; 0 means the default.
	// Default: 0.5 (≤ 50 % per step).
	MaxStepFraction float64 `json:"max_step_fraction,omitempty" yaml:"max_step_fraction,omitempty"`
	// MinStep is a change (in instances) that is always allowed, so small
	// groups can move at all (from 1 to 2, or from 0). Must be ≥ 0; 0
	// means the default. Default: 1.
	MinStep int `json:"min_step,omitempty" yaml:"min_step,omitempty"`
}

// DefaultMaxStepFraction is GradualConfig.MaxStepFraction's default.
const DefaultMaxStepFraction = 0.5

// Validate returns an error matching provider.ErrInvalid naming a wrong
// field.
func (c GradualConfig) Validate() error {
	switch f := c.MaxStepFraction; {
	case math.IsNaN(f) || math.IsInf(f, 0) || f < 0:
		return invalidf("max_step_fraction", f, "must be a finite number > 0 (0 means 0.5)")
	case c.MinStep < 0:
		return invalidf("min_step", c.MinStep, "must be ≥ 0 (0 means 1)")
	}
	return nil
}

// GradualRule blocks capacity changes larger than MaxStepFraction of the
// current desired capacity in one step (beyond MinStep instances), and
// recommends a sequence of allowed steps. Actions other than scale in and
// scale out pass, and so does a change of only Min or Max: it moves no
// instance, and a Max lowered below the desired capacity must lower
// desired with it (Proposal.Validate refuses a target outside its own
// bounds), which this rule then judges. It does no I/O and is safe for
// concurrent use.
//
// Make one with NewGradualRule; the zero value is not usable: its Check fails,
// so the engine blocks.
type GradualRule struct {
	frac    float64
	minStep int
	made    bool // set by NewGradualRule; the zero value fails closed
}

var _ Rule = (*GradualRule)(nil)

// NewGradualRule returns a GradualRule for cfg, or an error matching
// provider.ErrInvalid, naming the field, when cfg is invalid.
func NewGradualRule(cfg GradualConfig) (*GradualRule, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	r := &GradualRule{made: true, frac: cfg.MaxStepFraction, minStep: cfg.MinStep}
	if r.frac == 0 {
		r.frac = DefaultMaxStepFraction
	}
	if r.minStep == 0 {
		r.minStep = 1
	}
	return r, nil
}

// Name returns "gradual".
func (r *GradualRule) Name() string { return "gradual" }

// Inline reports true: the rule does no I/O.
func (r *GradualRule) Inline() bool { return true }

// MaxStep returns the largest change allowed from a desired capacity of
// current: max(MinStep, ⌊MaxStepFraction × current⌋), the product
// saturated at math.MaxInt32 (a fraction large enough to mean "no
// limit" makes a product no int holds).
func (r *GradualRule) MaxStep(current int) int {
	return max(r.minStep, int(min(math.Floor(r.frac*float64(current)+1e-9), math.MaxInt32)))
}

// Check implements Rule.
func (r *GradualRule) Check(_ context.Context, p Proposal) (Result, error) {
	if !r.made {
		return Result{}, notMade("GradualRule", "NewGradualRule")
	}
	if !p.Action.IsScale() {
		return pass, nil
	}
	cur, want := p.Current.Desired, p.Target.Desired
	change := want - cur
	if change < 0 {
		change = -change
	}
	if change <= r.MaxStep(cur) {
		return pass, nil
	}
	steps := []string{strconv.Itoa(cur)}
	for c, n := cur, 0; c != want && n < 12; n++ {
		s := r.MaxStep(c)
		if want > c {
			c = min(want, c+s)
		} else {
			c = max(want, c-s)
		}
		steps = append(steps, strconv.Itoa(c))
	}
	if steps[len(steps)-1] != strconv.Itoa(want) {
		steps = append(steps, "…", strconv.Itoa(want))
	}
	pct := 100.0
	if cur > 0 {
		pct = 100 * float64(change) / float64(cur)
	}
	reason := fmt.Sprintf("desired %d → %d changes %.0f%% in one step (at most %d instances, %.0f%%, allowed)",
		cur, want, pct, r.MaxStep(cur), 100*r.frac)
	return Result{
		Outcome:         Block,
		Risk:            RiskMedium,
		Reason:          reason,
		Factors:         []string{fmt.Sprintf("step of %d instances (%.0f%%)", change, pct)},
		Recommendations: []string{"scale in steps: " + strings.Join(steps, " → ")},
	}, nil
}

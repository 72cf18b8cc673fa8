package sim

import (
	"context"
	"fmt"
	"math"

	"github.com/idlescale/idlescale/provider"
)

// HeadroomFor finds the least headroom (to 0.001, at most 10) with which
// a reactive baseline (tolerance as given) keeps the SLO violation share
// τ_U of demand at or below maxTauU, by bisection (τ_U falls as headroom
// grows, up to the steps the provisioning delay makes late). It returns
// the baseline named name and its result, or an error when even the
// largest headroom misses maxTauU. A name that is empty or the oracle's,
// a tolerance outside [0, 1) and a maxTauU outside [0, 1] are errors
// matching provider.ErrInvalid naming them; a trace is refused as Run
// refuses it (ErrGap when every replayed step is a gap).
func (s *Simulator) HeadroomFor(ctx context.Context, demand provider.Series, name string, tolerance, maxTauU float64) (Baseline, Result, error) {
	if math.IsNaN(maxTauU) || maxTauU < 0 || maxTauU > 1 {
		return Baseline{}, Result{}, fmt.Errorf("sim: %w", provider.Invalid("max_tau_u", maxTauU, "must be in [0, 1]"))
	}
	if err := (Baseline{Name: name, Tolerance: tolerance}).validate(); err != nil {
		return Baseline{}, Result{}, fmt.Errorf("sim: %w", err)
	}
	tr, err := s.prepare(demand)
	if err != nil {
		return Baseline{}, Result{}, err
	}
	oracle, err := s.oracle(tr)
	if err != nil {
		return Baseline{}, Result{}, err
	}
	run := func(h float64) (Baseline, Result, error) {
		b := Baseline{Name: name, Headroom: h, Tolerance: tolerance}
		r, err := s.replay(ctx, tr, Policy{Name: name, Strategy: &reactive{s: s, b: b, step: tr.series.Step}}, oracle)
		return b, r, err
	}
	lo, hi := 0.0, 10.0
	bb, br, err := run(hi)
	if err != nil {
		return Baseline{}, Result{}, err
	}
	if br.Metrics.TauU > maxTauU {
		return Baseline{}, Result{}, fmt.Errorf("sim: no headroom up to %g keeps τ_U ≤ %g (%.3f at %g)", hi, maxTauU, br.Metrics.TauU, hi)
	}
	if b, r, err := run(lo); err != nil {
		return Baseline{}, Result{}, err
	} else if r.Metrics.TauU <= maxTauU {
		return b, r, nil
	}
	for hi-lo > 0.001 {
		mid := (lo + hi) / 2
		b, r, err := run(mid)
		if err != nil {
			return Baseline{}, Result{}, err
		}
		if r.Metrics.TauU <= maxTauU {
			hi, bb, br = mid, b, r
		} else {
			lo = mid
		}
	}
	return bb, br, nil
}

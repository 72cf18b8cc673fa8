package sim_test

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/sim"
)

// TestRunGateSeesTheEnginesSteps: a policy's Gate is asked about each
// step of the plan the engine makes of a change (gradual steps of at most
// half the group, EngineConfig's default), in order, as the engine asks
// it, and the change goes as far as the gate lets the steps through. The
// simulator asked about each change whole, so a *safety.Engine with a
// gradual rule blocked the scale out from 1 to 8 that the Autoscaler
// makes in steps (1 → 2 → 3 → 4 → 6 → 8), and the group stayed at 1.
func TestRunGateSeesTheEnginesSteps(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	replay := func(g safety.GradualConfig) ([]int, []safety.Proposal) {
		gradual, err := safety.NewGradualRule(g)
		require.NoError(t, err)
		var asked []safety.Proposal
		spy := safety.RuleFunc(func(_ context.Context, p safety.Proposal) (safety.Result, error) {
			asked = append(asked, p)
			return safety.Result{}, nil
		})
		gate, err := safety.New(safety.Config{}, []safety.Rule{spy, gradual})
		require.NoError(t, err)
		rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: script(8), Gate: gate})
		require.NoError(t, err)
		r, _ := rep.Result("p")
		actual, _, _ := actualsOf(r)
		return actual, asked
	}
	actual, asked := replay(safety.GradualConfig{})
	assert.Equal(t, []int{8, 8, 8, 8, 8}, actual, "the engine's steps pass the default gradual rule")
	var steps [][2]int
	for _, p := range asked {
		steps = append(steps, [2]int{p.Current.Desired, p.Target.Desired})
		assert.Equal(t, scaling.DefaultRequester, p.Requester, "as the engine proposes")
		assert.Equal(t, safety.ActionScaleOut, p.Action)
	}
	assert.Equal(t, [][2]int{{1, 2}, {2, 3}, {3, 4}, {4, 6}, {6, 8}}, steps)

	// A stricter rule than the engine's steps (a quarter of the group)
	// lets the steps through up to 4, and refuses 4 → 6: the plan stops
	// there, as the engine's does, and every later plan starts with
	// 4 → 6 again.
	actual, _ = replay(safety.GradualConfig{MaxStepFraction: 0.25})
	assert.Equal(t, []int{4, 4, 4, 4, 4}, actual)
}

// TestRunGateSeesTheHostsEngineSteps: the plan's steps are those of the
// host's engine (Config.MaxStepFraction and MinStep, its
// scaling.EngineConfig's): a host that set its engine's steps to a
// quarter of the group, as its gate's gradual rule, scales from 1 to 8
// in steps the gate allows, where the replay's engine at the default,
// half the group, proposed 4 → 6, which the gate refuses, and the group
// stayed at 4. Invalid values are refused by name.
func TestRunGateSeesTheHostsEngineSteps(t *testing.T) {
	t.Parallel()
	cfg := handConfig()
	cfg.MaxStepFraction = 0.25
	s, err := sim.New(cfg)
	require.NoError(t, err)
	gradual, err := safety.NewGradualRule(safety.GradualConfig{MaxStepFraction: 0.25})
	require.NoError(t, err)
	gate, err := safety.New(safety.Config{}, []safety.Rule{gradual})
	require.NoError(t, err)
	rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: script(8), Gate: gate})
	require.NoError(t, err)
	r, _ := rep.Result("p")
	actual, _, _ := actualsOf(r)
	assert.Equal(t, []int{8, 8, 8, 8, 8}, actual)

	cfg = handConfig()
	cfg.MinStep = 3 // steps of 3: 1 → 4 → 7 → 8, each refused by a gate of MinStep 1 from 1
	s, err = sim.New(cfg)
	require.NoError(t, err)
	gradual, err = safety.NewGradualRule(safety.GradualConfig{})
	require.NoError(t, err)
	gate, err = safety.New(safety.Config{}, []safety.Rule{gradual})
	require.NoError(t, err)
	rep, err = s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: script(8), Gate: gate})
	require.NoError(t, err)
	r, _ = rep.Result("p")
	actual, _, _ = actualsOf(r)
	assert.Equal(t, []int{1, 1, 1, 1, 1}, actual, "1 → 4 is more than the gate's one instance from 1")

	for _, tt := range []struct {
		give  sim.Config
		field string
	}{
		{sim.Config{CapacityPerInstance: 1, MaxStepFraction: -1}, "max_step_fraction"},
		{sim.Config{CapacityPerInstance: 1, MaxStepFraction: math.NaN()}, "max_step_fraction"},
		{sim.Config{CapacityPerInstance: 1, MinStep: -1}, "min_step"},
	} {
		var ie *provider.InvalidError
		require.ErrorAs(t, tt.give.Validate(), &ie, tt.field)
		assert.Equal(t, tt.field, ie.Field)
	}
}

package safety_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Tests for what the gremlins run on ./safety found untested (issue 20).

// A resource with more live dependents than the walk keeps inline (eight)
// has them all named, in order; a dependent with no relation or detail is
// named bare, without empty parentheses.
func TestDependencyRuleManyDependents(t *testing.T) {
	t.Parallel()
	var deps []safety.Dependent
	var want []string
	for i := range 12 {
		d := safety.Dependent{ID: fmt.Sprintf("app-%02d", i), Live: true}
		name := d.ID
		switch i % 3 {
		case 1:
			d.Relation = "client"
			name += " (client)"
		case 2:
			d.Detail = "3 connections"
			name += " (3 connections)"
		}
		deps = append(deps, d)
		want = append(want, name)
	}
	graph, err := safety.NewStaticGraph(map[string][]safety.Dependent{"db-1": deps})
	require.NoError(t, err)
	r, err := safety.NewDependencyRule(safety.DependencyConfig{}, graph)
	require.NoError(t, err)
	got, err := r.Check(t.Context(), stop("db-1"))
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome)
	assert.Equal(t, "live dependents: "+strings.Join(want, ", "), got.Reason)
	assert.Len(t, got.Factors, 12)
	assert.Len(t, got.Recommendations, 12)
	assert.Equal(t, "live dependent app-00", got.Factors[0])
}

// The engine's combination: a passing rule at RiskNone adds no risk
// factor even with a reason, and the advice that lifts a block comes
// before any other advice, whatever the order of the rules.
func TestEngineFactorsAndAdviceOrder(t *testing.T) {
	t.Parallel()
	note := fixed("note", safety.Result{Reason: "looked, nothing to say", Recommendations: []string{"keep going"}})
	ask := fixed("ask", safety.Result{Outcome: safety.RequireApproval, Risk: safety.RiskMedium, Reason: "owner", Recommendations: []string{"ask the owner"}})
	block := fixed("block", safety.Result{Outcome: safety.Block, Risk: safety.RiskLow, Reason: "frozen", Recommendations: []string{"wait for the thaw", "ask the owner"}})
	eng, err := safety.New(safety.Config{}, []safety.Rule{note, ask, block})
	require.NoError(t, err)
	d, err := eng.Evaluate(t.Context(), stop("i-1"))
	require.ErrorIs(t, err, safety.ErrBlocked)
	assert.Equal(t, []string{"wait for the thaw", "ask the owner", "keep going"}, d.Recommendations)
	require.Len(t, d.Factors, 2)
	assert.Equal(t, safety.Factor{Rule: "ask", Risk: safety.RiskMedium, Text: "owner"}, d.Factors[0])
	assert.Equal(t, safety.Factor{Rule: "block", Risk: safety.RiskLow, Text: "frozen"}, d.Factors[1])
	assert.Equal(t, safety.RiskMedium, d.Risk)

	quiet, err := safety.New(safety.Config{}, []safety.Rule{note})
	require.NoError(t, err)
	d, err = quiet.Evaluate(t.Context(), stop("i-1"))
	require.NoError(t, err)
	assert.Empty(t, d.Factors, "RiskNone adds no factor")
	assert.Equal(t, safety.RiskLow, d.Risk, "a decision is at least low risk")
	assert.Equal(t, []string{"keep going"}, d.Recommendations)
}

// The critical rule asks the resource's owner by name when it has one.
func TestCriticalRuleAsksTheOwner(t *testing.T) {
	t.Parallel()
	r, err := safety.NewCriticalRule(safety.CriticalConfig{})
	require.NoError(t, err)
	p := stop("i-1")
	p.Resource.Environment = "production"
	got, err := r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, []string{"ask the resource's owner to approve"}, got.Recommendations)
	p.Resource.Owner = "team-payments"
	got, err = r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, []string{"ask team-payments to approve"}, got.Recommendations)
}

// The gradual rule's advice lists at most twelve steps, then an ellipsis
// and the target; a change from zero counts as 100 %.
func TestGradualRuleLongPathAndFromZero(t *testing.T) {
	t.Parallel()
	r, err := safety.NewGradualRule(safety.GradualConfig{})
	require.NoError(t, err)
	got, err := r.Check(t.Context(), scale("g-1", 1, 10000))
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome)
	assert.Equal(t, []string{"scale in steps: 1 → 2 → 3 → 4 → 6 → 9 → 13 → 19 → 28 → 42 → 63 → 94 → 141 → … → 10000"}, got.Recommendations)
	got, err = r.Check(t.Context(), scale("g-1", 1, 141))
	require.NoError(t, err)
	assert.Equal(t, []string{"scale in steps: 1 → 2 → 3 → 4 → 6 → 9 → 13 → 19 → 28 → 42 → 63 → 94 → 141"}, got.Recommendations, "twelve steps reach it: no ellipsis")

	got, err = r.Check(t.Context(), scale("g-1", 0, 3))
	require.NoError(t, err)
	assert.Equal(t, "desired 0 → 3 changes 100% in one step (at most 1 instances, 50%, allowed)", got.Reason)
	assert.Equal(t, []string{"step of 3 instances (100%)"}, got.Factors)
	got, err = r.Check(t.Context(), scale("g-1", 10, 4))
	require.NoError(t, err)
	assert.Equal(t, "desired 10 → 4 changes 60% in one step (at most 5 instances, 50%, allowed)", got.Reason)
	assert.Equal(t, []string{"step of 6 instances (60%)"}, got.Factors)
}

// A zero MemoryHistory keeps records for 24 hours after the newest: one
// exactly 24h older than the newest stays, one older goes.
func TestMemoryHistoryDefaultKeep(t *testing.T) {
	t.Parallel()
	long := t0.Add(-48 * time.Hour)
	h := &safety.MemoryHistory{}
	require.NoError(t, h.Record("web", t0, 3))
	require.NoError(t, h.Record("web", t0.Add(24*time.Hour), 1))
	n, err := h.ActedOn(t.Context(), "web", long)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "24h before the newest is kept")
	require.NoError(t, h.Record("web", t0.Add(24*time.Hour+time.Nanosecond), 2))
	_, err = h.ActedOn(t.Context(), "web", long)
	require.ErrorIs(t, err, provider.ErrInvalid, "older than 24h before the newest is pruned: a since reaching it is not answered")
	n, err = h.ActedOn(t.Context(), "web", t0.Add(time.Nanosecond))
	require.NoError(t, err)
	assert.Equal(t, 3, n, "older than 24h before the newest is pruned")
}

// Limits: a minimum equal to the maximum is a valid (fixed) capacity; the
// fleet-share block names the share as its factor.
func TestLimitsRuleEdges(t *testing.T) {
	t.Parallel()
	r, err := safety.NewLimitsRule(safety.LimitsConfig{MinCapacity: 5, MaxCapacity: 5, NoFleetShare: true}, nil)
	require.NoError(t, err, "min = max is a fixed size")
	got, err := r.Check(t.Context(), scale("g-1", 6, 5))
	require.NoError(t, err)
	assert.Equal(t, safety.Pass, got.Outcome)
	got, err = r.Check(t.Context(), scale("g-1", 5, 4))
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome)

	hist := &safety.MemoryHistory{}
	require.NoError(t, hist.Record("web", t0.Add(-time.Minute), 2))
	r, err = safety.NewLimitsRule(safety.LimitsConfig{}, hist)
	require.NoError(t, err)
	p := stop("i-1")
	p.Fleet, p.FleetSize = "web", 5
	got, err = r.Check(t.Context(), p)
	require.NoError(t, err)
	assert.Equal(t, safety.Block, got.Outcome)
	assert.Equal(t, []string{"fleet share 60%"}, got.Factors)
}

// A scale proposal that keeps the desired capacity is valid in either
// direction; one that moves against its direction is not.
func TestScaleProposalWithoutChangeIsValid(t *testing.T) {
	t.Parallel()
	for _, a := range []safety.Action{safety.ActionScaleIn, safety.ActionScaleOut} {
		p := scale("g-1", 5, 5)
		p.Action = a
		require.NoError(t, p.Validate(), a)
	}
	in := scale("g-1", 5, 6)
	in.Action = safety.ActionScaleIn
	require.ErrorIs(t, in.Validate(), provider.ErrInvalid)
	out := scale("g-1", 5, 4)
	out.Action = safety.ActionScaleOut
	require.ErrorIs(t, out.Validate(), provider.ErrInvalid)
}

// Units counts the instances a proposal acts on: the fall in desired
// capacity of a scale_in, the rise of a scale_out, 1 for other actions.
func TestProposalUnits(t *testing.T) {
	t.Parallel()
	in := scale("g-1", 5, 3)
	in.Action = safety.ActionScaleIn
	out := scale("g-1", 3, 7)
	out.Action = safety.ActionScaleOut
	same := scale("g-1", 4, 4)
	same.Action = safety.ActionScaleOut
	assert.Equal(t, []int{2, 4, 0, 1}, []int{in.Units(), out.Units(), same.Units(), stop("i-1").Units()})
}

// The fingerprint an approval is bound to tells apart target sizes that
// differ only in a fraction of a vCPU.
func TestFingerprintSeesFractionalVCPU(t *testing.T) {
	t.Parallel()
	a := stop("i-1")
	a.Action = safety.ActionResize
	a.CurrentSize = provider.Size{VCPU: 4}
	a.TargetSize = provider.Size{VCPU: 2.5}
	b := a
	b.TargetSize = provider.Size{VCPU: 2.4}
	assert.NotEqual(t, a.Fingerprint(), b.Fingerprint())
	c := a
	assert.Equal(t, a.Fingerprint(), c.Fingerprint())
}

// The rollback rule reports a restorer's own timeout as a block with its
// reason, and fails (an error, which the engine turns into a block) only
// when the check's context has ended. A start is never asked about.
func TestRollbackRuleRestorerTimeouts(t *testing.T) {
	t.Parallel()
	var asked atomic.Int32
	slow, err := safety.NewRollbackRule(safety.RollbackConfig{}, safety.RestorerFunc(func(context.Context, safety.Proposal) error {
		asked.Add(1)
		return fmt.Errorf("describe launch template: %w", context.DeadlineExceeded)
	}))
	require.NoError(t, err)
	got, err := slow.Check(t.Context(), stop("i-1"))
	require.NoError(t, err, "the check's context is live: the restorer's timeout is its answer")
	assert.Equal(t, safety.Block, got.Outcome)
	assert.Equal(t, "previous state not restorable: describe launch template: context deadline exceeded", got.Reason)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = slow.Check(ctx, stop("i-1"))
	require.ErrorIs(t, err, context.DeadlineExceeded, "the check ended: no answer")

	start := stop("i-1")
	start.Action = safety.ActionStart
	asked.Store(0)
	got, err = slow.Check(t.Context(), start)
	require.NoError(t, err)
	assert.Equal(t, safety.Pass, got.Outcome)
	assert.Zero(t, asked.Load(), "a start restores nothing")
}

// A schedule spec may be 1024 bytes long, not one more.
func TestParseScheduleLengthLimit(t *testing.T) {
	t.Parallel()
	spec := "Mon-Fri 09:00-18:00"
	at := spec + strings.Repeat(" ", 1024-len(spec))
	s, err := safety.ParseSchedule(at)
	require.NoError(t, err, "1024 bytes")
	assert.Equal(t, safety.MustParseSchedule(spec), s)
	_, err = safety.ParseSchedule(at + " ")
	require.ErrorIs(t, err, provider.ErrInvalid, "1025 bytes")
	assert.Contains(t, err.Error(), "must be at most 1024 bytes")
}

// Ranges given out of order are sorted and overlapping ones merged.
func TestParseScheduleSortsAndMerges(t *testing.T) {
	t.Parallel()
	s, err := safety.ParseSchedule("Mon 14:00-15:00,09:00-12:00; Mon 11:00-13:00,13:00-13:30")
	require.NoError(t, err)
	assert.Equal(t, []safety.Window{{Start: 9 * 60, End: 13*60 + 30}, {Start: 14 * 60, End: 15 * 60}}, s.Windows(time.Monday))
}

// The path a max_depth failure names does not depend on the order in
// which the graph lists dependents: of two equally long paths below a
// dependent met again (m, reached first from x and again through p), the
// one through the dependent with the smaller ID is named.
func TestDependencyRuleDepthErrorPathIgnoresListOrder(t *testing.T) {
	t.Parallel()
	for _, mDeps := range [][]safety.Dependent{
		{{ID: "y"}, {ID: "z"}},
		{{ID: "z"}, {ID: "y"}},
	} {
		g, err := safety.NewStaticGraph(map[string][]safety.Dependent{
			"x": {{ID: "m"}, {ID: "p"}}, "p": {{ID: "m"}}, "m": mDeps,
		})
		require.NoError(t, err)
		r, err := safety.NewDependencyRule(safety.DependencyConfig{MaxDepth: 2}, g)
		require.NoError(t, err)
		_, err = r.Check(t.Context(), stop("x"))
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "m lists %s first", mDeps[0].ID)
		assert.Equal(t, "max_depth", ie.Field)
		assert.Contains(t, err.Error(), "(via x → p → m → y)", "m lists %s first", mDeps[0].ID)
	}
}

package forecast

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endsAfter is a context whose Err reports it ended from its (n+1)-th call
// on: a deadline that passes while the work runs, at a known point.
type endsAfter struct {
	context.Context
	n, calls int
}

func (c *endsAfter) Err() error {
	c.calls++
	if c.calls > c.n {
		return context.Canceled
	}
	return nil
}

// TestRollPredictionsChecksTheContext pins where a candidate's validation
// looks at ctx: at its first origin (a validation of one origin, the
// shortest, still stops) and again every validationCheck origins (a
// context that ends after the first look stops a validation of more).
// Mutation testing found both untested: the check dropped, made at the
// second origin, or made once only, every test passed, since the check
// before each candidate and before the refit returned the same error,
// after the whole validation of the candidate.
func TestRollPredictionsChecksTheContext(t *testing.T) {
	t.Parallel()
	y := synthetic(600, 5)
	fitted := func(t0 int) core {
		m, err := Spec{Kind: KindSeasonalNaive, Period: 24}.New(IntervalOptions{})
		require.NoError(t, err)
		c := m.(core)
		require.NoError(t, c.fitParams(y[:t0]))
		return c
	}
	ended, cancel := context.WithCancel(t.Context())
	cancel()

	t0 := len(y) - 1 // one origin
	preds, err := rollPredictions(t.Context(), fitted(t0), y, t0, 4)
	require.NoError(t, err)
	require.Len(t, preds, 4)
	_, err = rollPredictions(ended, fitted(t0), y, t0, 4)
	require.ErrorIs(t, err, context.Canceled, "one origin")

	t0 = len(y) - validationCheck - 10 // two looks
	ctx := &endsAfter{Context: t.Context(), n: 1}
	_, err = rollPredictions(ctx, fitted(t0), y, t0, 4)
	require.ErrorIs(t, err, context.Canceled, "a context that ends after the first look")
	assert.Equal(t, 2, ctx.calls, "looked at origins 0 and validationCheck")
}

// TestAutoRefitStopsWhenTheContextEnds pins that the refit looks at ctx
// before fitting: a context that ends after the validation (the last
// candidate's last origins, which no check of the validation sees) stops
// the fit and chooses nothing. Mutation testing found it untested (the
// check dropped, every test passed).
func TestAutoRefitStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	y := synthetic(600, 5)
	a, err := NewAuto(AutoConfig{Periods: []int{24}, NoCombinations: true})
	require.NoError(t, err)
	p, err := a.plan(y)
	require.NoError(t, err)
	cands, err := p.validate(t.Context(), y, a.cfg.Intervals)
	require.NoError(t, err)
	scored := ranked(nil, cands)
	require.NotEmpty(t, scored)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	chosen, err := a.refit(ctx, scored, y, p)
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, chosen)
	assert.Nil(t, a.Model(), "nothing chosen")
}

// TestAutoRefitReturnsTheCandidateRefitted pins that the refit returns
// the candidate it fitted, which the score table marks Chosen: when the
// best ranked cannot be fitted on the whole series, the next is chosen
// and marked. Mutation testing found it untested (the first ranked
// returned, every test passed): the report would mark a candidate not
// chosen, and none of the one forecasting.
func TestAutoRefitReturnsTheCandidateRefitted(t *testing.T) {
	t.Parallel()
	y := synthetic(600, 5)
	a, err := NewAuto(AutoConfig{Periods: []int{24}, NoCombinations: true})
	require.NoError(t, err)
	p, err := a.plan(y)
	require.NoError(t, err)
	cands, err := p.validate(t.Context(), y, a.cfg.Intervals)
	require.NoError(t, err)
	scored := ranked(nil, cands)
	require.NotEmpty(t, scored)
	broken := &candidate{spec: Spec{Kind: "bogus"}, preds: scored[0].preds, mae: scored[0].mae}

	chosen, err := a.refit(t.Context(), append([]*candidate{broken}, scored...), y, p)
	require.NoError(t, err)
	assert.Same(t, scored[0], chosen)
	assert.Equal(t, scored[0].spec, a.Chosen())
}

// TestOffsetQuantileAtTheEdgesOfTheSample pins offsetQuantile at the
// first and the last rank inside the sample, where it is the error itself
// whatever its side of 0, and just outside them, where it is clamped to
// the extreme error and to 0. Mutation testing found the two inner
// boundaries untested (k < 0 made k <= 0, and k > n-1 made k >= n-1,
// every test passed): the lowest quantile the errors resolve was pulled
// to 0 when every error was above it, the highest when every error was
// below, narrowing the interval on its far side.
func TestOffsetQuantileAtTheEdgesOfTheSample(t *testing.T) {
	t.Parallel()
	above, below := []float64{1, 2, 3, 4}, []float64{-4, -3, -2, -1}
	tests := []struct {
		name string
		give []float64
		tau  float64
		want float64
	}{
		{"first rank, errors above 0", above, 0.2, 1}, // floor(5·0.2) − 1 = 0
		{"below the first rank", above, 0.19, 0},      // rank −1: min(e(1), 0)
		{"last rank, errors below 0", below, 0.8, -1}, // ceil(5·0.8) − 1 = 3
		{"above the last rank", below, 0.81, 0},       // rank 4: max(e(n), 0)
		{"below the first rank, errors below 0", below, 0.1, -4},
		{"above the last rank, errors above 0", above, 0.9, 4},
		{"no errors", nil, 0.9, 0},
		{"no errors, low", nil, 0.1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.InDelta(t, tt.want, offsetQuantile(tt.give, tt.tau), 0)
		})
	}
}

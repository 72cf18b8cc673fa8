package forecast_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// TestBacktestStopsInsideAnAutoFit: a Backtest of Auto whose context ends
// while an origin's Auto is being fitted returns the context's error
// without scoring that origin. Backtest checked ctx only between origins
// and Auto.Fit takes none, so a caller with a deadline waited for every
// candidate's validation and the refit (seconds to minutes on a long
// 5-minute series with many candidates) and then got a scored origin as if
// the deadline had not passed.
func TestBacktestStopsInsideAnAutoFit(t *testing.T) {
	t.Parallel()
	y := seasonal(24*14, 100, 0, 20, 3, 8)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	newAuto := func() (forecast.Model, error) {
		a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}})
		cancel() // the deadline passes while the model fits
		return a, err
	}
	opts := forecast.BacktestOptions{Horizon: 24, SeasonalPeriod: 24, Origins: []int{24 * 13}}
	res, err := forecast.Backtest(ctx, y, newAuto, opts)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, res.Origins, "the origin whose fit was stopped is not scored")
}

// TestAutoFitContext: FitContext with a context that has ended returns its
// error and leaves the selector unfitted (no model, no scores); with a
// live one it fits as Fit does.
func TestAutoFitContext(t *testing.T) {
	t.Parallel()
	y := seasonal(24*14, 100, 0, 20, 3, 8)
	a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}})
	require.NoError(t, err)
	var _ forecast.ContextFitter = a

	require.NoError(t, a.FitContext(t.Context(), y))
	require.NotNil(t, a.Model())
	chosen := a.Chosen()

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = a.FitContext(ctx, y)
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, a.Model(), "a stopped fit leaves the selector unfitted")
	assert.Empty(t, a.Scores())
	require.ErrorIs(t, a.Forecast(make([]float64, 1), nil, nil), forecast.ErrNotFitted)

	require.NoError(t, a.Fit(y))
	assert.Equal(t, chosen, a.Chosen(), "Fit is FitContext without an end")
}

// ExampleAuto_FitContext stops a selection whose deadline has passed: the
// selector returns the context's error and stays unfitted.
func ExampleAuto_FitContext() {
	y := make([]float64, 24*14)
	for i := range y {
		y[i] = 100 + 30*math.Sin(2*math.Pi*float64(i)/24)
	}
	a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}})
	if err != nil {
		panic(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel() // the caller's deadline has passed
	err = a.FitContext(ctx, y)
	fmt.Println(errors.Is(err, context.Canceled), a.Model() == nil)
	// Output: true true
}

// TestAutoFitContextEndedWhenNoCandidateValidates pins the check of ctx
// before each candidate: a context that has ended stops the fit with its
// error even when no candidate would reach the validation's own checks
// (a multiplicative season on a series with a 0 is skipped before it is
// stepped). Mutation testing found it untested (the check dropped, every
// test passed): such a fit reported no candidate could be fitted, an
// error that names the data, not the deadline that stopped it.
func TestAutoFitContextEndedWhenNoCandidateValidates(t *testing.T) {
	t.Parallel()
	y := seasonal(24*14, 100, 0, 20, 3, 8)
	y[100] = 0
	a, err := forecast.NewAuto(forecast.AutoConfig{
		Periods:        []int{24},
		Candidates:     []forecast.Spec{{Kind: forecast.KindHoltWinters, Period: 24, Multiplicative: true}},
		NoCombinations: true,
	})
	require.NoError(t, err)
	require.Error(t, a.Fit(y), "precondition: no candidate can be fitted")

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err = a.FitContext(ctx, y)
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, a.Model())
}

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

// TestAutoFitContextEndingAnywhere ends the context at each of the
// points where FitContext looks at it, one after another, until a fit
// sees it live throughout: every fit either returns ctx's error and
// leaves the selector unfitted, or returns nil with a model. Mutation
// testing found the error of the refit untested (dropped, every test
// passed): a context ending after the validation made FitContext return
// nil with no model, and the Forecast after it ErrNotFitted.
func TestAutoFitContextEndingAnywhere(t *testing.T) {
	t.Parallel()
	y := seasonal(24*14, 100, 0, 20, 3, 8)
	for n := 0; ; n++ {
		require.Less(t, n, 10000, "a fit that never completes")
		a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24}})
		require.NoError(t, err)
		ctx := &endsAfter{Context: t.Context(), n: n}
		if err := a.FitContext(ctx, y); err != nil {
			require.ErrorIs(t, err, context.Canceled, "ended at look %d", n+1)
			assert.Nil(t, a.Model(), "ended at look %d", n+1)
			continue
		}
		require.NotNil(t, a.Model(), "a fit that returns nil has a model (ended at look %d of %d)", n+1, ctx.calls)
		if ctx.calls <= n {
			return // never saw it end
		}
	}
}

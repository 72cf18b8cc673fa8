package scaling_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// endsAfterChecks is a context that ends (is cancelled) at its checks-th
// call of Err after the first: a deadline that passes while the work
// that checked it first runs.
type endsAfterChecks struct {
	context.Context
	cancel context.CancelFunc
	checks int
}

func (c *endsAfterChecks) Err() error {
	if c.checks--; c.checks < 0 {
		c.cancel()
	}
	return c.Context.Err()
}

// TestPredictiveFitStopsWhenTheContextEnds: a Recommend whose context ends
// while the strategy chooses its model (forecast.Auto validating its
// candidates) returns the context's error, and the next Recommend, with a
// live context at the same time, fits and forecasts. The choice took no
// context: a caller with a deadline waited for every candidate, and had
// the check been passed to it, the stopped fit would have been recorded as
// a failed one, leaving the target without a model until the next refit
// time (an hour by default).
func TestPredictiveFitStopsWhenTheContextEnds(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	y := seasonal(21*24, 1)
	parent, cancel := context.WithCancel(t.Context())
	defer cancel()
	ctx := &endsAfterChecks{Context: parent, cancel: cancel, checks: 1} // the strategy's own check passes
	_, err = p.Recommend(ctx, stateAt(y, len(y), 5))
	require.ErrorIs(t, err, context.Canceled)

	_, err = p.Recommend(t.Context(), stateAt(y, len(y), 5))
	require.NoError(t, err)
	st, ok := p.Status("web")
	require.True(t, ok)
	assert.Equal(t, scaling.StandingForecast, st.Standing, "the stopped fit is done at the next decision")
}

// TestPredictiveStatusSaysAFitStoppedLeftNoModel: a target whose model
// fits are stopped by the context (a host whose decisions have a deadline
// shorter than a fit: every one of them) has no model, and its Status
// says so (no_model, and why in Err), as for a fit that failed: it said
// nothing (no standing, no error) however long its history, so that a
// target that never got a model looked like one never decided. A fit
// that completes ends it.
func TestPredictiveStatusSaysAFitStoppedLeftNoModel(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	y := seasonal(21*24, 1)
	for k := range 2 {
		parent, cancel := context.WithCancel(t.Context())
		ctx := &endsAfterChecks{Context: parent, cancel: cancel, checks: 1} // the strategy's own check passes
		_, err = p.Recommend(ctx, stateAt(y, len(y)-1+k, 5))
		cancel()
		require.ErrorIs(t, err, context.Canceled)
		st, ok := p.Status("web")
		require.True(t, ok)
		assert.Equal(t, scaling.StandingNoModel, st.Standing, "decision %d", k)
		assert.Empty(t, st.Model)
		assert.NotEmpty(t, st.Err, "why there is no forecast")
	}

	_, err = p.Recommend(t.Context(), stateAt(y, len(y), 5))
	require.NoError(t, err)
	st, ok := p.Status("web")
	require.True(t, ok)
	assert.Equal(t, scaling.StandingForecast, st.Standing)
	assert.Empty(t, st.Err)
}

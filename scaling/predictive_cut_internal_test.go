package scaling

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/provider"
)

// cutAfter is a context that is cancelled at its checks-th call of Err
// after the first (1: the second call sees it ended): a deadline that
// passes while the work that checked it first runs.
type cutAfter struct {
	context.Context
	cancel context.CancelFunc
	checks int
}

func (c *cutAfter) Err() error {
	if c.checks--; c.checks < 0 {
		c.cancel()
	}
	return c.Context.Err()
}

// cutContext returns a context that ends at its second check of Err:
// fitIfDue's own check passes, the fit's first is cut.
func cutContext(t *testing.T) *cutAfter {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	t.Cleanup(cancel)
	return &cutAfter{Context: ctx, cancel: cancel, checks: 1}
}

// cutPredictor is a predictor of hourly daily demand (7 days of
// history, refit every 6h, reselected every 48h) and its observe at now,
// with a context.
func cutPredictor(t *testing.T, pinned *forecast.Spec) (*predictor, func(ctx context.Context, now time.Time) error, time.Time) {
	t.Helper()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	c := PredictiveConfig{
		CapacityPerInstance: 50, Step: time.Hour, MinHistory: 7 * 24 * time.Hour, Periods: []time.Duration{24 * time.Hour},
		RefitInterval: 6 * time.Hour, ReselectInterval: 48 * time.Hour, Model: pinned,
	}.withDefaults()
	vals := make([]float64, 30*24)
	for i := range vals {
		vals[i] = 100 + 50*math.Sin(2*math.Pi*float64(i)/24)
	}
	pr := newPredictor(c)
	observe := func(ctx context.Context, now time.Time) error {
		ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: time.Hour, Values: vals[:now.Sub(start)/time.Hour]}
		return pr.observe(ctx, ser, now)
	}
	return pr, observe, start.Add(8 * 24 * time.Hour) // a midnight: aligned to 6h and 48h
}

// TestPredictorReselectCutKeepsTheModelInUse: a due reselection of the
// model stopped by the decision's context (a per-decision deadline
// shorter than forecast.Auto's comparison) forecasts with the model in
// use, and says so in the reason, rather than failing the decision: a
// target whose every reselection is cut was left without a decision pass
// after pass, for good. The reselection is tried again at the next
// decision, and one that completes ends the note.
func TestPredictorReselectCutKeepsTheModelInUse(t *testing.T) {
	pr, observe, now := cutPredictor(t, nil)
	require.NoError(t, observe(t.Context(), now))
	chosen, selected, fitted := pr.model, pr.selectAt, pr.fitAt
	require.NotNil(t, chosen)

	reselect := now.Add(48 * time.Hour)
	for k := range 3 { // pass after pass, every reselection cut
		at := reselect.Add(time.Duration(k) * time.Hour)
		require.NoError(t, observe(cutContext(t), at), "pass %d", k)
		assert.Same(t, chosen, pr.model, "pass %d: the model in use is kept", k)
		assert.Equal(t, selected, pr.selectAt, "pass %d: not reselected", k)
		assert.Equal(t, fitted, pr.fitAt, "pass %d: not refitted", k)
		assert.Equal(t, StandingForecast, pr.standing, "pass %d", k)
		d := pr.decide(4)
		assert.Equal(t, StandingForecast, d.Standing, "pass %d", k)
		why := d.reason(pr.cfg, pr)
		assert.Contains(t, why, "reselection", "pass %d: %s", k, why)
		assert.Contains(t, why, context.Canceled.Error(), "pass %d: %s", k, why)
	}

	at := reselect.Add(3 * time.Hour)
	require.NoError(t, observe(t.Context(), at))
	assert.Equal(t, reselect, pr.selectAt, "reselected at the next decision with time for it")
	assert.Equal(t, at.Truncate(6*time.Hour), pr.fitAt)
	assert.NotSame(t, chosen, pr.model)
	d := pr.decide(4)
	assert.NotContains(t, d.reason(pr.cfg, pr), "reselection")
}

// TestPredictorRetryOfAFailedFitCutByTheContext: a failed fit is retried
// at the next refit time by choosing the model again (the reselection
// inside refitModel); that choice stops when the decision's context
// ends, failing with its error and leaving no model, and is tried again
// at the next decision rather than at the next refit time.
func TestPredictorRetryOfAFailedFitCutByTheContext(t *testing.T) {
	pr, observe, now := cutPredictor(t, nil)
	require.NoError(t, observe(t.Context(), now))
	pr.model, pr.fitErr = nil, errors.New("no fit") // a fit that failed
	fitted := pr.fitAt

	at := now.Add(6 * time.Hour) // the next refit time, no reselection due
	err := observe(cutContext(t), at)
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, pr.model)
	assert.Equal(t, fitted, pr.fitAt, "a fit stopped is not a fit made")
	assert.Equal(t, StandingNoModel, pr.standing)

	require.NoError(t, observe(t.Context(), at.Add(time.Hour)))
	require.NotNil(t, pr.model, "tried again at the next decision")
	require.NoError(t, pr.fitErr)
	assert.Equal(t, at, pr.fitAt)
}

// TestPredictorFitThatEndsAsItsContextEnds: a fit that completes, its
// context ending just after (a pinned model's, whose fit reads no
// context), is a fit made: it is kept and recorded, the decision
// forecasts, and nothing is tried again until the next refit time.
func TestPredictorFitThatEndsAsItsContextEnds(t *testing.T) {
	spec := forecast.Spec{Kind: forecast.KindHoltWinters, Period: 24}
	pr, observe, now := cutPredictor(t, &spec)
	require.NoError(t, observe(cutContext(t), now))
	require.NotNil(t, pr.model)
	assert.Equal(t, now, pr.fitAt, "the fit made is recorded")
	assert.Equal(t, StandingForecast, pr.standing)
	d := pr.decide(4)
	assert.NotContains(t, d.reason(pr.cfg, pr), "stopped")
}

// TestPredictorReselectDueUnderAnEndedContextKeepsTheModelInUse: as
// TestPredictorReselectCutKeepsTheModelInUse, for a decision whose
// context has ended before its due reselection starts (fitIfDue's own
// check): the model in use forecasts, and the reason says why.
func TestPredictorReselectDueUnderAnEndedContextKeepsTheModelInUse(t *testing.T) {
	t.Parallel()
	pr, observe, now := cutPredictor(t, nil)
	require.NoError(t, observe(t.Context(), now))
	chosen := pr.model
	require.NotNil(t, chosen)
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	require.NoError(t, observe(ended, now.Add(48*time.Hour)))
	assert.Same(t, chosen, pr.model, "the model in use is kept")
	require.Error(t, pr.fitCut)
	require.ErrorIs(t, pr.fitCut, context.Canceled)
	assert.Contains(t, pr.fitCut.Error(), "reselection")
}

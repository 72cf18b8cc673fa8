package scaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// TestADecisionCutShortTellsNothingOfData: a decision whose context ended
// (a host shutting down, a reload, a pass's deadline) while its
// strategies ran, so that each that reads metrics failed with the
// context's error (the predictive strategy's fit stopped by it), says
// nothing of the target's data: the engine tells no EventNoData, which
// the monitor would page as scaling_no_data for every target of a
// process stopping, and for good, no decision being left to recover it;
// and a blind target is not told recovered by it either.
func TestADecisionCutShortTellsNothingOfData(t *testing.T) {
	t.Parallel()
	e, rec, target := observedEngine(t, scaling.EngineConfig{NoDataAfter: -1})
	data := true
	sees := lacking{"a", &data}
	// A strategy that reads cpu and stops when its context ends, as the
	// predictive one's fit does.
	stops := needing{scaling.StrategyFunc(func(ctx context.Context, s scaling.State) (scaling.Recommendation, error) {
		if err := ctx.Err(); err != nil {
			return scaling.Recommendation{}, err
		}
		return sees.Recommend(ctx, s)
	})}
	cands := []scaling.Candidate{{Name: "a", Strategy: stops}}
	ended, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := e.Decide(t.Context(), scaling.State{Now: t0, Target: target}, cands, "")
	require.NoError(t, err)
	_, err = e.Decide(ended, scaling.State{Now: t0.Add(time.Minute), Target: target}, cands, "")
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, rec.count(scaling.EventNoData), "a decision cut short lacked no data")

	// Blind, then cut short: still blind, no recovery told.
	data = false
	blind := []scaling.Candidate{{Name: "a", Strategy: stops}, {Name: "b", Strategy: lacking{"b", &data}}}
	_, err = e.Decide(t.Context(), scaling.State{Now: t0.Add(2 * time.Minute), Target: target}, blind, "")
	require.NoError(t, err)
	require.Equal(t, 1, rec.count(scaling.EventNoData))
	_, _ = e.Decide(ended, scaling.State{Now: t0.Add(3 * time.Minute), Target: target}, blind, "")
	assert.Zero(t, rec.count(scaling.EventDataRecovered), "a decision cut short saw nothing")
	data = true
	_, err = e.Decide(t.Context(), scaling.State{Now: t0.Add(4 * time.Minute), Target: target}, blind, "")
	require.NoError(t, err)
	assert.Equal(t, 1, rec.count(scaling.EventDataRecovered))
	assert.Equal(t, 1, rec.count(scaling.EventNoData))
}

package alert_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// Two evaluations at once (Run's and a host's own, or two hosts'
// tickers): the earlier one reads a CPU above the threshold, the later
// one reads it back under and resolves the alert, and then the earlier
// one, slower, applies what it read. It re-opened the alert the later
// evaluation had resolved on newer data: a page for a CPU that had
// cooled, and an alert firing until the next evaluation. Evaluations
// now take their turn: the later one reads after the earlier applied
// what it read, so that the newest reading has the last word.
func TestConcurrentEvaluationsDoNotReopenAnAlert(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cloud, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, cloud.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
		slow := t0.Add(time.Minute)    // the evaluation whose read is slow
		release := make(chan struct{}) // ends its read
		metrics := provider.MetricsSourceFunc(func(ctx context.Context, q provider.Query) (provider.Series, error) {
			v := 0.2 // cooled
			switch {
			case q.End.Equal(t0):
				v = 0.99
			case q.End.Equal(slow):
				v = 0.99
				select {
				case <-release:
				case <-ctx.Done():
					return provider.Series{}, ctx.Err()
				}
			}
			return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: []float64{v}}, nil
		})
		a, err := alert.New(alert.Config{}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: metrics}))
		require.NoError(t, err)
		ctx := t.Context()
		require.NoError(t, a.Evaluate(ctx, t0))
		require.Len(t, a.Firing(), 1)

		first := make(chan error, 1)
		go func() { first <- a.Evaluate(ctx, slow) }()
		synctest.Wait() // the first evaluation is reading
		second := make(chan error, 1)
		go func() { second <- a.Evaluate(ctx, t0.Add(2*time.Minute)) }()
		synctest.Wait()
		close(release)
		require.NoError(t, <-first)
		require.NoError(t, <-second)
		assert.Empty(t, a.Firing(), "the newest reading, 0.2, resolved the alert")
	})
}

// TestAnOlderEvaluationWaitingForItsTurnDoesNotOverrideANewer: the turns
// were taken first come first served, whatever their now. An evaluation
// at 10:02 under way (its read slow) resolved the alert on a CPU back
// under the threshold; one at 10:01, called meanwhile (a host's own
// ticker, late), waited for its turn and then applied its older reading,
// 0.99, re-opening the alert the newer reading had resolved. An
// evaluation that waited for its turn and whose now is before the one
// evaluated meanwhile evaluates nothing: the newer reading stands.
func TestAnOlderEvaluationWaitingForItsTurnDoesNotOverrideANewer(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		cloud, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, cloud.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
		older, newer := t0.Add(time.Minute), t0.Add(2*time.Minute)
		release := make(chan struct{}) // ends the newer evaluation's read
		metrics := provider.MetricsSourceFunc(func(ctx context.Context, q provider.Query) (provider.Series, error) {
			v := 0.99
			if q.End.Equal(newer) {
				v = 0.2 // cooled
				select {
				case <-release:
				case <-ctx.Done():
					return provider.Series{}, ctx.Err()
				}
			}
			return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: []float64{v}}, nil
		})
		a, err := alert.New(alert.Config{}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: metrics}))
		require.NoError(t, err)
		ctx := t.Context()
		require.NoError(t, a.Evaluate(ctx, t0))
		require.Len(t, a.Firing(), 1)

		first := make(chan error, 1)
		go func() { first <- a.Evaluate(ctx, newer) }()
		synctest.Wait() // the newer evaluation is reading
		second := make(chan error, 1)
		go func() { second <- a.Evaluate(ctx, older) }()
		synctest.Wait()
		close(release)
		require.NoError(t, <-first)
		require.NoError(t, <-second)
		assert.Empty(t, a.Firing(), "the newest reading, 0.2 at 10:02, resolved the alert; 10:01's is older")

		// Not waiting, an evaluation at an earlier now still evaluates
		// (a clock that went back).
		require.NoError(t, a.Evaluate(ctx, older))
		assert.Len(t, a.Firing(), 1)
	})
}

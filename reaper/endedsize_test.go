package reaper_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// TestRunEndedWhileSizingIsNoFailedSize: a run whose context ends while
// the Sizer chooses a candidate's target size (a host's Sizer reading a
// pricing API, cut short by a deploy) recorded that candidate as failed
// ('choosing the target size failed: context canceled'), a step that never
// failed, counted in Totals.Failed and written as a failure event (the
// pipeline_failure alert) at every such deploy, as a re-read cut short
// was until 0053960. It is deferred as the candidates after it are; the
// run's error is the context's, and nothing is resized.
func TestRunEndedWhileSizingIsNoFailedSize(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-a", cpu: 0.25, itype: "m5.xlarge"}, vm{id: "i-b", cpu: 0.25, itype: "m5.xlarge"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	sizer := reaper.SizerFunc(func(ctx context.Context, r provider.Resource) (provider.Size, error) {
		cancel()
		return provider.Size{}, fmt.Errorf("pricing: %s: %w", r.ID, ctx.Err())
	})
	r := e.reaper(t, reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, reaper.WithSizer(sizer))
	rep, err := e.run(ctx, t, r, t0)
	require.ErrorIs(t, err, context.Canceled)
	assert.Empty(t, e.actions(), "nothing resized once the run ended")
	for _, id := range []string{"i-a", "i-b"} {
		rec := record(t, rep, id)
		assert.Equal(t, reaper.OutcomeDeferred, rec.Outcome, rec.String())
		assert.Contains(t, rec.Reason, "the run ended")
		require.NoError(t, rec.Err())
	}
	assert.Equal(t, 0, rep.Totals.Failed)
	assert.Equal(t, 0, rep.Totals.Errors)
	assert.Equal(t, 2, rep.Totals.Deferred)

	// A Sizer that fails on its own, with the run going on, still fails
	// the candidate.
	e2 := newEnv(t, memory.Config{})
	e2.add(t, vm{id: "i-a", cpu: 0.25, itype: "m5.xlarge"})
	broken := reaper.SizerFunc(func(context.Context, provider.Resource) (provider.Size, error) {
		return provider.Size{}, context.Canceled // a host's own cancelled call, not the run's end
	})
	r2 := e2.reaper(t, reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionDownsize}}, reaper.WithSizer(broken))
	rep2, err := e2.run(t.Context(), t, r2, t0)
	require.NoError(t, err)
	rec := record(t, rep2, "i-a")
	assert.Equal(t, reaper.OutcomeFailed, rec.Outcome, rec.String())
	assert.Equal(t, "choosing the target size failed", rec.Reason)
}

package scaling_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestRollbackGivesUpOnASizeNeverKnown: a resize whose write failed after
// the backend accepted it leaves the function's size unknown, and it
// stays unknown (the update hangs). The rollback waits for it no longer
// than the monitoring plan's Timeout (10 minutes by default), then fails
// (ErrRollback, ErrNotVerified, the size named unknown) without resizing
// from the unknown size. The poll interval, 7 minutes, does not divide
// the Timeout: the last wait is cut to end at it. (Kills the mutants of
// known's deadline and its last wait.)
func TestRollbackGivesUpOnASizeNeverKnown(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := fnCloud(t)
		fn := &applying{Cloud: c}
		gate := rollbackGate(t)
		e, err := scaling.NewEngine(scaling.EngineConfig{PollInterval: 7 * time.Minute}, scaling.Cloud{Resizer: hanging{fn}, Inventory: fn, Metrics: c}, gate)
		require.NoError(t, err)
		d := decideFnSmaller(t, e, fn)
		p := e.Plan(d, scaling.PlanOptions{})
		require.Equal(t, 10*time.Minute, p.Monitoring.Timeout)
		start := time.Now()
		x, err := e.Execute(t.Context(), p)
		waited := time.Since(start)
		require.ErrorIs(t, err, scaling.ErrRollback)
		require.ErrorIs(t, err, scaling.ErrNotVerified)
		assert.Contains(t, err.Error(), "the size is unknown after 10m0s")
		assert.Equal(t, scaling.PlanFailed, x.Status, x.Reason)
		assert.Equal(t, 10*time.Minute, waited, "waited for the size the whole Timeout and no longer (polls at 0, 7m and 10m)")
		resizes := 0
		for _, m := range c.Mutations() {
			if m.Op == memory.OpResize {
				resizes++
			}
		}
		assert.Equal(t, 1, resizes, "nothing resized from the unknown size")
	})
}

// hanging is applying whose update never applies: the size stays
// unknown after the first Resize, which fails.
type hanging struct{ *applying }

func (h hanging) Resize(ctx context.Context, id string, size provider.Size) error {
	err := h.applying.Resize(ctx, id, size)
	h.mu.Lock()
	defer h.mu.Unlock()
	h.until = time.Now().Add(24 * time.Hour)
	return err
}

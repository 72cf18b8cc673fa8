package scaling_test

import (
	"context"
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

var errDeposed = errors.New("deposed: another replica leads")

// TestDeposedBeforeTheRollbackWritesNothing: a scale in that fails
// verification (its signal's data never arrives) is rolled back, but the
// leader was deposed meanwhile: the Fencer refuses right before the
// rollback's write. Nothing is written, the rollback's record says so
// (skipped, not written, with the Fencer's error) and the plan's error
// names both the cause and the refusal. (Kills the mutant of undo's fence path that left the
// record executing, for a resume to read, when the context had not
// ended.)
func TestDeposedBeforeTheRollbackWritesNothing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		fencer := scaling.FencerFunc(func(ctx context.Context, _ string, _ int) error {
			if ref, ok := scaling.PlanFromContext(ctx); ok && ref.Rollback {
				return errDeposed
			}
			return nil
		})
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: published{Cloud: c, delay: 24 * time.Hour}},
			safetyGate(t), scaling.WithFencer(fencer))
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), e.Plan(decide(t, e, c, 3), scaling.PlanOptions{}))
		require.ErrorIs(t, err, errDeposed)
		require.ErrorIs(t, err, scaling.ErrRollback)
		require.ErrorIs(t, err, scaling.ErrNotVerified, "the cause is kept")
		require.Len(t, x.Rollback, 1)
		assert.Equal(t, scaling.StepSkipped, x.Rollback[0].Status, x.Rollback[0].Reason)
		assert.Contains(t, x.Rollback[0].Reason, "not written: "+errDeposed.Error())
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 3, capa.Desired, "the scale in stays: the rollback was not written")
	})
}

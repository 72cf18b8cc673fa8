package scaling_test

import (
	"errors"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// Execute of a plan that already ended with an error returns an error
// with a journal that serializes too, which keeps the error's text
// (Execution.Error) but not the error: it returned the failed execution
// with a nil error, so a host retrying a plan read it as done. A plan
// that ended without an error (completed) still returns none.
func TestExecuteAgainAfterAFailureWithASerializingJournal(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := newCloud(t, 4, memory.Config{})
		boom := errors.New("api down")
		_, err := c.InjectFault(memory.Fault{Op: memory.OpSetCapacity, ResourceID: "web", Nth: 2, Err: boom})
		require.NoError(t, err)
		j := newJSONJournal()
		e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, safetyGate(t), scaling.WithJournal(j))
		require.NoError(t, err)
		p := e.Plan(decide(t, e, c, 9), scaling.PlanOptions{})
		first, err := e.Execute(t.Context(), p)
		require.ErrorIs(t, err, boom)
		require.True(t, first.Status.Final(), "%s", first.Status)
		assert.Equal(t, first.Err.Error(), first.Error)
		n := len(setCapacityOps(c))

		again, err := e.Execute(t.Context(), p)
		require.Error(t, err, "the plan ended %s with an error", again.Status)
		assert.Contains(t, err.Error(), "api down")
		assert.Contains(t, err.Error(), "ended "+string(first.Status)+" before")
		assert.Equal(t, first.Status, again.Status)
		assert.Len(t, setCapacityOps(c), n, "nothing carried out again")

		done := e.Plan(decide(t, e, c, 6), scaling.PlanOptions{})
		require.NotEmpty(t, done.Steps)
		_, err = e.Execute(t.Context(), done)
		require.NoError(t, err)
		x, err := e.Execute(t.Context(), done)
		require.NoError(t, err, "a completed plan returns no error")
		assert.Equal(t, scaling.PlanCompleted, x.Status)
		assert.Empty(t, x.Error)
	})
}

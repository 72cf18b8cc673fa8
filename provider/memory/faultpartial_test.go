package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// TestFaultPartialElsewhereChangesNothing: a Partial fault on an
// operation other than SetCapacity and List applies nothing (Fault.Partial),
// so its error does not match ErrPartial, which says that part of the
// change was applied: with Throttle it matched both ErrPartial and
// provider.ErrThrottled, the one saying part of a stop was made and the
// other (provider.ChangedNothing) that nothing was.
func TestFaultPartialElsewhereChangesNothing(t *testing.T) {
	t.Parallel()
	calls := map[memory.Op]func(*memory.Cloud) error{
		memory.OpGet:         func(c *memory.Cloud) error { _, err := c.Get(t.Context(), "i-a"); return err },
		memory.OpQueryMetric: func(c *memory.Cloud) error { _, err := c.QueryMetric(t.Context(), cpuQuery()); return err },
		memory.OpStart:       func(c *memory.Cloud) error { return c.Start(t.Context(), "i-a") },
		memory.OpStop:        func(c *memory.Cloud) error { return c.Stop(t.Context(), "i-a") },
		memory.OpTerminate:   func(c *memory.Cloud) error { return c.Terminate(t.Context(), "i-a") },
		memory.OpCapacity:    func(c *memory.Cloud) error { _, err := c.Capacity(t.Context(), "web"); return err },
		memory.OpResize: func(c *memory.Cloud) error {
			return c.Resize(t.Context(), "fn", provider.Size{MemoryMiB: 256, Timeout: time.Second})
		},
		memory.OpBackups: func(c *memory.Cloud) error { _, err := c.Backups(t.Context(), "i-a", time.Time{}); return err },
		memory.OpActivity: func(c *memory.Cloud) error {
			_, err := c.Activity(t.Context(), provider.ActivityQuery{ResourceID: "i-a", Start: epoch.Add(-time.Hour), End: epoch})
			return err
		},
	}
	for op, call := range calls {
		for _, f := range []memory.Fault{{Throttle: true}, {Err: provider.ErrConflict}, {}} {
			c, _ := seed(t)
			f.Op, f.Partial = op, true
			_, err := c.InjectFault(f)
			require.NoError(t, err)
			before := c.Mutations()
			err = call(c)
			require.Error(t, err, "%s %+v", op, f)
			require.NotErrorIs(t, err, memory.ErrPartial, "%s %+v: nothing was applied", op, f)
			assert.Equal(t, before, c.Mutations(), "%s %+v", op, f)
			switch {
			case f.Throttle:
				require.ErrorIs(t, err, provider.ErrThrottled, "%s", op)
				assert.True(t, provider.ChangedNothing(err), "%s: %v", op, err)
			case f.Err != nil:
				require.ErrorIs(t, err, f.Err, "%s", op)
			default:
				require.ErrorIs(t, err, memory.ErrInjected, "%s", op)
			}
		}
	}
}

// TestFaultThrottleKeepsErr: a Fault with Throttle and Err fails with an
// error that matches provider.ErrThrottled and wraps Err, as each alone
// does: Err (an SDK's throttling error, with its type and code) was
// dropped, so a caller's errors.As on it, the retry policy of a host's
// wrapper reading the code, found nothing.
func TestFaultThrottleKeepsErr(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	boom := &apiError{code: "Throttling"}
	_, err := c.InjectFault(memory.Fault{Op: memory.OpStop, Throttle: true, Err: boom})
	require.NoError(t, err)
	err = c.Stop(t.Context(), "i-a")
	require.ErrorIs(t, err, provider.ErrThrottled)
	var got *apiError
	require.ErrorAs(t, err, &got)
	assert.Equal(t, "Throttling", got.code)
	assert.True(t, provider.ChangedNothing(err))
}

package memory_test

import (
	"testing"

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
	calls := opCalls(t)
	// Partial applies part of the change on these two only.
	delete(calls, memory.OpSetCapacity)
	delete(calls, memory.OpList)
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

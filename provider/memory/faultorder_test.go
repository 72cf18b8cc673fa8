package memory_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// TestFaultNthCountsCallsAnEarlierFaultDecided: Nth counts every matching
// call, those an earlier fault fired on included, so that a script of
// faults (the first call throttled, the second failing with an API
// error) happens on the calls it names.
func TestFaultNthCountsCallsAnEarlierFaultDecided(t *testing.T) {
	t.Parallel()
	c, _ := seed(t)
	ctx := t.Context()
	boom := errors.New("InternalError")
	_, err := c.InjectFault(memory.Fault{Op: memory.OpGet, Nth: 1, Throttle: true})
	require.NoError(t, err)
	_, err = c.InjectFault(memory.Fault{Op: memory.OpGet, Nth: 2, Err: boom})
	require.NoError(t, err)
	_, err = c.InjectFault(memory.Fault{Op: memory.OpGet, ResourceID: "i-a", Times: 1, Err: memory.ErrInjected})
	require.NoError(t, err)
	_, err = c.Get(ctx, "i-a")
	require.ErrorIs(t, err, provider.ErrThrottled, "call 1: the first fault")
	_, err = c.Get(ctx, "i-a")
	require.ErrorIs(t, err, boom, "call 2: the second fault's Nth")
	_, err = c.Get(ctx, "i-a")
	require.ErrorIs(t, err, memory.ErrInjected, "call 3: the third fault, once")
	_, err = c.Get(ctx, "i-a")
	assert.NoError(t, err, "call 4: none fires")
}

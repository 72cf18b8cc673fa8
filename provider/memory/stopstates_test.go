package memory_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// Stop and Start from every state: stopping a pending or terminated
// instance is a conflict and changes nothing; stopping a stopped or
// stopping one is a no-op; only a running one is stopped. Start mirrors
// it. No refused or no-op call records a mutation.
func TestStopAndStartFromEveryState(t *testing.T) {
	t.Parallel()
	// Each case brings a fresh instance to a state with the given calls.
	reach := map[provider.State]func(t *testing.T, c *memory.Cloud){
		provider.StateRunning:  func(*testing.T, *memory.Cloud) {},
		provider.StateStopping: func(t *testing.T, c *memory.Cloud) { require.NoError(t, c.Stop(t.Context(), "i")) },
		provider.StateTerminated: func(t *testing.T, c *memory.Cloud) {
			require.NoError(t, c.Terminate(t.Context(), "i"))
		},
	}
	tests := []struct {
		from    provider.State
		stop    error // nil: allowed
		stopTo  provider.State
		start   error
		startTo provider.State
	}{
		{from: provider.StateRunning, stopTo: provider.StateStopping, startTo: provider.StateRunning},
		{from: provider.StateStopping, stopTo: provider.StateStopping, start: provider.ErrConflict, startTo: provider.StateStopping},
		{from: provider.StateTerminated, stop: provider.ErrConflict, stopTo: provider.StateTerminated, start: provider.ErrConflict, startTo: provider.StateTerminated},
	}
	for _, tt := range tests {
		t.Run(string(tt.from), func(t *testing.T) {
			t.Parallel()
			for _, op := range []string{"stop", "start"} {
				c, _ := newCloudConfig(t, memory.Config{StopDelay: time.Minute, StartDelay: time.Minute})
				require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
				reach[tt.from](t, c)
				assertState(t, c, "i", tt.from)
				before := len(c.Mutations())
				var err error
				want, to := tt.stop, tt.stopTo
				if op == "stop" {
					err = c.Stop(t.Context(), "i")
				} else {
					err = c.Start(t.Context(), "i")
					want, to = tt.start, tt.startTo
				}
				if want != nil {
					require.ErrorIs(t, err, want, "%s from %s", op, tt.from)
				} else {
					require.NoError(t, err, "%s from %s", op, tt.from)
				}
				assertState(t, c, "i", to)
				changed := to != tt.from
				assert.Equal(t, changed, len(c.Mutations()) > before, "%s from %s records a mutation only when it changes the state", op, tt.from)
			}
		})
	}

	// Pending (started, not yet running) and stopped.
	c, m := newCloudConfig(t, memory.Config{StopDelay: time.Minute, StartDelay: time.Minute})
	require.NoError(t, c.Add(provider.Resource{ID: "i", Kind: provider.KindInstance}))
	require.NoError(t, c.Stop(t.Context(), "i"))
	m.Add(time.Minute)
	assertState(t, c, "i", provider.StateStopped)
	n := len(c.Mutations())
	require.NoError(t, c.Stop(t.Context(), "i"), "stopping a stopped instance is a no-op")
	assert.Len(t, c.Mutations(), n)
	require.NoError(t, c.Start(t.Context(), "i"))
	assertState(t, c, "i", provider.StatePending)
	n = len(c.Mutations())
	require.ErrorIs(t, c.Stop(t.Context(), "i"), provider.ErrConflict, "a pending instance cannot be stopped")
	require.NoError(t, c.Start(t.Context(), "i"), "starting a pending instance is a no-op")
	assertState(t, c, "i", provider.StatePending)
	assert.Len(t, c.Mutations(), n)
}

// A resource added in a transitional state finishes its transition like
// one the Cloud moved there: stopping becomes stopped after StopDelay and
// pending becomes running after StartDelay, instead of staying stuck (a
// stuck stopping instance could never be started again).
func TestAddedInTransitionFinishes(t *testing.T) {
	t.Parallel()
	c, m := newCloudConfig(t, memory.Config{StopDelay: time.Minute, StartDelay: 2 * time.Minute})
	require.NoError(t, c.Add(
		provider.Resource{ID: "stopping", Kind: provider.KindInstance, State: provider.StateStopping},
		provider.Resource{ID: "pending", Kind: provider.KindInstance, State: provider.StatePending},
	))
	assertState(t, c, "stopping", provider.StateStopping)
	assertState(t, c, "pending", provider.StatePending)
	m.Add(time.Minute)
	assertState(t, c, "stopping", provider.StateStopped)
	assertState(t, c, "pending", provider.StatePending)
	require.NoError(t, c.Start(t.Context(), "stopping"))
	m.Add(time.Minute)
	assertState(t, c, "pending", provider.StateRunning)
	require.NoError(t, c.Stop(t.Context(), "pending"))
}

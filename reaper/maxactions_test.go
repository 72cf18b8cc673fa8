package reaper_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// TestStopThatChangedNothingLeavesMaxActions: Config.MaxActions bounds
// the actions carried out, and a stop the provider refuses saying that
// nothing changed (provider.ChangedNothing: denied for want of a
// permission, throttled) is not one: the next candidate is stopped in its
// place, and the one after it is deferred, one change in all. Before, the
// refused stop used the run's one action, so a stop denied at every run
// (a missing permission on one machine) deferred every other idle machine
// of the fleet at every run. A stop that fails without saying that
// nothing changed may have happened, and still counts.
func TestStopThatChangedNothingLeavesMaxActions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		give     error
		want1    reaper.Outcome // i-1's, whose stop fails with give
		want2    reaper.Outcome
		wantStop int // stops that changed something (the memory cloud's log)
	}{
		{name: "denied", give: fmt.Errorf("aws: stop: %w: UnauthorizedOperation", provider.ErrDenied),
			want1: reaper.OutcomeFailed, want2: reaper.OutcomeActed, wantStop: 1},
		// A throttled stop changes nothing too, but the backend asks for
		// fewer calls: the rest of the run is deferred
		// (TestThrottledStopDefersTheRun).
		{name: "throttled", give: provider.ErrThrottled, want1: reaper.OutcomeFailed, want2: reaper.OutcomeDeferred, wantStop: 0},
		{name: "may have happened", give: errors.New("connection reset"),
			want1: reaper.OutcomeUnverified, want2: reaper.OutcomeDeferred, wantStop: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02}, vm{id: "i-3", cpu: 0.02})
			_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpStop, ResourceID: "i-1", Err: tt.give})
			require.NoError(t, err)
			rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true, MaxActions: 1}), t0)
			require.NoError(t, err)
			rec := record(t, rep, "i-1")
			assert.Equal(t, tt.want1, rec.Outcome, rec.Reason)
			require.ErrorIs(t, rec.Err(), tt.give)
			rec = record(t, rep, "i-2")
			assert.Equal(t, tt.want2, rec.Outcome, rec.Reason)
			rec = record(t, rep, "i-3")
			assert.Equal(t, reaper.OutcomeDeferred, rec.Outcome, rec.Reason)
			if !errors.Is(tt.give, provider.ErrThrottled) {
				assert.Equal(t, "max_actions 1 reached in this run", rec.Reason)
			}
			assert.Len(t, e.actions(), tt.wantStop)
		})
	}
}

// TestThrottledStopDefersTheRun: a stop the provider refuses as throttled
// (its retries spent) changes nothing, and the run's other candidates
// are deferred rather than each calling a backend that asks for fewer
// calls; the next run stops them all. A denied stop does not defer the
// others: the permission is the resource's.
func TestThrottledStopDefersTheRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-1", cpu: 0.02}, vm{id: "i-2", cpu: 0.02}, vm{id: "i-3", cpu: 0.02})
	// One throttled call: a stop of i-2 or i-3 in this run would succeed.
	_, err := e.cloud.InjectFault(memory.Fault{Op: memory.OpStop, Throttle: true, Times: 1})
	require.NoError(t, err)
	r := e.reaper(t, reaper.Config{Execute: true})
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	rec := record(t, rep, "i-1")
	assert.Equal(t, reaper.OutcomeFailed, rec.Outcome, rec.Reason)
	require.ErrorIs(t, rec.Err(), provider.ErrThrottled)
	assert.Contains(t, rec.Reason, "throttled by the provider: nothing changed")
	for _, id := range []string{"i-2", "i-3"} {
		rec := record(t, rep, id)
		assert.Equal(t, reaper.OutcomeDeferred, rec.Outcome, rec.Reason)
		assert.Equal(t, "the provider throttled the action on i-1 in this run: deferred to the next run", rec.Reason)
	}
	assert.Empty(t, e.actions(), "no other stop was tried: it would have succeeded")

	rep, err = e.run(t.Context(), t, r, t0.Add(time.Hour))
	require.NoError(t, err)
	for _, id := range []string{"i-1", "i-2", "i-3"} {
		rec := record(t, rep, id)
		assert.Equal(t, reaper.OutcomeActed, rec.Outcome, "%s: %s", id, rec.Reason)
	}
}

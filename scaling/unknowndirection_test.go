package scaling_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/scaling"
)

// TestResizeOfUnknownDirectionUnderAGlobalInterval pins the budget of a
// resize whose sizes do not tell its direction (a driver that reports
// the instance type alone, as the AWS driver does) on a limiter whose
// global budget has a MinInterval: it reserved Up and then Down at the
// same instant, each with the global budget, so the second was always
// denied by the first one's global event, and such a resize was rate
// limited at every attempt. It is now one event: it fits the target's Up
// and Down budgets (both record it, so a later change either way waits
// out the target's interval), counts once in the global bucket, and a
// write that changed nothing gives all of it back.
func TestResizeOfUnknownDirectionUnderAGlobalInterval(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.Add(provider.Resource{ID: "vm", Kind: provider.KindInstance, State: provider.StateRunning,
			Size: provider.Size{InstanceType: "m5.xlarge"}}))
		lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{MinInterval: time.Minute}})
		require.NoError(t, err)
		inv := typeOnly{c}
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second}, scaling.Cloud{Resizer: c, Inventory: inv}, allowAll{}, scaling.WithReserver(lim))
		require.NoError(t, err)
		res, err := inv.Get(t.Context(), "vm")
		require.NoError(t, err)
		p := e.Plan(scaling.Decision{Now: c.Now(), Change: true, Target: scaling.Target{ID: "vm", Resource: res},
			Chosen: scaling.Recommendation{Strategy: "vertical", Size: provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}}}, scaling.PlanOptions{})
		x, err := e.Execute(t.Context(), p)
		require.NoError(t, err)
		require.Equal(t, scaling.PlanCompleted, x.Status, x.Reason)
		got, err := c.Get(t.Context(), "vm")
		require.NoError(t, err)
		assert.Equal(t, "m5.large", got.Size.InstanceType)
		r := x.Steps[0].Reservation
		require.True(t, r.OK(), "%s", r)
		assert.Zero(t, x.Steps[0].DownReservation, "one reservation")

		st, err := lim.StatsAt(t.Context(), r.At)
		require.NoError(t, err)
		kept := map[string]int{}
		for _, b := range st.Buckets {
			kept[b.Key.String()] = b.Kept
		}
		assert.Equal(t, map[string]int{"global": 1, "vm/up": 1, "vm/down": 1}, kept, "one global event, in both of the target's buckets")

		// Past the global interval, within the target's (300 s by
		// default): a change either way is denied by the resize's event.
		later := r.At.Add(2 * time.Minute)
		for _, d := range []ratelimit.Direction{ratelimit.Up, ratelimit.Down} {
			q, err := lim.ReserveAt(t.Context(), later, ratelimit.Request{Target: "vm", Direction: d, Units: 1})
			require.NoError(t, err)
			assert.False(t, q.OK(), "%s", q)
			assert.Equal(t, ratelimit.ReasonInterval, q.Reason, "%s", q)
			assert.Equal(t, ratelimit.ScopeTarget, q.Scope, "%s", q)
			assert.Equal(t, r.At.Add(ratelimit.DefaultMinInterval), q.Next, "%s", q)
		}

		// A write that changed nothing: all of it given back.
		require.NoError(t, c.Add(provider.Resource{ID: "vm2", Kind: provider.KindInstance, State: provider.StateRunning,
			Size: provider.Size{InstanceType: "m5.xlarge"}}))
		lim, err = ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{MinInterval: time.Minute}})
		require.NoError(t, err)
		e, err = scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Second},
			scaling.Cloud{Resizer: conflictingResizer{}, Inventory: inv}, allowAll{}, scaling.WithReserver(lim))
		require.NoError(t, err)
		res, err = inv.Get(t.Context(), "vm2")
		require.NoError(t, err)
		p = e.Plan(scaling.Decision{Now: c.Now(), Change: true, Target: scaling.Target{ID: "vm2", Resource: res},
			Chosen: scaling.Recommendation{Strategy: "vertical", Size: provider.Size{InstanceType: "m5.large", VCPU: 2, MemoryMiB: 8192}}}, scaling.PlanOptions{})
		x, err = e.Execute(t.Context(), p)
		require.Error(t, err)
		assert.Equal(t, scaling.PlanStopped, x.Status, x.Reason)
		assert.Zero(t, x.Steps[0].Reservation)
		assert.Zero(t, x.Steps[0].DownReservation)
		now := c.Now()
		st, err = lim.StatsAt(t.Context(), now)
		require.NoError(t, err)
		for _, b := range st.Buckets {
			assert.Zero(t, b.Kept, "%s: refunded", b.Key)
		}
		for _, d := range []ratelimit.Direction{ratelimit.Up, ratelimit.Down} {
			q, err := lim.ReserveAt(t.Context(), now, ratelimit.Request{Target: "vm2", Direction: d, Units: 1})
			require.NoError(t, err)
			assert.True(t, q.OK(), "%s: nothing left of the refunded resize", q)
			require.NoError(t, lim.CancelAt(t.Context(), now, q))
		}
	})
}

package ratelimit_test

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
)

// maxInWindow returns the largest number of times in any window (s, s+w]:
// the invariant "never more than Events in any Window" is
// maxInWindow(granted, Window) ≤ Events. It sorts a copy of ts.
func maxInWindow(ts []time.Time, w time.Duration) int {
	s := slices.Clone(ts)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	most := 0
	for i := range s {
		n := 0
		for j := i; j < len(s) && s[j].Sub(s[i]) < w; j++ {
			n++
		}
		most = max(most, n)
	}
	return most
}

// skewSteps are the reservations of two replicas whose clocks are 150 s
// apart, on the global budget of 3 events per 30 minutes: B (on time)
// reserves at +0 and +60 s, A (150 s ahead) at +1890 s on its clock
// (+1740 s real), then B again at +1750 s and +1760 s. Before the fix A's
// reservation pruned B's first two events (older than 30 minutes before
// +1890 s), so B's later two were granted against an emptied history:
// four events within 30 minutes (+0, +60 s, +1750 s, +1760 s). Now B's
// reservation at +1750 s is the third in its window and is granted; the
// one at +1760 s would be the fourth.
var skewSteps = []struct {
	target string
	at     time.Duration
}{
	{"a", 0}, {"b", 60 * time.Second}, {"c", 1890 * time.Second}, {"d", 1750 * time.Second}, {"e", 1760 * time.Second},
}

var skewCfg = ratelimit.Config{Global: ratelimit.Budget{Events: 3, Window: 30 * time.Minute}}

// checkSkewSteps runs skewSteps through reserve (one limiter, or one per
// replica) and checks the budget and the decisions: e is denied by the
// global window until +1800 s, when the event at +0 leaves it.
func checkSkewSteps(t *testing.T, reserve func(i int, at time.Time, req ratelimit.Request) (ratelimit.Reservation, error)) {
	t.Helper()
	var granted []time.Time
	for i, s := range skewSteps {
		at := t0.Add(s.at)
		r, err := reserve(i, at, ratelimit.Request{Target: s.target, Direction: ratelimit.Up, Units: 1})
		require.NoError(t, err)
		if r.OK() {
			granted = append(granted, at)
		}
		if s.target == "e" {
			assert.Equal(t, ratelimit.Denied, r.Outcome, "%s: %s", s.target, r)
			assert.Equal(t, ratelimit.ReasonWindow, r.Reason, "%s: %s", s.target, r)
			assert.Equal(t, ratelimit.ScopeGlobal, r.Scope, "%s: %s", s.target, r)
			assert.Equal(t, t0.Add(1800*time.Second), r.Next, "%s: %s", s.target, r)
			continue
		}
		assert.True(t, r.OK(), "%s: %s", s.target, r)
	}
	assert.LessOrEqual(t, maxInWindow(granted, skewCfg.Global.Window), skewCfg.Global.Events,
		"granted at %v: more than the budget in one window", granted)
}

// Reservations out of time order (replicas with clock skew) never exceed
// the global budget: pruning relative to the newest reservation must not
// hide events that an earlier-stamped reservation still has in its
// window. (Issue 13, item 7; the etcd version with two limiters is in
// ratelimit/etcdstore.)
func TestGlobalBudgetHoldsOutOfOrder(t *testing.T) {
	t.Parallel()
	lim, err := ratelimit.New(skewCfg)
	require.NoError(t, err)
	checkSkewSteps(t, func(_ int, at time.Time, req ratelimit.Request) (ratelimit.Reservation, error) {
		return lim.ReserveAt(t.Context(), at, req)
	})
}

// Out-of-order decisions on one bucket: a reservation between two events
// is checked against both (MinInterval both ways, the window around it),
// and one stamped more than MaxSkew before the newest is denied with
// ReasonSkew until MaxSkew before the newest.
func TestReserveOutOfOrder(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  ratelimit.Config
		steps []step
	}{
		{
			name: "min interval holds both ways",
			steps: []step{
				up(10*mins, 1).allowed(15 * mins),
				up(6*mins, 1).denied(ratelimit.ReasonInterval, ratelimit.ScopeTarget, 15*mins), // 4m before the event at 10m
				up(5*mins, 1).allowed(15 * mins),                                               // exactly 300s before it
				up(7*mins, 1).denied(ratelimit.ReasonInterval, ratelimit.ScopeTarget, 15*mins),
			},
		},
		{
			name: "window around an earlier time counts later events",
			give: ratelimit.Config{Up: ratelimit.Budget{Events: 2, MinInterval: -1}, MaxSkew: hr},
			steps: []step{
				up(50*mins, 1).allowed(50 * mins),
				up(55*mins, 1).allowed(hr + 50*mins),
				// At 20m the window (−40m, 20m] is free, but (0, 1h] would
				// hold 20m, 50m and 55m.
				up(20*mins, 1).denied(ratelimit.ReasonWindow, ratelimit.ScopeTarget, hr+50*mins),
			},
		},
		{
			name: "stale beyond max skew",
			give: ratelimit.Config{MaxSkew: 10 * mins},
			steps: []step{
				up(hr, 1).allowed(hr + 5*mins),
				up(49*mins, 1).denied(ratelimit.ReasonSkew, ratelimit.ScopeTarget, 50*mins), // 11m before: too old
				up(50*mins, 1).allowed(55 * mins),                                           // exactly MaxSkew before, and 300s from both its neighbours at 55m
			},
		},
		{
			name: "skew denial names the first checkable time",
			give: ratelimit.Config{MaxSkew: 10 * mins, Up: ratelimit.Budget{MinInterval: mins}},
			steps: []step{
				up(hr, 1).allowed(hr + mins),
				up(10*mins, 1).denied(ratelimit.ReasonSkew, ratelimit.ScopeTarget, 50*mins),
			},
		},
		{
			name: "no skew allowed",
			give: ratelimit.Config{MaxSkew: -1, Up: ratelimit.Budget{MinInterval: -1}},
			steps: []step{
				up(hr, 1).allowed(hr),
				up(hr-time.Nanosecond, 1).denied(ratelimit.ReasonSkew, ratelimit.ScopeTarget, hr),
				up(hr, 1).allowed(hr),
			},
		},
		{
			name: "global skew",
			give: ratelimit.Config{MaxSkew: 10 * mins, Global: ratelimit.Budget{Events: 10, Window: hr}},
			steps: []step{
				up(hr, 1).on("a").allowed(hr + 5*mins),
				up(30*mins, 1).on("b").denied(ratelimit.ReasonSkew, ratelimit.ScopeGlobal, 50*mins),
			},
		},
		{
			name: "a budget that looks at no history has no skew",
			give: ratelimit.Config{MaxSkew: -1, Up: ratelimit.Budget{Events: -1, MinInterval: -1}},
			steps: []step{
				up(hr, 1).allowed(hr),
				up(0, 1).allowed(0),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			lim, err := ratelimit.New(tt.give)
			require.NoError(t, err)
			for i, s := range tt.steps {
				r, err := lim.ReserveAt(t.Context(), t0.Add(s.at), ratelimit.Request{Target: s.target, Direction: s.dir, Units: s.units})
				require.NoError(t, err, "step %d", i)
				assert.Equal(t, s.want, r.Outcome, "step %d outcome: %s", i, r)
				assert.Equal(t, s.reason, r.Reason, "step %d reason: %s", i, r)
				assert.Equal(t, s.scope, r.Scope, "step %d scope: %s", i, r)
				assert.Equal(t, t0.Add(s.next), r.Next, "step %d next: %s", i, r)
			}
		})
	}
}

// A bucket remembers its newest reservation when that one is cancelled:
// the events it pruned stay out of reach of reservations stamped before
// it. Without the Horizon, cancelling the event at +50m emptied the global
// bucket, and reservations at +2m and +3m were granted beside the pruned
// ones at +0 and +1m: four in 30 minutes.
func TestCancelledNewestKeepsHorizon(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := ratelimit.NewMemoryStore()
	lim, err := ratelimit.New(skewCfg, ratelimit.WithStore(store))
	require.NoError(t, err)
	var granted []time.Time
	reserve := func(target string, at time.Duration) ratelimit.Reservation {
		r, err := lim.ReserveAt(ctx, t0.Add(at), ratelimit.Request{Target: target, Direction: ratelimit.Up, Units: 1})
		require.NoError(t, err)
		if r.OK() {
			granted = append(granted, r.At)
		}
		return r
	}
	require.True(t, reserve("a", 0).OK())
	require.True(t, reserve("b", mins).OK())
	late := reserve("c", 50*mins) // prunes the global events at or before +5m (30m window + 15m skew)
	require.True(t, late.OK())
	require.NoError(t, lim.CancelAt(ctx, t0.Add(50*mins), late))
	granted = granted[:2]

	r := reserve("d", 2*mins)
	assert.Equal(t, ratelimit.ReasonSkew, r.Reason, r.String())
	assert.Equal(t, ratelimit.ScopeGlobal, r.Scope, r.String())
	assert.Equal(t, t0.Add(35*mins), r.Next, "MaxSkew before the cancelled newest reservation")
	reserve("e", 3*mins)
	assert.LessOrEqual(t, maxInWindow(granted, skewCfg.Global.Window), skewCfg.Global.Events, "granted at %v", granted)

	// The refunded event counts nowhere: +35m is allowed.
	assert.True(t, reserve("f", 35*mins).OK())
	st, err := lim.StatsAt(ctx, t0.Add(35*mins))
	require.NoError(t, err)
	for _, b := range st.Buckets {
		assert.Equal(t, 1, b.Kept, "%s: only the event at +35m", b.Key)
	}
}

// A history written before Horizon existed (an etcdstore value that is
// a JSON array of events) takes its newest event as the horizon, and
// keeps it when that event is cancelled. An out-of-order reservation
// (+2h10m, before the array's newest event at +2h20m) pruned the events
// at +0 and +55m and left Horizon unset; cancelling +2h20m and +2h10m
// then emptied the bucket, the horizon went back to nothing, and a
// reservation at +30m was granted beside the forgotten +0 and +55m:
// three events in an hour against a budget of two.
func TestCancelledNewestOfAnOldHistoryKeepsHorizon(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: 2, Window: hr, MinInterval: -1}, History: hr}
	store := ratelimit.NewMemoryStore()
	lim, err := ratelimit.New(cfg, ratelimit.WithStore(store))
	require.NoError(t, err)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	var old []ratelimit.Event
	for i, at := range []time.Duration{0, 55 * mins, 2*hr + 20*mins} {
		old = append(old, ratelimit.Event{ID: uint64(i + 1), At: t0.Add(at), Units: 1, Target: req.Target, Direction: req.Direction})
	}
	require.NoError(t, store.Update(ctx, []ratelimit.Key{{Target: req.Target, Direction: req.Direction}},
		func(hs []*ratelimit.History) (bool, error) {
			hs[0].Events = slices.Clone(old) // no Horizon: written before it existed
			return true, nil
		}))
	granted := []time.Time{old[0].At, old[1].At}

	x, err := lim.ReserveAt(ctx, t0.Add(2*hr+10*mins), req) // prunes +0 and +55m (75m before +2h20m)
	require.NoError(t, err)
	require.True(t, x.OK(), x.String())
	newest := ratelimit.Reservation{ID: old[2].ID, Request: req, At: old[2].At, Outcome: ratelimit.Allowed, Granted: 1}
	require.NoError(t, lim.CancelAt(ctx, t0.Add(2*hr+20*mins), newest))
	require.NoError(t, lim.CancelAt(ctx, t0.Add(2*hr+20*mins), x))

	r, err := lim.ReserveAt(ctx, t0.Add(30*mins), req)
	require.NoError(t, err)
	if r.OK() {
		granted = append(granted, r.At)
	}
	assert.Equal(t, ratelimit.ReasonSkew, r.Reason, r.String())
	assert.Equal(t, t0.Add(2*hr+5*mins), r.Next, "MaxSkew before the cancelled newest event: %s", r)
	assert.LessOrEqual(t, maxInWindow(granted, hr), 2, "granted at %v", granted)
}

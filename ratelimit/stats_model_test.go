package ratelimit_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
)

// rvModel is a naive model of any budget, the global one and targets'
// overrides included: its rules are checked against every granted,
// uncancelled event, in any time order.
type rvModel struct {
	cfg     ratelimit.Config
	events  []ratelimit.Event
	horizon map[ratelimit.Key]time.Time
}

func (m *rvModel) rule(k ratelimit.Key) ratelimit.Budget {
	if k.IsGlobal() {
		return m.cfg.Global
	}
	b := m.cfg.Up
	if k.Direction == ratelimit.Down {
		b = m.cfg.Down
	}
	if tb, ok := m.cfg.Targets[k.Target]; ok {
		o := tb.Up
		if k.Direction == ratelimit.Down {
			o = tb.Down
		}
		if o.Events != 0 {
			b.Events = o.Events
		}
		if o.Window != 0 {
			b.Window = o.Window
		}
		if o.MaxUnits != 0 {
			b.MaxUnits = o.MaxUnits
		}
		if o.MinInterval != 0 {
			b.MinInterval = o.MinInterval
		}
	}
	return b
}

func (m *rvModel) in(k ratelimit.Key, e ratelimit.Event) bool {
	return k.IsGlobal() || (e.Target == k.Target && e.Direction == k.Direction)
}

func (m *rvModel) allows(k ratelimit.Key, now time.Time) bool {
	for _, kk := range []ratelimit.Key{k, ratelimit.GlobalKey} {
		b := m.rule(kk)
		if kk.IsGlobal() && b == (ratelimit.Budget{}) {
			continue
		}
		if (b.Events > 0 || b.MinInterval > 0) && now.Before(m.horizon[kk].Add(-m.cfg.MaxSkew)) {
			return false
		}
		if b.MinInterval > 0 {
			for _, e := range m.events {
				if m.in(kk, e) && now.Sub(e.At).Abs() < b.MinInterval {
					return false
				}
			}
		}
		if b.Events > 0 {
			ends := []time.Time{now}
			for _, e := range m.events {
				if m.in(kk, e) && !e.At.Before(now) && e.At.Sub(now) < b.Window {
					ends = append(ends, e.At)
				}
			}
			for _, end := range ends {
				c := 1
				for _, e := range m.events {
					if m.in(kk, e) && e.At.After(end.Add(-b.Window)) && !e.At.After(end) {
						c++
					}
				}
				if c > b.Events {
					return false
				}
			}
		}
	}
	return true
}

// Random sequences of reservations (out of time order, within and beyond
// MaxSkew) and refunds against a global budget with an interval and
// maximum units and a target's override: every decision, the units
// granted and Next match the model, and StatsAt agrees with ReserveAt
// (the buckets' Next are all at or before now exactly when the
// reservation is allowed, and then their windows have room).
func TestRandomSequencesWithGlobalIntervalsAndTargetBudgets(t *testing.T) {
	t.Parallel()
	cfg := ratelimit.Config{
		Up:      ratelimit.Budget{Events: 3, Window: 10 * time.Minute, MaxUnits: 2, MinInterval: time.Minute},
		Down:    ratelimit.Budget{Events: 2, Window: 5 * time.Minute, MaxUnits: 4, MinInterval: 30 * time.Second},
		Targets: map[string]ratelimit.TargetBudgets{"b": {Up: ratelimit.Budget{Events: 1, Window: 7 * time.Minute, MinInterval: -1}}},
		Global:  ratelimit.Budget{Events: 4, Window: 6 * time.Minute, MinInterval: 20 * time.Second, MaxUnits: 3},
		History: time.Hour,
		MaxSkew: 3 * time.Minute,
	}
	targets := []string{"a", "b", "c"}
	for seed := range uint64(300) {
		rng := rand.New(rand.NewPCG(seed, 11))
		lim, err := ratelimit.New(cfg)
		require.NoError(t, err)
		m := rvModel{cfg: cfg, horizon: map[ratelimit.Key]time.Time{}}
		var granted []ratelimit.Reservation
		clock := t0
		for i := range 80 {
			clock = clock.Add(time.Duration(rng.IntN(40)) * 5 * time.Second)
			now := clock.Add(time.Duration(rng.IntN(121)-60) * 2 * time.Second)
			if rng.IntN(8) == 0 && len(granted) > 0 {
				j := rng.IntN(len(granted))
				r := granted[j]
				granted = append(granted[:j], granted[j+1:]...)
				require.NoError(t, lim.CancelAt(t.Context(), now, r))
				for k, e := range m.events {
					if e.ID == r.ID {
						m.events = append(m.events[:k], m.events[k+1:]...)
						break
					}
				}
				continue
			}
			dir := ratelimit.Up
			if rng.IntN(2) == 0 {
				dir = ratelimit.Down
			}
			req := ratelimit.Request{Target: targets[rng.IntN(3)], Direction: dir, Units: 1 + rng.IntN(6)}
			key := ratelimit.Key{Target: req.Target, Direction: dir}
			want := m.allows(key, now)
			st, err := lim.StatsAt(t.Context(), now)
			require.NoError(t, err)
			byStats := true
			for _, b := range st.Buckets {
				if b.Key != key && !b.Key.IsGlobal() {
					continue
				}
				if b.Next.After(now) {
					byStats = false
				} else if b.Remaining == 0 {
					t.Fatalf("seed %d op %d at %v: %s allows one now but has no room: %+v", seed, i, now.Sub(t0), b.Key, b)
				}
			}
			require.Equal(t, want, byStats, "seed %d op %d at %v: StatsAt %+v", seed, i, now.Sub(t0), st.Buckets)
			r, err := lim.ReserveAt(t.Context(), now, req)
			require.NoError(t, err)
			require.Equal(t, want, r.OK(), "seed %d op %d at %v: %s", seed, i, now.Sub(t0), r)
			if r.OK() {
				mu := min(m.rule(key).MaxUnits, cfg.Global.MaxUnits)
				require.Equal(t, min(req.Units, mu), r.Granted, "seed %d op %d: %s", seed, i, r)
				granted = append(granted, r)
				e := ratelimit.Event{ID: r.ID, At: now, Units: r.Granted, Target: req.Target, Direction: dir}
				m.events = append(m.events, e)
				for _, k := range []ratelimit.Key{key, ratelimit.GlobalKey} {
					if now.After(m.horizon[k]) {
						m.horizon[k] = now
					}
				}
			} else {
				require.True(t, m.allows(key, r.Next), "seed %d op %d: model denies at Next: %s", seed, i, r)
				require.False(t, m.allows(key, r.Next.Add(-time.Nanosecond)), "seed %d op %d: model allows before Next: %s", seed, i, r)
			}
		}
	}
}

// StatsAt(now) for a bucket whose newest reservation lies more than MaxSkew
// after now says what ReserveAt(now) does: not before MaxSkew before that
// reservation (Next said now, and ReserveAt was denied with max_skew).
func TestStatsNextHonoursMaxSkew(t *testing.T) {
	t.Parallel()
	lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: 5, Window: 10 * time.Minute, MinInterval: -1}})
	require.NoError(t, err)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	r, err := lim.ReserveAt(t.Context(), t0.Add(20*time.Minute), req) // a replica whose clock runs ahead
	require.NoError(t, err)
	require.True(t, r.OK())

	st, err := lim.StatsAt(t.Context(), t0)
	require.NoError(t, err)
	require.Len(t, st.Buckets, 1)
	b := st.Buckets[0]
	r2, err := lim.ReserveAt(t.Context(), t0, req)
	require.NoError(t, err)
	t.Logf("stats: remaining %d next %v; reserve: %s", b.Remaining, b.Next.Sub(t0), r2)
	require.False(t, r2.OK())
	assert.Equal(t, ratelimit.ReasonSkew, r2.Reason)
	assert.Equal(t, r2.Next, b.Next, "Stats.Next %v, ReserveAt: %s", b.Next.Sub(t0), r2)
	assert.Equal(t, 20*time.Minute-ratelimit.DefaultMaxSkew, b.Next.Sub(t0))
}

// Events after now (out of time order) that fill every window containing
// now leave no room at now: Remaining counts the fullest window an event
// at now would join (it reported the whole budget left, while ReserveAt
// was denied). One event later in the window leaves one.
func TestStatsRemainingCountsLaterEvents(t *testing.T) {
	t.Parallel()
	lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: 2, Window: 10 * time.Minute, MinInterval: -1}})
	require.NoError(t, err)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	for _, d := range []time.Duration{5 * time.Minute, 6 * time.Minute} {
		r, err := lim.ReserveAt(t.Context(), t0.Add(d), req)
		require.NoError(t, err)
		require.True(t, r.OK())
	}
	st, err := lim.StatsAt(t.Context(), t0)
	require.NoError(t, err)
	b := st.Buckets[0]
	r, err := lim.ReserveAt(t.Context(), t0, req)
	require.NoError(t, err)
	t.Logf("stats: in window %d remaining %d next %v; reserve: %s", b.InWindow, b.Remaining, b.Next.Sub(t0), r)
	require.False(t, r.OK())
	require.Zero(t, b.Remaining, "Remaining says %d more events are allowed at At; ReserveAt(At): %s", b.Remaining, r)
	assert.Zero(t, b.InWindow, "the window ending At holds none of them")

	for _, tc := range []struct {
		at   time.Duration
		want int
	}{
		{-5 * time.Minute, 2}, // +5m is a whole window later: (at, at+10m] does not hold at
		{-5*time.Minute + time.Nanosecond, 1},
		{-4 * time.Minute, 1},                 // (at, +6m] does not hold at
		{-4*time.Minute + time.Nanosecond, 0}, // (+6m-10m, +6m] holds at, +5m and +6m
	} {
		st, err = lim.StatsAt(t.Context(), t0.Add(tc.at))
		require.NoError(t, err)
		assert.Equal(t, tc.want, st.Buckets[0].Remaining, "at %v", tc.at)
	}
}

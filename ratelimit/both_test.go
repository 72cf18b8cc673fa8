package ratelimit_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// kept returns the IDs and directions of each bucket's events in s, by
// key.
func kept(t *testing.T, s ratelimit.Store) map[string][]ratelimit.Event {
	t.Helper()
	bs, err := s.Snapshot(t.Context())
	require.NoError(t, err)
	out := map[string][]ratelimit.Event{}
	for _, b := range bs {
		out[b.Key.String()] = b.History.Events
	}
	return out
}

// TestBothIsOneEvent pins a request of Both, a change whose direction is
// not known: a caller had to reserve Up and Down at the same instant, two
// events, the second always denied by the first under a global
// MinInterval (or Events 1), so such a change never went ahead. One
// request of Both is one event: it must fit the target's Up and its Down
// budget (each may deny it, and it is clamped to the smaller MaxUnits),
// both of the target's buckets record it so that a later change either
// way waits for it, the global bucket counts it once, Stats shows it in
// each, and CancelAt refunds it from all three.
func TestBothIsOneEvent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := ratelimit.NewMemoryStore()
	lim, err := ratelimit.New(ratelimit.Config{
		Down:   ratelimit.Budget{Events: 1, Window: time.Hour, MaxUnits: 2},
		Global: ratelimit.Budget{MinInterval: time.Minute},
	}, ratelimit.WithStore(store))
	require.NoError(t, err)
	reserve := func(at time.Duration, target string, d ratelimit.Direction, units int) ratelimit.Reservation {
		t.Helper()
		r, err := lim.ReserveAt(ctx, t0.Add(at), ratelimit.Request{Target: target, Direction: d, Units: units})
		require.NoError(t, err)
		return r
	}

	r := reserve(0, "web", ratelimit.Both, 3)
	require.Equal(t, ratelimit.Clamped, r.Outcome, "%s", r)
	assert.Equal(t, 2, r.Granted, "the smaller of the Up (3) and Down (2) MaxUnits")
	assert.Equal(t, ratelimit.ScopeTarget, r.Scope)
	assert.NotZero(t, r.ID)
	assert.Equal(t, t0.Add(time.Hour), r.Next, "the next event either way: after the Down window")
	assert.Equal(t, "web/both ±3: clamped to 2 (target max_units_per_event); next at 2026-03-02T11:00:00Z", r.String())
	ev := ratelimit.Event{ID: r.ID, At: t0, Units: 2, Target: "web", Direction: ratelimit.Both}
	assert.Equal(t, map[string][]ratelimit.Event{"global": {ev}, "web/up": {ev}, "web/down": {ev}}, kept(t, store),
		"one event in each of the target's buckets and once in the global one")

	st, err := lim.StatsAt(ctx, t0.Add(2*time.Minute))
	require.NoError(t, err)
	require.Len(t, st.Buckets, 3)
	for i, want := range []string{"global", "web/up", "web/down"} {
		b := st.Buckets[i]
		assert.Equal(t, want, b.Key.String())
		assert.Equal(t, 1, b.Kept, want)
		assert.Equal(t, t0, b.Last, want)
	}
	assert.Equal(t, 1, st.Buckets[1].InWindow)
	assert.Equal(t, 2, st.Buckets[1].UnitsInWindow)
	assert.Equal(t, t0.Add(ratelimit.DefaultMinInterval), st.Buckets[1].Next, "web/up waits out its interval")
	assert.Equal(t, 0, st.Buckets[2].Remaining, "web/down's one event an hour is spent")
	assert.Equal(t, t0.Add(time.Hour), st.Buckets[2].Next)

	// Each direction of the target sees the event.
	q := reserve(2*time.Minute, "web", ratelimit.Up, 1)
	assert.Equal(t, []any{ratelimit.Denied, ratelimit.ReasonInterval, ratelimit.ScopeTarget, t0.Add(ratelimit.DefaultMinInterval)},
		[]any{q.Outcome, q.Reason, q.Scope, q.Next}, "%s", q)
	q = reserve(10*time.Minute, "web", ratelimit.Down, 1)
	assert.Equal(t, []any{ratelimit.Denied, ratelimit.ReasonWindow, ratelimit.ScopeTarget, t0.Add(time.Hour)},
		[]any{q.Outcome, q.Reason, q.Scope, q.Next}, "%s", q)
	// The global bucket counts it once: another target waits one
	// interval from it, no more.
	q = reserve(30*time.Second, "db", ratelimit.Up, 1)
	assert.Equal(t, []any{ratelimit.Denied, ratelimit.ReasonInterval, ratelimit.ScopeGlobal, t0.Add(time.Minute)},
		[]any{q.Outcome, q.Reason, q.Scope, q.Next}, "%s", q)

	// Either budget denies it, and a denied Both records nothing.
	require.True(t, reserve(time.Minute, "db", ratelimit.Down, 1).OK())
	q = reserve(20*time.Minute, "db", ratelimit.Both, 1)
	assert.Equal(t, []any{ratelimit.Denied, ratelimit.ReasonWindow, ratelimit.ScopeTarget, t0.Add(time.Minute + time.Hour)},
		[]any{q.Outcome, q.Reason, q.Scope, q.Next}, "%s: db's Down budget is spent", q)
	assert.Zero(t, q.ID)
	assert.NotContains(t, kept(t, store), "db/up", "nothing recorded")

	// A cancel whose Request names another direction refunds nothing;
	// the reservation itself refunds the event from all three buckets.
	wrong := r
	wrong.Request.Direction = ratelimit.Up
	require.NoError(t, lim.CancelAt(ctx, t0.Add(21*time.Minute), wrong))
	assert.Len(t, kept(t, store)["web/up"], 1, "not refunded by an Up request")
	require.NoError(t, lim.CancelAt(ctx, t0.Add(21*time.Minute), r))
	left := kept(t, store)
	assert.NotContains(t, left, "web/up")
	assert.NotContains(t, left, "web/down")
	for _, e := range left["global"] {
		assert.NotEqual(t, r.ID, e.ID, "refunded from the global bucket")
	}
	q = reserve(22*time.Minute, "web", ratelimit.Down, 1)
	assert.True(t, q.OK(), "%s: nothing left of the refunded event", q)
	require.NoError(t, lim.CancelAt(ctx, t0.Add(22*time.Minute), q))
	q = reserve(22*time.Minute, "web", ratelimit.Both, 1)
	assert.True(t, q.OK(), "%s", q)
	assert.Equal(t, ratelimit.Allowed, q.Outcome)
}

// TestBothUnderAGlobalBudgetOfOneEvent: under Global Events 1, a Both
// reservation is granted (it is the one event) and spends the whole
// global window; without a global budget the global bucket stays empty.
func TestBothUnderAGlobalBudgetOfOneEvent(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	store := ratelimit.NewMemoryStore()
	lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 1, Window: time.Hour}}, ratelimit.WithStore(store))
	require.NoError(t, err)
	r, err := lim.ReserveAt(ctx, t0, ratelimit.Request{Target: "vm", Direction: ratelimit.Both, Units: 1})
	require.NoError(t, err)
	require.Equal(t, ratelimit.Allowed, r.Outcome, "%s", r)
	st, err := lim.StatsAt(ctx, t0)
	require.NoError(t, err)
	require.Equal(t, "global", st.Buckets[0].Key.String())
	assert.Equal(t, 1, st.Buckets[0].InWindow, "one global event")
	assert.Equal(t, 0, st.Buckets[0].Remaining)

	store = ratelimit.NewMemoryStore()
	lim, err = ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store))
	require.NoError(t, err)
	r, err = lim.ReserveAt(ctx, t0, ratelimit.Request{Target: "vm", Direction: ratelimit.Both, Units: 1})
	require.NoError(t, err)
	require.True(t, r.OK(), "%s", r)
	got := kept(t, store)
	assert.Len(t, got, 2)
	assert.Contains(t, got, "vm/up")
	assert.Contains(t, got, "vm/down")
}

// TestBothWithPeers: a Both request holds to the strictest of the
// peers' budgets in each of the target's buckets and in the global one
// (a peer's global budget puts it in the global bucket), and is refunded
// from all of them.
func TestBothWithPeers(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	var ps peers
	ps.set(ratelimit.Config{
		Targets: map[string]ratelimit.TargetBudgets{"vm": {Down: ratelimit.Budget{MaxUnits: 1, MinInterval: time.Hour}}},
		Global:  ratelimit.Budget{MinInterval: time.Minute},
	})
	store := ratelimit.NewMemoryStore()
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(store), ratelimit.WithPeers(&ps))
	require.NoError(t, err)
	r, err := lim.ReserveAt(ctx, t0, ratelimit.Request{Target: "vm", Direction: ratelimit.Both, Units: 3})
	require.NoError(t, err)
	assert.Equal(t, []any{ratelimit.Clamped, 1, ratelimit.ScopeTarget, t0.Add(time.Hour)},
		[]any{r.Outcome, r.Granted, r.Scope, r.Next}, "%s: the peer's Down budget", r)
	got := kept(t, store)
	for _, k := range []string{"global", "vm/up", "vm/down"} {
		require.Len(t, got[k], 1, k)
		assert.Equal(t, r.ID, got[k][0].ID, k)
	}
	q, err := lim.ReserveAt(ctx, t0.Add(10*time.Minute), ratelimit.Request{Target: "vm", Direction: ratelimit.Down, Units: 1})
	require.NoError(t, err)
	assert.Equal(t, []any{ratelimit.Denied, ratelimit.ReasonInterval, ratelimit.ScopeTarget},
		[]any{q.Outcome, q.Reason, q.Scope}, "%s: the peer's Down interval", q)
	q, err = lim.ReserveAt(ctx, t0.Add(30*time.Second), ratelimit.Request{Target: "db", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err)
	assert.Equal(t, []any{ratelimit.Denied, ratelimit.ReasonInterval, ratelimit.ScopeGlobal},
		[]any{q.Outcome, q.Reason, q.Scope}, "%s: the peer's global interval", q)
	require.NoError(t, lim.CancelAt(ctx, t0.Add(time.Minute), r))
	assert.Empty(t, kept(t, store), "refunded from every bucket")
}

// TestBothText: Both encodes as "both" in a Request, a Reservation and a
// stored Event, and decodes back; a Key of Both is refused (field
// key.direction), as is an unknown direction in a request (field
// request.direction) and in JSON.
func TestBothText(t *testing.T) {
	t.Parallel()
	require.NoError(t, ratelimit.Both.Validate())
	res := ratelimit.Reservation{ID: 9, Request: ratelimit.Request{Target: "vm", Direction: ratelimit.Both, Units: 1},
		At: t0, Outcome: ratelimit.Allowed, Granted: 1, Next: t0.Add(time.Hour)}
	b, err := json.Marshal(res)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"direction":"both"`)
	var back ratelimit.Reservation
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, res, back)

	h := ratelimit.History{Events: []ratelimit.Event{{ID: 9, At: t0, Units: 1, Target: "vm", Direction: ratelimit.Both}}, Horizon: t0}
	b, err = json.Marshal(&h)
	require.NoError(t, err)
	assert.JSONEq(t, `{"events":[{"id":9,"at":"2026-03-02T10:00:00Z","units":1,"target":"vm","dir":"both"}],"horizon":"2026-03-02T10:00:00Z"}`, string(b))
	var hb ratelimit.History
	require.NoError(t, json.Unmarshal(b, &hb))
	assert.Equal(t, h.Events, hb.Events)
	assert.Equal(t, h.Horizon, hb.Horizon)

	err = json.Unmarshal([]byte(`{"id":9,"at":"2026-03-02T10:00:00Z","units":1,"target":"vm","dir":"sideways"}`), new(ratelimit.Event))
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "direction")
	assert.Contains(t, err.Error(), `"both"`, "the known directions are listed")

	require.NoError(t, ratelimit.Key{Target: "vm", Direction: ratelimit.Up}.Validate())
	require.NoError(t, ratelimit.GlobalKey.Validate())
	err = ratelimit.Key{Target: "vm", Direction: ratelimit.Both}.Validate()
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "key.direction")
	err = ratelimit.Key{Direction: ratelimit.Up}.Validate()
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "key.target")

	lim, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	r, err := lim.ReserveAt(t.Context(), t0, ratelimit.Request{Target: "vm", Direction: "sideways", Units: 1})
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "request.direction")
	assert.Equal(t, ratelimit.ReasonInvalid, r.Reason)
	r, err = lim.ReserveAt(t.Context(), t0, ratelimit.Request{Target: "vm", Direction: ratelimit.Both})
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "request.units")
	assert.False(t, r.OK())
	assert.True(t, lim.ReservesBoth())
}

package ratelimit_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
)

// lostReplyStore applies every update to a MemoryStore (fn decides and the
// histories are written) and then fails, as an etcd transaction does whose
// commit succeeded but whose reply was lost.
type lostReplyStore struct {
	*ratelimit.MemoryStore
	err error
}

func (s lostReplyStore) Update(ctx context.Context, keys []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	if err := s.MemoryStore.Update(ctx, keys, fn); err != nil {
		return err
	}
	return s.err
}

// A store failure after the update was applied still fails closed: the
// decision fn made (a grant, recorded in the store) is not returned with
// the error. The reservation is Denied by ReasonStore, grants nothing and
// has no ID, from ReserveAt, Reserve and Wait alike, with a budget that
// would allow it and with one that clamps it.
func TestStoreFailureAfterTheUpdateFailsClosed(t *testing.T) {
	t.Parallel()
	lost := errors.New("etcd: request timed out, commit status unknown")
	tests := []struct {
		name  string
		cfg   ratelimit.Config
		units int
	}{
		{name: "would be allowed", units: 1},
		{name: "would be clamped", cfg: ratelimit.Config{Up: ratelimit.Budget{MaxUnits: 2}}, units: 5},
		{name: "would be allowed with a global budget", cfg: ratelimit.Config{Global: ratelimit.Budget{Events: 10, Window: time.Hour}}, units: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mem := ratelimit.NewMemoryStore()
			lim, err := ratelimit.New(tt.cfg, ratelimit.WithStore(lostReplyStore{MemoryStore: mem, err: lost}))
			require.NoError(t, err)
			req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: tt.units}

			// The same limiter on the same store without the failure
			// grants it: the update fn sees is one that grants.
			ok, err := ratelimit.New(tt.cfg)
			require.NoError(t, err)
			want, err := ok.ReserveAt(t.Context(), t0, req)
			require.NoError(t, err)
			require.True(t, want.OK(), "without the failure it is granted: %s", want)

			calls := []struct {
				name string
				do   func() (ratelimit.Reservation, error)
			}{
				{"ReserveAt", func() (ratelimit.Reservation, error) { return lim.ReserveAt(t.Context(), t0, req) }},
				{"Reserve", func() (ratelimit.Reservation, error) { return lim.Reserve(t.Context(), req) }},
				{"Wait", func() (ratelimit.Reservation, error) { return lim.Wait(t.Context(), req) }},
			}
			for i, c := range calls {
				if i > 0 {
					// A fresh store, so that the earlier call's recorded
					// event does not deny this one by the interval.
					mem = ratelimit.NewMemoryStore()
					lim, err = ratelimit.New(tt.cfg, ratelimit.WithStore(lostReplyStore{MemoryStore: mem, err: lost}))
					require.NoError(t, err)
				}
				r, err := c.do()
				require.ErrorIs(t, err, ratelimit.ErrStore, c.name)
				require.ErrorIs(t, err, lost, c.name)
				assert.False(t, r.OK(), "%s: %s", c.name, r)
				assert.Equal(t, ratelimit.Denied, r.Outcome, c.name)
				assert.Equal(t, ratelimit.ReasonStore, r.Reason, c.name)
				assert.Zero(t, r.Granted, c.name)
				assert.Zero(t, r.ID, c.name)
				assert.True(t, r.Next.IsZero(), "%s: a store failure promises no time: %s", c.name, r)

				// The event was recorded after all: it counts against
				// the budget (the limiter errs on the side of fewer
				// actions), and cancelling the denied reservation is a
				// no-op that does not touch the store.
				snap, err := mem.Snapshot(t.Context())
				require.NoError(t, err)
				require.NotEmpty(t, snap, c.name)
				require.NoError(t, lim.CancelAt(t.Context(), t0.Add(time.Second), r), c.name)
			}
		})
	}
}

// retryingStore applies every update twice, as a store does that retries a
// transaction whose commit it could not confirm: the second call of fn
// finds the reservation's own event already recorded.
type retryingStore struct{ *ratelimit.MemoryStore }

func (s retryingStore) Update(ctx context.Context, keys []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	if err := s.MemoryStore.Update(ctx, keys, fn); err != nil {
		return err
	}
	return s.MemoryStore.Update(ctx, keys, fn)
}

// A retried update reports the reservation it recorded the first time,
// the same in every field (one event, not two), including which budget
// clamped it: the target's, or the global one when the target allows more
// or has no unit limit.
func TestRetriedUpdateReportsTheSameReservation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		cfg       ratelimit.Config
		units     int
		wantScope ratelimit.Scope
	}{
		{name: "allowed", units: 1, wantScope: ratelimit.ScopeNone},
		{name: "clamped by the target", cfg: ratelimit.Config{Up: ratelimit.Budget{MaxUnits: 2}}, units: 5, wantScope: ratelimit.ScopeTarget},
		{name: "clamped by the global budget", units: 5, wantScope: ratelimit.ScopeGlobal,
			cfg: ratelimit.Config{Global: ratelimit.Budget{MaxUnits: 2}}},
		{name: "clamped by the global budget, target unlimited", units: 5, wantScope: ratelimit.ScopeGlobal,
			cfg: ratelimit.Config{Up: ratelimit.Budget{MaxUnits: -1}, Global: ratelimit.Budget{MaxUnits: 2}}},
		{name: "target and global clamp alike", units: 5, wantScope: ratelimit.ScopeTarget,
			cfg: ratelimit.Config{Up: ratelimit.Budget{MaxUnits: 2}, Global: ratelimit.Budget{MaxUnits: 2}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: tt.units}
			plain, err := ratelimit.New(tt.cfg)
			require.NoError(t, err)
			want, err := plain.ReserveAt(t.Context(), t0, req)
			require.NoError(t, err)
			require.Equal(t, tt.wantScope, want.Scope, "%s", want)

			mem := ratelimit.NewMemoryStore()
			retried, err := ratelimit.New(tt.cfg, ratelimit.WithStore(retryingStore{mem}))
			require.NoError(t, err)
			got, err := retried.ReserveAt(t.Context(), t0, req)
			require.NoError(t, err)
			assert.NotZero(t, got.ID)
			got.ID = want.ID
			assert.Equal(t, want, got)
			snap, err := mem.Snapshot(t.Context())
			require.NoError(t, err)
			for _, b := range snap {
				assert.Len(t, b.History.Events, 1, "one event in %v", b.Key)
			}
		})
	}
}

// decodedStore hands the limiter, on every update, histories it builds
// afresh from what it stored, as a store does that decodes them: Events
// is a new slice exactly as long as its capacity, not one the limiter
// allocated.
type decodedStore struct {
	mu      sync.Mutex
	buckets map[ratelimit.Key]ratelimit.History
}

func (s *decodedStore) Update(_ context.Context, keys []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	hs := make([]*ratelimit.History, len(keys))
	for i, k := range keys {
		b := s.buckets[k]
		hs[i] = &ratelimit.History{Events: slices.Clip(slices.Clone(b.Events)), Horizon: b.Horizon}
	}
	write, err := fn(hs)
	if err != nil || !write {
		return err
	}
	for i, k := range keys {
		s.buckets[k] = ratelimit.History{Events: slices.Clone(hs[i].Events), Horizon: hs[i].Horizon}
	}
	return nil
}

func (s *decodedStore) Snapshot(context.Context) ([]ratelimit.Bucket, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []ratelimit.Bucket
	for k, h := range s.buckets {
		if len(h.Events) > 0 {
			out = append(out, ratelimit.Bucket{Key: k, History: ratelimit.History{Events: slices.Clone(h.Events), Horizon: h.Horizon}})
		}
	}
	return out, nil
}

// A limiter over a store that decodes its histories (Events not allocated
// by the limiter, as long as its capacity) decides every reservation as
// one over the MemoryStore does.
func TestDecodedHistoriesDecideAsMemory(t *testing.T) {
	t.Parallel()
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: 3, Window: time.Hour, MinInterval: time.Minute}}
	plain, err := ratelimit.New(cfg)
	require.NoError(t, err)
	decoded, err := ratelimit.New(cfg, ratelimit.WithStore(&decodedStore{buckets: map[ratelimit.Key]ratelimit.History{}}))
	require.NoError(t, err)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	for i, at := range []time.Duration{0, 30 * time.Second, 2 * time.Minute, time.Minute, 5 * time.Minute, 10 * time.Minute, 70 * time.Minute, 90 * time.Minute} {
		want, err := plain.ReserveAt(t.Context(), t0.Add(at), req)
		require.NoError(t, err)
		got, err := decoded.ReserveAt(t.Context(), t0.Add(at), req)
		require.NoError(t, err, "reservation %d", i)
		got.ID = want.ID
		assert.Equal(t, want, got, "reservation %d at +%s", i, at)
	}
}

// shortStore is a broken Store that calls fn with the histories given,
// whatever keys it was asked for.
type shortStore struct{ hs []*ratelimit.History }

func (s shortStore) Update(_ context.Context, _ []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	_, err := fn(s.hs)
	return err
}

func (shortStore) Snapshot(context.Context) ([]ratelimit.Bucket, error) { return nil, nil }

// A Store that passes fn fewer or more histories than keys, or a nil one,
// fails the reservation closed with an error naming the mismatch: the
// limiter indexed them by key and panicked.
func TestStoreWithTheWrongHistoriesFailsClosed(t *testing.T) {
	t.Parallel()
	cfg := ratelimit.Config{Global: ratelimit.Budget{Events: 10, Window: time.Hour}}
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	for _, hs := range [][]*ratelimit.History{nil, {{}}, {{}, {}, {}}, {nil, {}}, {{}, nil}} {
		lim, err := ratelimit.New(cfg, ratelimit.WithStore(shortStore{hs: hs}))
		require.NoError(t, err)
		var r ratelimit.Reservation
		require.NotPanics(t, func() { r, err = lim.ReserveAt(t.Context(), t0, req) }, "%d histories", len(hs))
		require.ErrorIs(t, err, ratelimit.ErrStore, "%d histories", len(hs))
		require.ErrorIs(t, err, ratelimit.ErrCorrupt, "%d histories", len(hs))
		assert.False(t, r.OK())
		granted := ratelimit.Reservation{ID: 1, Outcome: ratelimit.Allowed, Granted: 1, Request: req, At: t0}
		require.NotPanics(t, func() { err = lim.CancelAt(t.Context(), t0, granted) }, "%d histories", len(hs))
		require.ErrorIs(t, err, ratelimit.ErrStore, "cancel, %d histories", len(hs))
	}
}

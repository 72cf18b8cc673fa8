package ratelimit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// step is one reservation at an offset from t0 and what it must get.
type step struct {
	at      time.Duration
	target  string
	dir     ratelimit.Direction
	units   int
	want    ratelimit.Outcome
	granted int
	reason  ratelimit.Reason
	scope   ratelimit.Scope
	next    time.Duration // offset of Reservation.Next from t0
	cancel  bool          // cancel the reservation once checked
}

func up(at time.Duration, units int) step {
	return step{at: at, target: "web", dir: ratelimit.Up, units: units}
}

func (s step) on(target string) step { s.target = target; return s }
func (s step) down() step            { s.dir = ratelimit.Down; return s }
func (s step) cancelled() step       { s.cancel = true; return s }
func (s step) allowed(next time.Duration) step {
	s.want, s.granted, s.next = ratelimit.Allowed, s.units, next
	return s
}
func (s step) clamped(g int, sc ratelimit.Scope, next time.Duration) step {
	s.want, s.granted, s.reason, s.scope, s.next = ratelimit.Clamped, g, ratelimit.ReasonUnits, sc, next
	return s
}

func (s step) denied(r ratelimit.Reason, sc ratelimit.Scope, next time.Duration) step {
	s.want, s.reason, s.scope, s.next = ratelimit.Denied, r, sc, next
	return s
}

const (
	sec  = time.Second
	mins = time.Minute
	hr   = time.Hour
)

func TestReserveInstants(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  ratelimit.Config
		steps []step
	}{
		{
			name: "default min interval 300s",
			steps: []step{
				up(0, 1).allowed(5 * mins),
				up(5*mins-sec, 1).denied(ratelimit.ReasonInterval, ratelimit.ScopeTarget, 5*mins),
				up(5*mins, 2).allowed(10 * mins),
			},
		},
		{
			name: "default 5 events per hour, sliding",
			steps: []step{
				up(0, 1).allowed(5 * mins),
				up(5*mins, 1).allowed(10 * mins),
				up(10*mins, 1).allowed(15 * mins),
				up(15*mins, 1).allowed(20 * mins),
				up(20*mins, 1).allowed(hr), // window full after this one until the first leaves
				up(25*mins, 1).denied(ratelimit.ReasonWindow, ratelimit.ScopeTarget, hr),
				up(hr-sec, 1).denied(ratelimit.ReasonWindow, ratelimit.ScopeTarget, hr),
				up(hr, 1).allowed(hr + 5*mins),
			},
		},
		{
			name: "default 3 units per event: asked +5, granted +3",
			steps: []step{
				up(0, 5).clamped(3, ratelimit.ScopeTarget, 5*mins),
				up(5*mins, 3).allowed(10 * mins),
			},
		},
		{
			name: "directions are separate budgets",
			steps: []step{
				up(0, 1).allowed(5 * mins),
				up(mins, 1).down().allowed(6 * mins),
				up(2*mins, 1).denied(ratelimit.ReasonInterval, ratelimit.ScopeTarget, 5*mins),
				up(3*mins, 1).down().denied(ratelimit.ReasonInterval, ratelimit.ScopeTarget, 6*mins),
			},
		},
		{
			name: "targets are separate budgets",
			steps: []step{
				up(0, 1).allowed(5 * mins),
				up(0, 1).on("db").allowed(5 * mins),
			},
		},
		{
			name: "per direction rule",
			give: ratelimit.Config{Down: ratelimit.Budget{Events: 1, Window: 2 * hr, MinInterval: -1, MaxUnits: 1}},
			steps: []step{
				up(0, 2).down().clamped(1, ratelimit.ScopeTarget, 2*hr),
				up(hr, 1).down().denied(ratelimit.ReasonWindow, ratelimit.ScopeTarget, 2*hr),
				up(hr, 2).allowed(hr + 5*mins), // up keeps the defaults
				up(2*hr, 1).down().allowed(4 * hr),
			},
		},
		{
			name: "per target rule inherits unset fields",
			give: ratelimit.Config{
				Up:      ratelimit.Budget{MinInterval: 10 * mins},
				Targets: map[string]ratelimit.TargetBudgets{"db": {Up: ratelimit.Budget{Events: 2}}},
			},
			steps: []step{
				up(0, 1).on("db").allowed(10 * mins),
				up(10*mins, 1).on("db").allowed(hr), // 2 per hour for db
				up(20*mins, 1).on("db").denied(ratelimit.ReasonWindow, ratelimit.ScopeTarget, hr),
				up(20*mins, 4).clamped(3, ratelimit.ScopeTarget, 30*mins), // web: 5/h, 10 mins
			},
		},
		{
			name: "global events across targets",
			give: ratelimit.Config{Global: ratelimit.Budget{Events: 2, Window: hr}},
			steps: []step{
				up(0, 1).on("a").allowed(5 * mins),
				up(mins, 1).on("b").down().allowed(hr),
				up(2*mins, 1).on("c").denied(ratelimit.ReasonWindow, ratelimit.ScopeGlobal, hr),
				up(hr, 1).on("c").allowed(hr + 5*mins),
			},
		},
		{
			name: "global interval and max units",
			give: ratelimit.Config{Global: ratelimit.Budget{MinInterval: mins, MaxUnits: 2}},
			steps: []step{
				up(0, 3).on("a").clamped(2, ratelimit.ScopeGlobal, 5*mins),
				up(30*sec, 1).on("b").denied(ratelimit.ReasonInterval, ratelimit.ScopeGlobal, mins),
				up(mins, 1).on("b").allowed(6 * mins),
			},
		},
		{
			name: "the later of two denials decides Next",
			give: ratelimit.Config{Global: ratelimit.Budget{MinInterval: 20 * mins}},
			steps: []step{
				up(0, 1).allowed(20 * mins),
				up(mins, 1).denied(ratelimit.ReasonInterval, ratelimit.ScopeGlobal, 20*mins),
			},
		},
		{
			name: "unlimited rule",
			give: ratelimit.Config{Up: ratelimit.Budget{Events: -1, MaxUnits: -1, MinInterval: -1}},
			steps: []step{
				up(0, 100).allowed(0),
				up(0, 100).allowed(0),
				up(0, 100).allowed(0),
			},
		},
		{
			name: "cancel refunds interval and window",
			give: ratelimit.Config{Up: ratelimit.Budget{Events: 1}},
			steps: []step{
				up(0, 1).allowed(hr).cancelled(),
				up(mins, 1).allowed(hr + mins),
				up(6*mins, 1).denied(ratelimit.ReasonWindow, ratelimit.ScopeTarget, hr+mins),
			},
		},
		{
			name: "history shorter than a day",
			give: ratelimit.Config{History: 2 * hr},
			steps: []step{
				up(0, 1).allowed(5 * mins),
				up(3*hr, 1).allowed(3*hr + 5*mins),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := bclock.NewMock()
			clk.Set(t0)
			lim, err := ratelimit.New(tt.give, ratelimit.WithClock(clk))
			require.NoError(t, err)
			ctx := t.Context()
			for i, s := range tt.steps {
				clk.Set(t0.Add(s.at))
				req := ratelimit.Request{Target: s.target, Direction: s.dir, Units: s.units}
				r, err := lim.Reserve(ctx, req)
				require.NoError(t, err, "step %d", i)
				assert.Equal(t, s.want, r.Outcome, "step %d outcome: %s", i, r)
				assert.Equal(t, s.granted, r.Granted, "step %d granted", i)
				assert.Equal(t, s.reason, r.Reason, "step %d reason: %s", i, r)
				assert.Equal(t, s.scope, r.Scope, "step %d scope: %s", i, r)
				assert.Equal(t, t0.Add(s.next), r.Next, "step %d next: %s", i, r)
				assert.Equal(t, t0.Add(s.at), r.At, "step %d at", i)
				assert.Equal(t, req, r.Request, "step %d request", i)
				assert.Equal(t, r.OK(), r.ID != 0, "step %d id", i)
				if s.cancel {
					require.NoError(t, lim.Cancel(ctx, r), "step %d cancel", i)
				}
			}
		})
	}
}

func TestCancel(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	lim, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 2}
	r, err := lim.ReserveAt(ctx, t0, req)
	require.NoError(t, err)
	require.True(t, r.OK())

	require.NoError(t, lim.CancelAt(ctx, t0, r))
	st, err := lim.StatsAt(ctx, t0)
	require.NoError(t, err)
	assert.Empty(t, st.Buckets, "a refunded event leaves nothing behind")

	// A second cancel and a cancel of a denied reservation do nothing.
	require.NoError(t, lim.CancelAt(ctx, t0, r))
	r2, err := lim.ReserveAt(ctx, t0, req)
	require.NoError(t, err)
	require.True(t, r2.OK(), "the refunded budget is available again: %s", r2)
	denied, err := lim.ReserveAt(ctx, t0.Add(time.Second), req)
	require.NoError(t, err)
	require.False(t, denied.OK())
	require.NoError(t, lim.CancelAt(ctx, t0, denied))
	st, err = lim.StatsAt(ctx, t0.Add(time.Second))
	require.NoError(t, err)
	require.Len(t, st.Buckets, 1)
	assert.Equal(t, 1, st.Buckets[0].InWindow, "cancelling a denial must not refund the granted event")

	// Cancelling a stale copy with a mangled request is refused.
	bad := r2
	bad.Request.Units = 0
	require.ErrorIs(t, lim.CancelAt(ctx, t0, bad), provider.ErrInvalid)
}

func TestStats(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 10, Window: hr}})
	require.NoError(t, err)
	for i, req := range []ratelimit.Request{
		{Target: "web", Direction: ratelimit.Up, Units: 5},
		{Target: "db", Direction: ratelimit.Down, Units: 1},
		{Target: "web", Direction: ratelimit.Up, Units: 1},
	} {
		_, err := lim.ReserveAt(ctx, t0.Add(time.Duration(i)*10*mins), req)
		require.NoError(t, err)
	}
	now := t0.Add(25 * mins)
	st, err := lim.StatsAt(ctx, now)
	require.NoError(t, err)
	assert.Equal(t, now, st.At)
	require.Len(t, st.Buckets, 3)

	g := st.Buckets[0]
	assert.True(t, g.Key.IsGlobal())
	assert.Equal(t, 3, g.InWindow)
	assert.Equal(t, 7, g.Remaining)
	assert.Equal(t, 5, g.UnitsInWindow)
	assert.Equal(t, now, g.Next)
	assert.Equal(t, ratelimit.Budget{Events: 10, Window: hr, MaxUnits: -1, MinInterval: -1}, g.Budget)

	db := st.Buckets[1]
	assert.Equal(t, ratelimit.Key{Target: "db", Direction: ratelimit.Down}, db.Key)
	assert.Equal(t, 1, db.InWindow)
	assert.Equal(t, 4, db.Remaining)
	assert.Equal(t, t0.Add(10*mins), db.Last)
	assert.Equal(t, now, db.Next, "db's interval ended at 15 min")

	web := st.Buckets[2]
	assert.Equal(t, "web/up", web.Key.String())
	assert.Equal(t, 2, web.InWindow)
	assert.Equal(t, 4, web.UnitsInWindow, "3 (clamped) + 1")
	assert.Equal(t, 3, web.Remaining)
	assert.Equal(t, t0.Add(25*mins), web.Next, "the interval of the 20 min event ends at 25 min")
	assert.Equal(t, ratelimit.Budget{Events: 5, Window: hr, MaxUnits: 3, MinInterval: 5 * mins}, web.Budget)

	// After the history, the buckets are empty of events.
	st, err = lim.StatsAt(ctx, t0.Add(25*hr))
	require.NoError(t, err)
	for _, b := range st.Buckets {
		assert.Zero(t, b.Kept, b.Key.String())
		assert.Equal(t, b.Budget.Events, b.Remaining, "%s: the whole budget is back", b.Key)
		assert.Equal(t, t0.Add(25*hr), b.Next, b.Key.String())
	}
}

func TestInvalidConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  ratelimit.Config
		field string
	}{
		{"negative window", ratelimit.Config{Up: ratelimit.Budget{Window: -time.Second}}, "up.window"},
		{"negative down window", ratelimit.Config{Down: ratelimit.Budget{Window: -time.Second}}, "down.window"},
		{"global events without window", ratelimit.Config{Global: ratelimit.Budget{Events: 3}}, "global.window"},
		{"negative history", ratelimit.Config{History: -time.Hour}, "history"},
		{"history shorter than window", ratelimit.Config{History: 30 * time.Minute}, "history"},
		{"history shorter than interval", ratelimit.Config{History: 2 * hr, Global: ratelimit.Budget{MinInterval: 3 * hr}}, "history"},
		{"max skew beyond history", ratelimit.Config{History: 2 * hr, MaxSkew: 2*hr + 1}, "max_skew"},
		{"max skew beyond default history", ratelimit.Config{MaxSkew: 25 * hr}, "max_skew"},
		{"empty target", ratelimit.Config{Targets: map[string]ratelimit.TargetBudgets{"": {}}}, `targets[""]`},
		{"target rule", ratelimit.Config{Targets: map[string]ratelimit.TargetBudgets{"web": {Down: ratelimit.Budget{Window: -1}}}}, `targets["web"].down.window`},
		{"target control char", ratelimit.Config{Targets: map[string]ratelimit.TargetBudgets{"a\nb": {}}}, `targets["a\nb"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ratelimit.New(tt.give)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

func TestInvalidRequest(t *testing.T) {
	t.Parallel()
	lim, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	r, err := lim.ReserveAt(t.Context(), t0, ratelimit.Request{Target: "wéb-群集", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err, "non-ASCII names are fine")
	require.True(t, r.OK())
	long := string(bytes.Repeat([]byte("x"), provider.MaxIDLength+1))
	tests := []struct {
		name  string
		now   time.Time
		give  ratelimit.Request
		field string
	}{
		{"zero now", time.Time{}, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}, "now"},
		{"now too late", time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC), ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}, "now"},
		{"empty target", t0, ratelimit.Request{Direction: ratelimit.Up, Units: 1}, "request.target"},
		{"long target", t0, ratelimit.Request{Target: long, Direction: ratelimit.Up, Units: 1}, "request.target"},
		{"bad utf8", t0, ratelimit.Request{Target: "\xff", Direction: ratelimit.Up, Units: 1}, "request.target"},
		{"C1 control", t0, ratelimit.Request{Target: "a\u0085b", Direction: ratelimit.Up, Units: 1}, "request.target"},
		{"no direction", t0, ratelimit.Request{Target: "web", Units: 1}, "request.direction"},
		{"unknown direction", t0, ratelimit.Request{Target: "web", Direction: "sideways", Units: 1}, "request.direction"},
		{"zero units", t0, ratelimit.Request{Target: "web", Direction: ratelimit.Up}, "request.units"},
		{"negative units", t0, ratelimit.Request{Target: "web", Direction: ratelimit.Down, Units: -2}, "request.units"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := lim.ReserveAt(t.Context(), tt.now, tt.give)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			assert.Equal(t, ratelimit.Denied, r.Outcome)
			assert.Equal(t, ratelimit.ReasonInvalid, r.Reason)
			assert.False(t, r.OK())
		})
	}
}

// failingStore fails every call with err.
type failingStore struct{ err error }

func (s failingStore) Update(context.Context, []ratelimit.Key, func([]*ratelimit.History) (bool, error)) error {
	return s.err
}

func (s failingStore) Snapshot(context.Context) ([]ratelimit.Bucket, error) { return nil, s.err }

func TestStoreFailureFailsClosed(t *testing.T) {
	t.Parallel()
	boom := errors.New("disk on fire")
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name  string
		store ratelimit.Store
		ctx   context.Context
		cause error
	}{
		{"store error", failingStore{err: boom}, context.Background(), boom},
		{"store deadline", failingStore{err: context.DeadlineExceeded}, context.Background(), context.DeadlineExceeded},
		{"memory store, context done", ratelimit.NewMemoryStore(), canceled, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(tt.store),
				ratelimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
			require.NoError(t, err)
			r, err := lim.ReserveAt(tt.ctx, t0, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
			require.ErrorIs(t, err, ratelimit.ErrStore)
			require.ErrorIs(t, err, tt.cause)
			var se *ratelimit.StoreError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, "reserve", se.Op)
			assert.Equal(t, ratelimit.Denied, r.Outcome)
			assert.Equal(t, ratelimit.ReasonStore, r.Reason)
			assert.Zero(t, r.Granted)
			assert.Zero(t, r.ID)
			assert.Contains(t, logs.String(), "store failed")

			granted := ratelimit.Reservation{ID: 1, Outcome: ratelimit.Allowed, Granted: 1,
				Request: ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}}
			require.ErrorIs(t, lim.CancelAt(tt.ctx, t0, granted), tt.cause)
			_, err = lim.StatsAt(tt.ctx, t0)
			require.ErrorIs(t, err, ratelimit.ErrStore)
		})
	}
}

// skippingStore breaks the Store contract every other call: it reports
// success without calling fn.
type skippingStore struct {
	*ratelimit.MemoryStore
	calls int
}

func (s *skippingStore) Update(ctx context.Context, keys []ratelimit.Key, fn func([]*ratelimit.History) (bool, error)) error {
	s.calls++
	if s.calls%2 == 0 {
		return nil
	}
	return s.MemoryStore.Update(ctx, keys, fn)
}

// A store that returns without deciding grants nothing: the limiter does
// not return a decision left over from an earlier reservation.
func TestStoreThatSkipsTheDecisionGrantsNothing(t *testing.T) {
	t.Parallel()
	lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: -1, MinInterval: -1}},
		ratelimit.WithStore(&skippingStore{MemoryStore: ratelimit.NewMemoryStore()}))
	require.NoError(t, err)
	for i := range 10 {
		r, err := lim.ReserveAt(t.Context(), t0.Add(time.Duration(i)*time.Second), ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
		require.NoError(t, err)
		assert.Equal(t, i%2 == 0, r.OK(), "reservation %d: %s", i, r)
		if !r.OK() {
			assert.Equal(t, ratelimit.Denied, r.Outcome)
			assert.Zero(t, r.ID)
		}
	}
}

func TestWait(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		lim, err := ratelimit.New(ratelimit.Config{})
		require.NoError(t, err)
		req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
		first, err := lim.Wait(ctx, req)
		require.NoError(t, err)
		require.True(t, first.OK())

		second, err := lim.Wait(ctx, req)
		require.NoError(t, err)
		require.True(t, second.OK())
		assert.Equal(t, ratelimit.DefaultMinInterval, second.At.Sub(first.At), "Wait returns when the interval has passed")

		// A deadline before the next allowed time fails at once.
		dctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		start := time.Now()
		r, err := lim.Wait(dctx, req)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.False(t, r.OK())
		assert.Equal(t, ratelimit.ReasonInterval, r.Reason)
		assert.Zero(t, time.Since(start), "no waiting when the deadline cannot be met")

		// Cancelling the context ends the wait.
		cctx, ccancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { _, err := lim.Wait(cctx, req); done <- err }()
		synctest.Wait()
		ccancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

func TestWaitOnMockClock(t *testing.T) {
	t.Parallel()
	clk := bclock.NewMock()
	clk.Set(t0)
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithClock(clk))
	require.NoError(t, err)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Down, Units: 1}
	_, err = lim.Wait(t.Context(), req)
	require.NoError(t, err)
	type result struct {
		r   ratelimit.Reservation
		err error
	}
	done := make(chan result, 1)
	go func() { r, err := lim.Wait(t.Context(), req); done <- result{r, err} }()
	// Advance the mock clock until the waiter wakes (it may not have
	// registered its timer yet on the first rounds).
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case got := <-done:
			require.NoError(t, got.err)
			assert.True(t, got.r.OK())
			assert.Equal(t, t0.Add(ratelimit.DefaultMinInterval), got.r.At)
			return
		case <-tick.C:
			if clk.Now().Before(t0.Add(ratelimit.DefaultMinInterval)) {
				clk.Add(time.Minute)
			}
		}
	}
}

func TestWaitReturnsStoreErrors(t *testing.T) {
	t.Parallel()
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithStore(failingStore{err: errors.New("down")}))
	require.NoError(t, err)
	_, err = lim.Wait(t.Context(), ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
	require.ErrorIs(t, err, ratelimit.ErrStore)
}

func TestConcurrentLimitersShareOneMemoryStore(t *testing.T) {
	t.Parallel()
	store := ratelimit.NewMemoryStore()
	cfg := ratelimit.Config{Up: ratelimit.Budget{Events: 7, MinInterval: -1}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	tried, granted := 0, 0
	for g := range 8 {
		lim, err := ratelimit.New(cfg, ratelimit.WithStore(store))
		require.NoError(t, err)
		wg.Go(func() {
			for i := range 50 {
				r, err := lim.ReserveAt(t.Context(), t0.Add(time.Duration(g*50+i)*time.Millisecond),
					ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
				if !assert.NoError(t, err) { //nolint:testifylint // require cannot stop a test from another goroutine
					return
				}
				mu.Lock()
				tried++
				if r.OK() {
					granted++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	t.Logf("memory store: %d reservations tried, %d granted (budget 7)", tried, granted)
	assert.Equal(t, 400, tried)
	assert.Equal(t, 7, granted)
}

func TestReservationString(t *testing.T) {
	t.Parallel()
	r := ratelimit.Reservation{
		Request: ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 5},
		Outcome: ratelimit.Clamped, Granted: 3, Reason: ratelimit.ReasonUnits, Scope: ratelimit.ScopeTarget,
		Next: t0,
	}
	assert.Equal(t, "web/up +5: clamped to 3 (target max_units_per_event); next at 2026-03-02T10:00:00Z", r.String())
	r = ratelimit.Reservation{Request: ratelimit.Request{Target: "db", Direction: ratelimit.Down, Units: 2},
		Reason: ratelimit.ReasonStore}
	assert.Equal(t, "db/down -2: denied (store_failed)", r.String())
	var d ratelimit.Direction
	require.NoError(t, d.UnmarshalText([]byte("down")))
	assert.Equal(t, ratelimit.Down, d)
	require.ErrorIs(t, d.UnmarshalText([]byte("sideways")), provider.ErrInvalid)
	assert.Empty(t, ratelimit.GlobalKey.Direction.String())
	assert.Equal(t, "allowed", fmt.Sprint(ratelimit.Allowed))
}

// A Wait whose ctx has ended grants nothing, even when its wait is over
// at the same moment (select picks at random among ready cases: the
// reservation after the wait must see the ended ctx, as the store's
// Update does).
func TestWaitEndedContextReservesNothing(t *testing.T) {
	t.Parallel()
	for i := range 100 {
		clk := stepclock.New(t0)
		lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithClock(clk))
		require.NoError(t, err)
		req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
		_, err = lim.Wait(t.Context(), req)
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		r, err := lim.Wait(ctx, req)
		require.ErrorIs(t, err, context.Canceled, "attempt %d", i)
		assert.False(t, r.OK(), "attempt %d", i)
	}
}

// Wait compares how long it would wait on the Limiter's clock with how
// long ctx has left, not the deadline (a real time) with the next allowed
// time on that clock: with a clock a year ahead of the real one, every
// deadline came before the next allowed time and Wait failed at once
// though it had an hour for a wait of 5 minutes; with one a year behind,
// no deadline ever did and Wait waited past its deadline.
func TestWaitComparesTheDeadlineWithTheWait(t *testing.T) {
	t.Parallel()
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	for _, tt := range []struct {
		name   string
		offset time.Duration // of the Limiter's clock from the real one
		left   time.Duration // ctx's time left
		ok     bool
	}{
		{"clock ahead, time enough", 365 * 24 * time.Hour, time.Hour, true},
		{"clock behind, time enough", -365 * 24 * time.Hour, time.Hour, true},
		{"clock ahead, too little time", 365 * 24 * time.Hour, time.Minute, false},
		{"clock behind, too little time", -365 * 24 * time.Hour, time.Minute, false},
	} {
		clk := stepclock.New(time.Now().Add(tt.offset))
		lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithClock(clk))
		require.NoError(t, err)
		_, err = lim.Wait(t.Context(), req)
		require.NoError(t, err, tt.name)
		ctx, cancel := context.WithTimeout(t.Context(), tt.left)
		r, err := lim.Wait(ctx, req)
		cancel()
		if tt.ok {
			require.NoError(t, err, tt.name)
			assert.True(t, r.OK(), tt.name)
			continue
		}
		require.ErrorIs(t, err, context.DeadlineExceeded, tt.name)
		assert.False(t, r.OK(), tt.name)
	}
}

// A ctx with exactly the wait left is not refused at once: Wait refuses
// only when less time is left than the wait, as documented. In a synctest
// bubble the real time stands still, so ctx's time left is exact. (A
// comparison mutated to ≤ lived.)
func TestWaitWithExactlyTheWaitLeftWaits(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		clk := stepclock.New(t0)
		lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithClock(clk))
		require.NoError(t, err)
		req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
		_, err = lim.Wait(t.Context(), req)
		require.NoError(t, err)
		denied, err := lim.ReserveAt(t.Context(), clk.Now(), req)
		require.NoError(t, err)
		require.False(t, denied.OK())
		wait := denied.Next.Sub(clk.Now())
		require.Positive(t, wait)

		ctx, cancel := context.WithTimeout(t.Context(), wait)
		defer cancel()
		r, err := lim.Wait(ctx, req)
		require.NoError(t, err, "%s left for a wait of %s", wait, wait)
		assert.True(t, r.OK())
	})
}

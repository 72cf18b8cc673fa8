package ratelimit_test

import (
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/ratelimit"
)

// peers is a Peers whose Configs a test sets.
type peers struct {
	mu      sync.Mutex
	cfgs    []ratelimit.Config
	version uint64
}

func (p *peers) set(cfgs ...ratelimit.Config) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cfgs, p.version = cfgs, p.version+1
}

func (p *peers) PeerConfigs() ([]ratelimit.Config, uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cfgs, p.version
}

// TestPeersStrictest: a limiter given the Configs of replicas that run
// stricter budgets on its store decides by the strictest of each rule
// (their events per window, their units, their global budget), since
// each replica enforcing its own on the shared history made the fleet's
// limit the loosest one's; a looser peer changes nothing; when the peers
// change (a replica leaves), the limiter follows; an invalid peer Config
// is logged and left out.
func TestPeersStrictest(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	down := func(target string, units int) ratelimit.Request {
		return ratelimit.Request{Target: target, Direction: ratelimit.Down, Units: units}
	}
	var ps peers
	var logs syncbuf.Buffer
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithPeers(&ps), ratelimit.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, err)
	ctx := t.Context()
	reserve := func(at time.Time, req ratelimit.Request) ratelimit.Reservation {
		t.Helper()
		r, err := lim.ReserveAt(ctx, at, req)
		require.NoError(t, err)
		return r
	}

	ps.set(ratelimit.Config{Down: ratelimit.Budget{Events: 100}}) // looser: the limiter's own rules hold
	r := reserve(t0, down("web", 5))
	assert.Equal(t, ratelimit.Clamped, r.Outcome)
	assert.Equal(t, ratelimit.DefaultMaxUnits, r.Granted)

	ps.set(ratelimit.Config{Down: ratelimit.Budget{Events: 2, MaxUnits: 1, MinInterval: -1}})
	r = reserve(t0.Add(10*time.Minute), down("web", 5))
	assert.Equal(t, ratelimit.Clamped, r.Outcome, "the peer's 1 unit an event")
	assert.Equal(t, 1, r.Granted)
	r = reserve(t0.Add(20*time.Minute), down("web", 1))
	assert.Equal(t, ratelimit.Denied, r.Outcome, "the peer's 2 events an hour; the limiter's own 5 allowed it")
	assert.Equal(t, ratelimit.ReasonWindow, r.Reason)
	assert.Equal(t, t0.Add(time.Hour), r.Next)

	ps.set() // the peer left
	r = reserve(t0.Add(20*time.Minute), down("web", 1))
	assert.Equal(t, ratelimit.Allowed, r.Outcome)

	// A peer's global budget counts every target's events, also when the
	// limiter's own Config sets none.
	ps.set(ratelimit.Config{Global: ratelimit.Budget{Events: 1, Window: time.Hour}})
	t1 := t0.Add(3 * time.Hour)
	r = reserve(t1, down("a", 1))
	assert.Equal(t, ratelimit.Allowed, r.Outcome)
	r = reserve(t1.Add(10*time.Minute), down("b", 1))
	assert.Equal(t, ratelimit.Denied, r.Outcome)
	assert.Equal(t, ratelimit.ScopeGlobal, r.Scope)

	ps.set(ratelimit.Config{Up: ratelimit.Budget{Window: -time.Second}}) // invalid: left out
	r = reserve(t1.Add(20*time.Minute), down("b", 1))
	assert.Equal(t, ratelimit.Allowed, r.Outcome)
	assert.Contains(t, logs.String(), "a peer's config is invalid")
}

// TestNilPeers: a nil PeersFunc is no peers, not a panic.
func TestNilPeers(t *testing.T) {
	t.Parallel()
	var f ratelimit.PeersFunc
	lim, err := ratelimit.New(ratelimit.Config{}, ratelimit.WithPeers(f))
	require.NoError(t, err)
	r, err := lim.ReserveAt(t.Context(), time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC), ratelimit.Request{Target: "a", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err)
	assert.True(t, r.OK())
}

// TestPeersSmallestMaxUnits: an event's units are clamped to the
// smallest MaxUnits among the limiter's and its peers', where a budget
// without a unit limit limits nothing (it does not lift another's).
func TestPeersSmallestMaxUnits(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name      string
		own, peer int // Down.MaxUnits; −1: no limit
		granted   int
	}{
		{"the peer has no limit", 3, -1, 3},
		{"the limiter has no limit", -1, 2, 2},
		{"the peer's is smaller", 5, 3, 3},
		{"the limiter's is smaller", 3, 5, 3},
		{"the same", 4, 4, 4},
		{"neither has a limit", -1, -1, 9},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var ps peers
			ps.set(ratelimit.Config{Down: ratelimit.Budget{MaxUnits: tc.peer}})
			lim, err := ratelimit.New(ratelimit.Config{Down: ratelimit.Budget{MaxUnits: tc.own}}, ratelimit.WithPeers(&ps))
			require.NoError(t, err)
			r, err := lim.ReserveAt(t.Context(), t0, ratelimit.Request{Target: "web", Direction: ratelimit.Down, Units: 9})
			require.NoError(t, err)
			require.True(t, r.OK(), "%v", r)
			assert.Equal(t, tc.granted, r.Granted, "%v", r)
		})
	}
}

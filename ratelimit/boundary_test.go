package ratelimit_test

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// The configuration's limits are inclusive: a value exactly at its bound
// is valid, one past it is refused naming the field.
func TestConfigBoundaries(t *testing.T) {
	t.Parallel()
	h := 2 * time.Hour
	tests := []struct {
		name  string
		cfg   ratelimit.Config
		field string // "" when valid
	}{
		{name: "events 2^31-1", cfg: ratelimit.Config{Up: ratelimit.Budget{Events: math.MaxInt32}}},
		{name: "events 2^31", cfg: ratelimit.Config{Up: ratelimit.Budget{Events: math.MaxInt32 + 1}}, field: "up.events"},
		{name: "max skew = history", cfg: ratelimit.Config{History: h, MaxSkew: h}},
		{name: "max skew > history", cfg: ratelimit.Config{History: h, MaxSkew: h + time.Nanosecond}, field: "max_skew"},
		{name: "max skew = default history", cfg: ratelimit.Config{MaxSkew: ratelimit.DefaultHistory}},
		{name: "max skew > default history", cfg: ratelimit.Config{MaxSkew: ratelimit.DefaultHistory + time.Nanosecond}, field: "max_skew"},
		{name: "window = history", cfg: ratelimit.Config{History: h, Up: ratelimit.Budget{Window: h}}},
		{name: "window > history", cfg: ratelimit.Config{History: h, Up: ratelimit.Budget{Window: h + time.Nanosecond}}, field: "history"},
		{name: "interval = history", cfg: ratelimit.Config{History: h, Down: ratelimit.Budget{MinInterval: h}}},
		{name: "interval > history", cfg: ratelimit.Config{History: h, Down: ratelimit.Budget{MinInterval: h + time.Nanosecond}}, field: "history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ratelimit.New(tt.cfg)
			if tt.field == "" {
				require.NoError(t, err)
				require.NoError(t, tt.cfg.Validate())
				return
			}
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

// Targets may not hold C1 control characters (U+0080 to U+009F); the
// no-break space U+00A0 just above them is fine, as is U+007E below DEL.
func TestTargetC1Controls(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"web\u0080", "web\u009f", "web\x7f", "web\x1f"} {
		err := ratelimit.ValidateTarget("target", bad)
		require.ErrorIs(t, err, provider.ErrInvalid, "%q", bad)
		assert.Contains(t, err.Error(), "control characters", "%q", bad)
	}
	for _, good := range []string{"web\u00a0eu", "web~", "wéb"} {
		require.NoError(t, ratelimit.ValidateTarget("target", good), "%q", good)
	}
}

// Out of time order, MinInterval refuses only times strictly closer than
// the interval to an event, before or after it: a reservation exactly one
// interval before a later event is allowed, one closer is denied until
// that event's interval has passed on the other side of the earlier one.
func TestOutOfOrderIntervalBoundaries(t *testing.T) {
	t.Parallel()
	const iv = 5 * time.Minute
	lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: -1, MaxUnits: -1, MinInterval: iv}})
	require.NoError(t, err)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	for _, m := range []int{0, 10, 20, 30} {
		r, err := lim.ReserveAt(t.Context(), at(m), req)
		require.NoError(t, err)
		require.True(t, r.OK(), "T+%dm: %s", m, r)
	}
	tests := []struct {
		at       time.Time
		ok       bool
		wantNext time.Time
	}{
		{at: at(24), wantNext: at(25)}, // 4m after T+20m: refused until 25, which is exactly 5m before T+30m
		{at: at(26), wantNext: at(35)}, // 4m before T+30m: refused until 5m after it
		{at: at(25), ok: true},         // exactly 5m from both
	}
	for _, tt := range tests {
		r, err := lim.ReserveAt(t.Context(), tt.at, req)
		require.NoError(t, err)
		if tt.ok {
			assert.True(t, r.OK(), "%s: %s", tt.at, r)
			continue
		}
		assert.False(t, r.OK(), "%s: %s", tt.at, r)
		assert.Equal(t, ratelimit.ReasonInterval, r.Reason)
		assert.True(t, tt.wantNext.Equal(r.Next), "%s: next %s, want %s", tt.at, r.Next, tt.wantNext)
	}
}

// Stats counts what the history keeps: both events of the last hour, the
// remaining events of the window, and -1 remaining for an unlimited count.
func TestStatsKeptAndRemaining(t *testing.T) {
	t.Parallel()
	for _, events := range []int{0, -1} {
		lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{Events: events}})
		require.NoError(t, err)
		req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 2}
		for _, m := range []time.Duration{0, 10 * time.Minute} {
			r, err := lim.ReserveAt(t.Context(), t0.Add(m), req)
			require.NoError(t, err)
			require.True(t, r.OK())
		}
		st, err := lim.StatsAt(t.Context(), t0.Add(10*time.Minute))
		require.NoError(t, err)
		require.Len(t, st.Buckets, 1)
		b := st.Buckets[0]
		assert.Equal(t, 2, b.Kept, "events %d", events)
		assert.Equal(t, 2, b.InWindow, "events %d", events)
		assert.Equal(t, 4, b.UnitsInWindow, "events %d", events)
		if events == 0 {
			assert.Equal(t, ratelimit.DefaultEvents-2, b.Remaining)
		} else {
			assert.Equal(t, -1, b.Remaining, "unlimited")
		}
	}
}

// TestValidateTargetEdges pins a target name's character classes and
// length at their edges: a space (0x20) and "~" (0x7e) are allowed, 0x1f
// and DEL (0x7f) are not; a lone 0x80 byte is not UTF-8 and a C1 control
// (U+0080) is refused, "é" (U+00E9) is allowed; provider.MaxIDLength bytes
// are allowed, one more is not.
func TestValidateTargetEdges(t *testing.T) {
	t.Parallel()
	for _, ok := range []string{"a b", "a~", "café", strings.Repeat("x", provider.MaxIDLength)} {
		require.NoError(t, ratelimit.ValidateTarget("target", ok), "%q", ok)
	}
	for _, bad := range []string{"a\x1f", "a\x7f", "a\x80", "a\u0080", "", strings.Repeat("x", provider.MaxIDLength+1)} {
		require.ErrorIs(t, ratelimit.ValidateTarget("target", bad), provider.ErrInvalid, "%q", bad)
	}
}

// Cancel refunds only the event of the reservation's own target and
// direction. A reservation whose Request was changed to another direction
// or target (a reused value) found its event in the global bucket by ID
// and removed it there alone: the event still counted for its target, the
// global budget did not count it, and a second target went over the
// global budget of one event per hour.
func TestCancelOfAChangedRequestRefundsNothing(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	lim, err := ratelimit.New(ratelimit.Config{Global: ratelimit.Budget{Events: 1, Window: time.Hour}})
	require.NoError(t, err)
	r, err := lim.ReserveAt(ctx, t0, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err)
	require.True(t, r.OK())
	for _, change := range []func(*ratelimit.Request){
		func(q *ratelimit.Request) { q.Direction = ratelimit.Down },
		func(q *ratelimit.Request) { q.Target = "api" },
	} {
		other := r
		change(&other.Request)
		require.NoError(t, lim.CancelAt(ctx, t0, other))
	}
	next, err := lim.ReserveAt(ctx, t0.Add(time.Minute), ratelimit.Request{Target: "db", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err)
	assert.False(t, next.OK(), "the global budget is spent: %s", next)
	assert.Equal(t, ratelimit.ScopeGlobal, next.Scope)

	require.NoError(t, lim.CancelAt(ctx, t0, r), "the reservation itself")
	next, err = lim.ReserveAt(ctx, t0.Add(time.Minute), ratelimit.Request{Target: "db", Direction: ratelimit.Up, Units: 1})
	require.NoError(t, err)
	assert.True(t, next.OK(), "refunded: %s", next)
}

// UnitsInWindow saturates at the largest int: with MaxUnits unlimited,
// two events of math.MaxInt units summed to -2.
func TestStatsUnitsInWindowSaturates(t *testing.T) {
	t.Parallel()
	lim, err := ratelimit.New(ratelimit.Config{Up: ratelimit.Budget{MaxUnits: -1, MinInterval: -1}})
	require.NoError(t, err)
	req := ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: math.MaxInt}
	for _, m := range []time.Duration{0, time.Minute} {
		r, err := lim.ReserveAt(t.Context(), t0.Add(m), req)
		require.NoError(t, err)
		require.Equal(t, ratelimit.Allowed, r.Outcome)
		require.Equal(t, math.MaxInt, r.Granted)
	}
	st, err := lim.StatsAt(t.Context(), t0.Add(time.Minute))
	require.NoError(t, err)
	require.Len(t, st.Buckets, 1)
	assert.Equal(t, 2, st.Buckets[0].InWindow)
	assert.Equal(t, math.MaxInt, st.Buckets[0].UnitsInWindow)
}

// Stats lists the buckets with events in the history: a target whose
// events are all older than Config.History (a resource the reaper
// stopped yesterday, kept by a MemoryStore until its bucket is next
// written, or by etcd until its lease ends) is not listed. It was, with
// nothing kept, and the metrics collector exported a gauge for every
// target ever limited.
func TestStatsListsOnlyBucketsWithEventsInTheHistory(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	lim, err := ratelimit.New(ratelimit.Config{})
	require.NoError(t, err)
	for _, s := range []struct {
		target string
		at     time.Duration
	}{{"old", 0}, {"web", 23 * time.Hour}} {
		r, err := lim.ReserveAt(ctx, t0.Add(s.at), ratelimit.Request{Target: s.target, Direction: ratelimit.Down, Units: 1})
		require.NoError(t, err)
		require.True(t, r.OK(), r.String())
	}
	st, err := lim.StatsAt(ctx, t0.Add(ratelimit.DefaultHistory))
	require.NoError(t, err)
	require.Len(t, st.Buckets, 1, "%+v", st.Buckets)
	assert.Equal(t, "web/down", st.Buckets[0].Key.String())
	assert.Equal(t, 1, st.Buckets[0].Kept)

	st, err = lim.StatsAt(ctx, t0.Add(ratelimit.DefaultHistory-1))
	require.NoError(t, err)
	assert.Len(t, st.Buckets, 2, "the event at +0 is in the history until +24h")
}

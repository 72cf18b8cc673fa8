package ratelimit_test

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// propCfg is small enough for random sequences to hit every rule,
// including MaxSkew: decodeOps stamps reservations up to ±4m16s around an
// advancing clock.
var propCfg = ratelimit.Config{
	Up:      ratelimit.Budget{Events: 3, Window: 10 * time.Minute, MaxUnits: 2, MinInterval: time.Minute},
	Down:    ratelimit.Budget{Events: 2, Window: 5 * time.Minute, MaxUnits: 4, MinInterval: 30 * time.Second},
	Global:  ratelimit.Budget{Events: 5, Window: 10 * time.Minute},
	History: time.Hour,
	MaxSkew: 3 * time.Minute,
}

var propTargets = []string{"a", "b", "c"}

// model is an independent, naive statement of the rules that holds for
// reservations in any time order: the granted events that were not
// cancelled, and per bucket the newest time a reservation was granted at.
// It never forgets an event, so a limiter that pruned one it still needed
// disagrees with it.
type model struct {
	events  []ratelimit.Event
	horizon map[ratelimit.Key]time.Time
}

func (m *model) grant(e ratelimit.Event) {
	m.events = append(m.events, e)
	if m.horizon == nil {
		m.horizon = map[ratelimit.Key]time.Time{}
	}
	for _, k := range []ratelimit.Key{{Target: e.Target, Direction: e.Direction}, ratelimit.GlobalKey} {
		if e.At.After(m.horizon[k]) {
			m.horizon[k] = e.At
		}
	}
}

// fits reports whether one more event at now keeps every window of length
// w that contains now at n events or fewer, counting the events keep
// selects. The fullest such window ends at now or at a later event within
// w of it.
func (m *model) fits(now time.Time, w time.Duration, n int, keep func(ratelimit.Event) bool) bool {
	ends := []time.Time{now}
	for _, e := range m.events {
		if keep(e) && !e.At.Before(now) && e.At.Sub(now) < w {
			ends = append(ends, e.At)
		}
	}
	for _, end := range ends {
		count := 1 // the event at now
		for _, e := range m.events {
			if keep(e) && e.At.After(end.Add(-w)) && !e.At.After(end) {
				count++
			}
		}
		if count > n {
			return false
		}
	}
	return true
}

// allows reports whether the model allows an event of target and dir at now.
func (m *model) allows(target string, dir ratelimit.Direction, now time.Time) bool {
	rule := propCfg.Up
	if dir == ratelimit.Down {
		rule = propCfg.Down
	}
	key := ratelimit.Key{Target: target, Direction: dir}
	for _, k := range []ratelimit.Key{key, ratelimit.GlobalKey} {
		if now.Before(m.horizon[k].Add(-propCfg.MaxSkew)) {
			return false // stamped too far before the bucket's newest reservation
		}
	}
	same := func(e ratelimit.Event) bool { return e.Target == target && e.Direction == dir }
	all := func(ratelimit.Event) bool { return true }
	for _, e := range m.events {
		if same(e) && now.Sub(e.At).Abs() < rule.MinInterval {
			return false
		}
	}
	return m.fits(now, rule.Window, rule.Events, same) && m.fits(now, propCfg.Global.Window, propCfg.Global.Events, all)
}

// propOp is one random operation decoded from four bytes.
type propOp struct {
	dt     time.Duration // how far the clock advances before the op
	skew   time.Duration // how far the op's time is from the clock
	target string
	dir    ratelimit.Direction
	units  int
	cancel bool
}

// decodeOps decodes four bytes per op: the clock's advance (b0 × 5s), the
// target and direction (b1), the units and whether to cancel instead
// (b2), and the op's time relative to the clock (int8(b3) × 2s, so that
// reservations come out of time order by up to 8m32s, beyond MaxSkew).
func decodeOps(data []byte) []propOp {
	var ops []propOp
	for len(data) >= 4 {
		b0, b1, b2, b3 := data[0], data[1], data[2], data[3]
		data = data[4:]
		o := propOp{
			dt:     time.Duration(b0) * 5 * time.Second,
			skew:   time.Duration(int8(b3)) * 2 * time.Second,
			target: propTargets[int(b1)%len(propTargets)],
			dir:    ratelimit.Up,
			units:  int(b2%7) + 1,
			cancel: b2 >= 0xf0,
		}
		if b1&0x80 != 0 {
			o.dir = ratelimit.Down
		}
		ops = append(ops, o)
	}
	return ops
}

// checkSequence runs ops through a limiter and checks, after each, the
// invariants and the naive model.
func checkSequence(t *testing.T, ops []propOp) {
	t.Helper()
	ctx := t.Context()
	lim, err := ratelimit.New(propCfg)
	require.NoError(t, err)
	var m model
	var granted []ratelimit.Reservation
	clock := t0
	for i, o := range ops {
		clock = clock.Add(o.dt)
		now := clock.Add(o.skew)
		if o.cancel && len(granted) > 0 {
			r := granted[len(granted)-1]
			granted = granted[:len(granted)-1]
			require.NoError(t, lim.CancelAt(ctx, now, r))
			for j, e := range m.events {
				if e.ID == r.ID {
					m.events = append(m.events[:j], m.events[j+1:]...)
					break
				}
			}
			continue
		}
		req := ratelimit.Request{Target: o.target, Direction: o.dir, Units: o.units}
		want := m.allows(o.target, o.dir, now)
		r, err := lim.ReserveAt(ctx, now, req)
		require.NoError(t, err)
		require.Equal(t, want, r.OK(), "op %d at %+v: %s", i, now.Sub(t0), r)
		maxUnits := propCfg.Up.MaxUnits
		if o.dir == ratelimit.Down {
			maxUnits = propCfg.Down.MaxUnits
		}
		if r.OK() {
			require.LessOrEqual(t, r.Granted, maxUnits, "granted above the per-event cap")
			require.Equal(t, min(o.units, maxUnits), r.Granted)
			require.True(t, r.Next.After(now), "a granted event pushes Next past now")
			granted = append(granted, r)
			m.grant(ratelimit.Event{ID: r.ID, At: now, Units: r.Granted, Target: o.target, Direction: o.dir})
		} else {
			require.Zero(t, r.Granted)
			require.True(t, r.Next.After(now), "a denial names a later time: %s", r)
			// Next is exact: the model allows at Next and not just before.
			require.True(t, m.allows(o.target, o.dir, r.Next), "model denies at Next: %s", r)
			require.False(t, m.allows(o.target, o.dir, r.Next.Add(-time.Nanosecond)), "model allows before Next: %s", r)
		}
		st, err := lim.StatsAt(ctx, now)
		require.NoError(t, err)
		for _, b := range st.Buckets {
			require.GreaterOrEqual(t, b.Remaining, 0, "remaining budget of %s", b.Key)
			require.LessOrEqual(t, b.InWindow, b.Budget.Events, "events in window of %s", b.Key)
		}
	}
	// No two events of a bucket closer than its interval, and never more
	// than the budget in any window: check every pair and every window
	// ending at an event.
	for i, a := range m.events {
		rule := propCfg.Up
		if a.Direction == ratelimit.Down {
			rule = propCfg.Down
		}
		inWindow, global := 0, 0
		for j, b := range m.events {
			if i == j {
				continue
			}
			same := a.Target == b.Target && a.Direction == b.Direction
			if same {
				gap := a.At.Sub(b.At).Abs()
				require.GreaterOrEqual(t, gap, rule.MinInterval, "events %d and %d of %s/%s", i, j, a.Target, a.Direction)
			}
			if !b.At.After(a.At) && b.At.After(a.At.Add(-rule.Window)) && same {
				inWindow++
			}
			if !b.At.After(a.At) && b.At.After(a.At.Add(-propCfg.Global.Window)) {
				global++
			}
		}
		require.Less(t, inWindow, rule.Events, "window ending at event %d", i)
		require.Less(t, global, propCfg.Global.Events, "global window ending at event %d", i)
	}
}

func TestPropertyRandomSequences(t *testing.T) {
	t.Parallel()
	for seed := range uint64(200) {
		rng := rand.New(rand.NewPCG(seed, 7))
		data := make([]byte, 4*(20+rng.IntN(100)))
		for i := range data {
			data[i] = byte(rng.Uint32())
		}
		// Make short gaps likely so that the rules bite, and keep half of
		// the sequences within MaxSkew so that skew denials do not hide
		// the other rules.
		narrow := seed%2 == 0
		for i := 0; i < len(data); i += 4 {
			data[i] %= 1 + byte(rng.IntN(40))
			if narrow {
				data[i+3] = byte(int8(data[i+3]) / 2)
			}
		}
		checkSequence(t, decodeOps(data))
		if t.Failed() {
			t.Fatalf("seed %d", seed)
		}
	}
}

func FuzzLimiter(f *testing.F) {
	// In time order.
	f.Add([]byte{0, 0, 1, 0, 0, 0, 5, 0, 12, 0, 1, 0, 0, 1, 0xf1, 0, 0, 0, 2, 0})
	f.Add([]byte{1, 0x80, 3, 0, 1, 0x81, 3, 0, 6, 0x82, 6, 0, 6, 0x80, 0xff, 0, 60, 0x80, 1, 0})
	f.Add([]byte{12, 0, 1, 0, 12, 1, 1, 0, 12, 2, 1, 0, 12, 0, 1, 0, 12, 1, 1, 0, 12, 2, 1, 0, 12, 0, 1, 0})
	// Out of time order: stamps 150 s behind (0xb5 = -75 × 2s) and ahead
	// (0x4b), and beyond MaxSkew (0x80 = -256 s).
	f.Add([]byte{0, 0, 1, 0xb5, 2, 1, 1, 0, 2, 2, 1, 0x4b, 1, 0, 1, 0xb5, 1, 1, 1, 0xb5, 1, 2, 1, 0xb5})
	f.Add([]byte{6, 0, 1, 0x4b, 6, 1, 1, 0x4b, 0, 2, 1, 0xb5, 0, 0, 1, 0x80, 0, 1, 0xf0, 0, 0, 2, 1, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 600 {
			data = data[:600]
		}
		checkSequence(t, decodeOps(data))
	})
}

// FuzzConfig feeds arbitrary rules to New: it either refuses them with a
// *provider.InvalidError or returns a limiter whose decisions respect them
// and never panic.
func FuzzConfig(f *testing.F) {
	f.Add(5, int64(time.Hour), 3, int64(5*time.Minute), int64(24*time.Hour), 2, int64(time.Minute), 7)
	f.Add(-1, int64(0), -1, int64(-1), int64(0), 100, int64(0), 0)
	f.Add(1, int64(-time.Second), 0, int64(0), int64(-1), 0, int64(-time.Hour), -3)
	f.Add(2, int64(time.Minute), 1, int64(time.Hour), int64(30*time.Minute), 1, int64(time.Second), 2)
	f.Fuzz(func(t *testing.T, events int, window int64, maxUnits int, interval, history int64, units int, dt int64, globalEvents int) {
		cfg := ratelimit.Config{
			Up:      ratelimit.Budget{Events: events, Window: time.Duration(window), MaxUnits: maxUnits, MinInterval: time.Duration(interval)},
			Global:  ratelimit.Budget{Events: globalEvents, Window: time.Duration(window)},
			History: time.Duration(history),
		}
		lim, err := ratelimit.New(cfg)
		if err != nil {
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			require.NotEmpty(t, ie.Field)
			return
		}
		now := t0
		for range 3 {
			r, err := lim.ReserveAt(t.Context(), now, ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: units})
			if units <= 0 {
				require.ErrorIs(t, err, provider.ErrInvalid)
				require.False(t, r.OK())
				return
			}
			require.NoError(t, err)
			if r.OK() {
				require.Positive(t, r.Granted)
				require.LessOrEqual(t, r.Granted, units)
				if maxUnits > 0 {
					require.LessOrEqual(t, r.Granted, maxUnits)
				}
			} else {
				require.True(t, r.Next.After(now), "a denial names a later time: %s", r)
			}
			if dt > 0 {
				now = now.Add(time.Duration(dt))
			}
		}
		st, err := lim.StatsAt(t.Context(), now)
		require.NoError(t, err)
		for _, b := range st.Buckets {
			require.GreaterOrEqual(t, b.Remaining, -1)
			if b.Budget.Events > 0 {
				require.GreaterOrEqual(t, b.Remaining, 0)
			}
		}
	})
}

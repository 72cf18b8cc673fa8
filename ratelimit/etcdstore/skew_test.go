package etcdstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/ratelimit/etcdstore"
)

// Two replicas whose clocks are 150 s apart share a global budget of 3
// events per 30 minutes on etcd. Replica B (on time) reserves at +0 and
// +60 s; A (150 s ahead) reserves at +1740 s real time, +1890 s on its
// clock; then B at +1750 s and +1760 s. Before the limiter kept events for
// MaxSkew beyond the window, A's reservation pruned B's first two events
// from the shared history and B's last two were granted too: four events
// in 30 minutes. (Issue 13, item 7; TestGlobalBudgetHoldsOutOfOrder is the
// same on the memory store.)
func TestReplicasWithClockSkewKeepTheGlobalBudget(t *testing.T) {
	t.Parallel()
	cfg := ratelimit.Config{Global: ratelimit.Budget{Events: 3, Window: 30 * time.Minute}}
	pfx := prefix(t)
	replica := func(ahead time.Duration) (*ratelimit.Limiter, *clock.Mock) {
		clk := clock.NewMock()
		lim, err := ratelimit.New(cfg, ratelimit.WithClock(clk),
			ratelimit.WithStore(newStore(t, newClient(t), etcdstore.Config{Prefix: pfx})))
		require.NoError(t, err)
		return lim, clk
	}
	a, aClock := replica(150 * time.Second)
	b, bClock := replica(0)
	steps := []struct {
		lim    *ratelimit.Limiter
		target string
		real   time.Duration
		want   bool
	}{
		{b, "a", 0, true},
		{b, "b", 60 * time.Second, true},
		{a, "c", 1740 * time.Second, true},
		{b, "d", 1750 * time.Second, true}, // the third in (−50 s, +1750 s]
		{b, "e", 1760 * time.Second, false},
	}
	var granted []time.Time
	for _, s := range steps {
		aClock.Set(t0.Add(s.real + 150*time.Second))
		bClock.Set(t0.Add(s.real))
		r, err := s.lim.Reserve(t.Context(), up(s.target, 1))
		require.NoError(t, err)
		assert.Equal(t, s.want, r.OK(), "%s: %s", s.target, r)
		if r.OK() {
			granted = append(granted, r.At)
		}
		if !s.want {
			assert.Equal(t, ratelimit.ReasonWindow, r.Reason, r.String())
			assert.Equal(t, ratelimit.ScopeGlobal, r.Scope, r.String())
			assert.Equal(t, t0.Add(30*time.Minute), r.Next, "when the event at +0 leaves the window: %s", r)
		}
	}
	slices.SortFunc(granted, time.Time.Compare)
	for i := 0; i+3 < len(granted); i++ {
		assert.GreaterOrEqual(t, granted[i+3].Sub(granted[i]), 30*time.Minute,
			"four events within 30 minutes: %v", granted[i:i+4])
	}
}

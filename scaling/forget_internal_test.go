package scaling

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// historyLen is the number of targets e keeps a History of.
func historyLen(e *Engine) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.history)
}

// groupsCloud is a memory cloud of the groups ids, and a policy of
// them with a threshold strategy each.
func groupsCloud(t *testing.T, ids ...string) (*memory.Cloud, func(ids ...string) Config) {
	t.Helper()
	c, err := memory.New(memory.Config{})
	require.NoError(t, err)
	for _, id := range ids {
		require.NoError(t, c.AddGroup(provider.Resource{ID: id, Kind: provider.KindGroup}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}))
	}
	return c, func(ids ...string) Config {
		var cfg Config
		for _, id := range ids {
			cfg.Targets = append(cfg.Targets, TargetConfig{ID: id, Strategies: []StrategySpec{{Type: StrategyThreshold}}})
		}
		return cfg
	}
}

// TestCloseForgetsTheTargetsThatLeft: a host that replaces its policy
// (a new Autoscaler on the engine, the old one closed) keeps the History
// of the targets both policies have and none of those that left, so
// that the engine's map of histories shrinks with the policy; the last
// Autoscaler closed leaves it empty.
func TestCloseForgetsTheTargetsThatLeft(t *testing.T) {
	t.Parallel()
	ids := make([]string, 100)
	for i := range ids {
		ids[i] = fmt.Sprintf("preview-%03d", i)
	}
	c, policy := groupsCloud(t, ids...)
	e, err := NewEngine(EngineConfig{}, Cloud{Scaler: c, Metrics: c}, nopGate{})
	require.NoError(t, err)
	fleet := Fleet{Inventory: c, Metrics: c}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

	old, err := NewAutoscaler(policy(ids...), e, fleet)
	require.NoError(t, err)
	require.NoError(t, old.Evaluate(t.Context(), now).Err())
	require.Equal(t, 100, historyLen(e))
	kept := e.History(ids[0])
	require.NotEmpty(t, kept.Recommendations)

	// The policy reloaded with the first ten: made first, then the old
	// one closed.
	next, err := NewAutoscaler(policy(ids[:10]...), e, fleet)
	require.NoError(t, err)
	old.Close()
	assert.Equal(t, 10, historyLen(e), "the 90 targets that left are forgotten")
	assert.Equal(t, kept, e.History(ids[0]), "a target that stayed keeps its History")
	assert.Empty(t, e.History(ids[50]).Recommendations)
	assert.Same(t, next.targets[0].history, e.history[ids[0]], "the new Autoscaler writes the engine's cell")

	rep := old.Evaluate(t.Context(), now.Add(time.Minute))
	require.Len(t, rep.Targets, 100)
	for _, tr := range rep.Targets {
		require.ErrorIs(t, tr.Err, ErrClosed, tr.Target)
	}
	require.ErrorIs(t, old.Run(t.Context()), ErrClosed)
	assert.Equal(t, 10, historyLen(e), "a closed Autoscaler records nothing")

	require.ErrorIs(t, e.Forget(ids[0]), ErrTargetInUse, "the new policy has it")
	next.Close()
	next.Close()
	assert.Zero(t, historyLen(e))
	require.NoError(t, e.Forget(ids[0]), "nothing to forget")
}

// TestForgetNeverSplitsALiveHistory races an Autoscaler evaluating its
// target with changes recorded for it, Forget (refused), and other
// Autoscalers of the target made and closed (a policy reloaded over and
// over): the Autoscaler's cell stays the engine's, and every change
// recorded is in it.
func TestForgetNeverSplitsALiveHistory(t *testing.T) {
	t.Parallel()
	c, policy := groupsCloud(t, "web", "api")
	e, err := NewEngine(EngineConfig{}, Cloud{Scaler: c, Metrics: c}, nopGate{})
	require.NoError(t, err)
	fleet := Fleet{Inventory: c, Metrics: c}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	a, err := NewAutoscaler(policy("web"), e, fleet)
	require.NoError(t, err)

	const n = 200
	var wg sync.WaitGroup
	wg.Go(func() {
		for range n {
			assert.NoError(t, a.Evaluate(t.Context(), now).Err())
		}
	})
	wg.Go(func() {
		for i := range n {
			e.RecordChange("web", Change{At: now, Strategy: "host", Step: i + 1,
				From: provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}, To: provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}})
		}
	})
	wg.Go(func() {
		for range n {
			assert.ErrorIs(t, e.Forget("web"), ErrTargetInUse)
		}
	})
	wg.Go(func() {
		for range n / 4 {
			b, err := NewAutoscaler(policy("web", "api"), e, fleet)
			if !assert.NoError(t, err) {
				return
			}
			assert.NoError(t, b.Evaluate(t.Context(), now).Err())
			b.Close()
		}
	})
	wg.Wait()

	e.mu.Lock()
	live := e.history["web"]
	_, api := e.history["api"]
	e.mu.Unlock()
	assert.Same(t, live, a.targets[0].history, "one History of web")
	assert.False(t, api, "api left with the last policy that had it")
	assert.Len(t, e.History("web").Changes, n, "every change recorded")
	a.Close()
	assert.Zero(t, historyLen(e))
}

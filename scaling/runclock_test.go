package scaling_test

import (
	"context"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// An Autoscaler given no clock of its own runs on the engine's: a host
// that gives the engine a mock clock (WithEngineClock) decides at the
// mock's time, as the engine records the changes. It ran on the real
// clock, so decisions and recorded changes were on two clocks, and Run
// waited for its interval in real time.
func TestAutoscalerRunsOnTheEnginesClock(t *testing.T) {
	t.Parallel()
	c := newCloud(t, 2, memory.Config{})
	mock := bclock.NewMock()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	mock.Set(at)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithEngineClock(mock))
	require.NoError(t, err)
	seen := make(chan time.Time, 16)
	cfg := scaling.Config{Targets: []scaling.TargetConfig{{ID: "web", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyCustom, Name: "spy"}}}}}
	a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c}, scaling.WithStrategy("spy", scaling.StrategyFunc(
		func(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
			seen <- st.Now
			return scaling.Recommendation{Capacity: st.Target.Capacity.CapacitySpec, Fitness: 1}, nil
		})))
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case now := <-seen:
		assert.True(t, now.Equal(at), "decided at %s, the engine's clock says %s", now, at)
	case <-time.After(time.Minute): // a safety net: the first pass runs at once
		t.Fatal("no decision")
	}
	cancel()
	require.NoError(t, <-done)
}

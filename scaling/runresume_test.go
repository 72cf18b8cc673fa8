package scaling_test

import (
	"context"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestRunJournalFailureFailsClosed: as TestRunOnceResumeFailures, for
// Run: a target whose journal cannot be read is not decided (a plan of
// it may be half done), pass after pass, and the failure is logged; the
// other targets are decided.
func TestRunJournalFailureFailsClosed(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		cfg := scaling.Config{Execute: true}
		for _, id := range []string{"web", "api"} {
			require.NoError(t, c.AddGroup(provider.Resource{ID: id}, provider.CapacitySpec{Min: 1, Max: 20, Desired: 2}))
			setCPU(t, c, id, 0.9)
			cfg.Targets = append(cfg.Targets, scaling.TargetConfig{ID: id, Max: 20,
				Strategies: []scaling.StrategySpec{{Type: scaling.StrategyTargetValue, TargetValue: &scaling.TargetValueConfig{Metric: provider.MetricCPU, Target: fp(0.6)}}}})
		}
		rec := &recorder{}
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Nanosecond}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{},
			scaling.WithJournal(brokenJournal{MemoryJournal: scaling.NewMemoryJournal(), target: "web"}), scaling.WithObserver(rec))
		require.NoError(t, err)
		var logs syncbuf.Buffer
		a, err := scaling.NewAutoscaler(cfg, e, scaling.Fleet{Inventory: c, Metrics: c}, scaling.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		<-clock.Real{}.After(time.Minute)
		cancel()
		require.NoError(t, <-done)
		decided := map[string]int{}
		rec.mu.Lock()
		for _, ev := range rec.events {
			if ev.Kind == scaling.EventDecision {
				decided[ev.Target]++
			}
		}
		rec.mu.Unlock()
		assert.Zero(t, decided["web"], "not decided while its journal cannot be read")
		assert.Positive(t, decided["api"])
		assert.Contains(t, logs.String(), "journal store unreachable")
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		assert.Equal(t, 2, capa.Desired, "web is not scaled")
	})
}

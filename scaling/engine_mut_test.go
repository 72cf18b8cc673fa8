package scaling_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// TestEngineDefaults pins the engine's defaults and the bounds of its
// configuration.
func TestEngineDefaults(t *testing.T) {
	t.Parallel()
	c := emptyCloud(t)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c}, allowAll{})
	require.NoError(t, err)
	got := e.Config()
	assert.Equal(t, scaling.EngineConfig{
		Requester: "autoscaler", MaxStepFraction: 0.5, MinStep: 1,
		VerifyTimeout: 10 * time.Minute, VerifyWindow: 2 * time.Minute, PollInterval: 15 * time.Second,
		RetryDeadline: 2 * time.Minute, RetryBackoff: time.Second, SettleEstimate: 2 * time.Minute,
		HistoryRetention: 2 * time.Hour, WriteTimeout: 30 * time.Minute, NoDataAfter: 5 * time.Minute,
	}, got)
	assert.Equal(t, 30*time.Second, scaling.DefaultMaxRetryBackoff)
	set, err := scaling.NewEngine(scaling.EngineConfig{MinStep: 3, HistoryRetention: time.Hour}, scaling.Cloud{Scaler: c}, allowAll{})
	require.NoError(t, err)
	assert.Equal(t, 3, set.Config().MinStep, "a MinStep set is kept")
	assert.Equal(t, time.Hour, set.Config().HistoryRetention, "1h is the least retention")
	for name, cfg := range map[string]scaling.EngineConfig{
		"history_retention": {HistoryRetention: time.Hour - time.Nanosecond},
		"max_step_fraction": {MaxStepFraction: -0.1},
		"min_step":          {MinStep: -1},
	} {
		_, err := scaling.NewEngine(cfg, scaling.Cloud{Scaler: c}, allowAll{})
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, name)
		assert.Equal(t, name, inv.Field)
	}
}

// TestDecideSkipsWhatFails pins Decide over a strategy that fails and one
// whose recommendation is invalid (a fitness above 1): both are reported
// in Considered as failed and left out of the History, and the valid one
// is chosen.
func TestDecideSkipsWhatFails(t *testing.T) {
	t.Parallel()
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: emptyCloud(t)}, allowAll{})
	require.NoError(t, err)
	g := group(3, 1, 10)
	broken := scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{}, errors.New("no data source")
	})
	overfit := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: 9, Reason: "sure", Fitness: 1.5}, nil
	})
	fine := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		c := s.Target.Capacity.CapacitySpec
		c.Desired = 4
		return scaling.Recommendation{Capacity: c, Proposal: 4, Reason: "fine", Fitness: 0.2}, nil
	})
	d, err := e.Decide(t.Context(), stateWith(g), []scaling.Candidate{{Name: "broken", Strategy: broken}, {Name: "overfit", Strategy: overfit}, {Name: "fine", Strategy: fine}}, "")
	require.NoError(t, err)
	assert.Equal(t, "fine", d.Chosen.Strategy)
	assert.Equal(t, 4, d.Chosen.Capacity.Desired)
	require.Len(t, d.Considered, 3)
	assert.Equal(t, "failed: no data source", d.Considered[0].Reason)
	assert.Contains(t, d.Considered[1].Reason, "failed: ")
	assert.Contains(t, d.Considered[1].Reason, "fitness")
	h := e.History("web")
	require.Len(t, h.Recommendations, 1, "only the strategy that recommended is recorded")
	assert.Equal(t, "fine", h.Recommendations[0].Strategy)
	assert.Equal(t, 4, h.Recommendations[0].Proposal)
}

// TestForecastFallbackWithoutError pins the event of a predictive
// recommendation that falls back without saying its rolling error: its
// Value is −1 (unknown), not 0 (a perfect forecast).
func TestForecastFallbackWithoutError(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: emptyCloud(t)}, allowAll{}, scaling.WithObserver(rec))
	require.NoError(t, err)
	pred := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired, Reason: "short history",
			Fitness: 0.3, Inputs: []scaling.Input{{Name: scaling.InputForecastFallback, Value: 1}}}, nil
	})
	_, err = e.Decide(t.Context(), stateWith(group(3, 1, 10)), []scaling.Candidate{{Name: "predictive", Strategy: pred}}, "")
	require.NoError(t, err)
	var got []scaling.Event
	for _, ev := range rec.events {
		if ev.Kind == scaling.EventForecastFallback {
			got = append(got, ev)
		}
	}
	require.Len(t, got, 1)
	assert.InDelta(t, -1.0, got[0].Value, 0)
}

// TestEngineLogsOnItsLogger pins WithEngineLogger: a journal that cannot
// save is logged there (and, without a logger, nowhere, without failing).
func TestEngineLogsOnItsLogger(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, opts ...scaling.EngineOption) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, c.AddGroup(provider.Resource{ID: "web"}, provider.CapacitySpec{Min: 1, Max: 10, Desired: 2}))
		opts = append(opts, scaling.WithJournal(failingSave{scaling.NewMemoryJournal()}))
		e, err := scaling.NewEngine(scaling.EngineConfig{VerifyWindow: time.Nanosecond, PollInterval: time.Millisecond}, scaling.Cloud{Scaler: c}, allowAll{}, opts...)
		require.NoError(t, err)
		capa, err := c.Capacity(t.Context(), "web")
		require.NoError(t, err)
		res, err := c.Get(t.Context(), "web")
		require.NoError(t, err)
		p := e.Plan(scaling.Decision{Now: c.Now(), Change: true, Target: scaling.Target{ID: "web", Resource: res, Capacity: capa, Min: 1, Max: 10},
			Chosen: scaling.Recommendation{Strategy: "s", Capacity: provider.CapacitySpec{Min: 1, Max: 10, Desired: 3}}}, scaling.PlanOptions{})
		_, _ = e.Execute(t.Context(), p)
	}
	synctest.Test(t, func(t *testing.T) {
		var buf syncbuf.Buffer
		run(t, scaling.WithEngineLogger(slog.New(slog.NewTextHandler(&buf, nil))))
		assert.Contains(t, buf.String(), "scaling: journal save failed")
		run(t)
	})
}

// failingSave is a journal whose saves fail.
type failingSave struct{ *scaling.MemoryJournal }

func (failingSave) Save(context.Context, scaling.Execution) error {
	return errors.New("journal disk full")
}

// TestDecideSkipsWhatFailsBeyond64 pins Decide over more candidates than a
// 64-bit mask holds: the failures were marked in one bit each, the first
// 64 only, so a 65th that failed was recorded in the History as a
// recommendation of 0 (its empty Recommendation), which the HPA's
// stabilization and the strategies' rate limits read as demand.
func TestDecideSkipsWhatFailsBeyond64(t *testing.T) {
	t.Parallel()
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: emptyCloud(t)}, allowAll{})
	require.NoError(t, err)
	fine := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		c := s.Target.Capacity.CapacitySpec
		c.Desired = 4
		return scaling.Recommendation{Capacity: c, Proposal: 4, Reason: "fine", Fitness: 0.2}, nil
	})
	broken := scaling.StrategyFunc(func(context.Context, scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{}, errors.New("no data source")
	})
	var cands []scaling.Candidate
	for i := range 130 {
		c := scaling.Candidate{Name: fmt.Sprintf("s%03d", i), Strategy: fine}
		if i%2 == 1 || i >= 64 {
			c.Strategy = broken
		}
		cands = append(cands, c)
	}
	d, err := e.Decide(t.Context(), stateWith(group(3, 1, 10)), cands, "")
	require.NoError(t, err)
	require.Len(t, d.Considered, 130)
	h := e.History("web")
	require.Len(t, h.Recommendations, 32, "only the 32 strategies that recommended are recorded")
	for _, r := range h.Recommendations {
		assert.Equal(t, 4, r.Desired, r.Strategy)
	}
}

package scaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
)

// The engine tells its observer when a predictive strategy falls back to
// the reactive capacity and when it recovers, once per change of standing
// per strategy, and never for a strategy that does not forecast.
func TestEngineEmitsForecastStandingChanges(t *testing.T) {
	t.Parallel()
	c := newCloud(t, 2, memory.Config{})
	rec := &recorder{}
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{}, scaling.WithObserver(rec))
	require.NoError(t, err)
	target := webTarget(t, c)

	// The predictive stand-in's standings, decision by decision: fallback
	// 1 = reactive, 0 = forecast; the MASE is its rolling error.
	standings := []struct{ fallback, mase float64 }{{0, 0.4}, {1, 1.7}, {1, 1.8}, {0, 0.6}, {0, 0.5}, {1, -1}}
	i := 0
	pred := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		st := standings[i]
		return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired,
			Reason: "stand-in", Fitness: 0.9, Inputs: []scaling.Input{
				{Name: scaling.InputForecastMASE, Value: st.mase}, {Name: scaling.InputForecastFallback, Value: st.fallback}}}, nil
	})
	plain := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired, Reason: "plain", Fitness: 0.5}, nil
	})
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for i = range standings {
		_, err := e.Decide(t.Context(), scaling.State{Now: start.Add(time.Duration(i) * time.Minute), Target: target},
			[]scaling.Candidate{{Name: "predictive", Strategy: pred}, {Name: "hpa", Strategy: plain}}, "")
		require.NoError(t, err)
	}
	var got []scaling.Event
	for _, ev := range rec.events {
		if ev.Kind == scaling.EventForecastFallback || ev.Kind == scaling.EventForecastRecovered {
			got = append(got, ev)
		}
	}
	require.Len(t, got, 3, "fallback at 1, recovered at 3, fallback at 5: %+v", got)
	want := []struct {
		kind  scaling.EventKind
		at    int
		value float64
	}{{scaling.EventForecastFallback, 1, 1.7}, {scaling.EventForecastRecovered, 3, 0.6}, {scaling.EventForecastFallback, 5, -1}}
	for k, w := range want {
		assert.Equal(t, w.kind, got[k].Kind, "event %d", k)
		assert.Equal(t, start.Add(time.Duration(w.at)*time.Minute), got[k].Time, "event %d", k)
		assert.Equal(t, "web", got[k].Target)
		assert.Equal(t, "predictive", got[k].Strategy)
		assert.Equal(t, "stand-in", got[k].Reason)
		assert.InDelta(t, w.value, got[k].Value, 0, "event %d", k)
		require.NoError(t, got[k].Kind.Validate())
	}
}

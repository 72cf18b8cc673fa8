package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// A target the scaling engine forgets (Engine.Forget, Autoscaler.Close:
// it left the policy) leaves idlescale_forecast_error, whatever its
// predictive strategy's standing was: one that had fallen back and
// recovered kept exporting the error it recovered with, for good (the
// engine told only a fallback's end), so a host whose groups come and go
// exported a growing set of stale series. A target still in use keeps its
// series.
func TestForgottenTargetLeavesForecastError(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	e, cloud, reg, obs := forecastRig(t, start, "web", "api")

	// Fallen back (error 1.7), then recovered (error 0.6).
	standings := []struct{ fallback, mase float64 }{{1, 1.7}, {0, 0.6}}
	i := 0
	pred := scaling.StrategyFunc(func(ctx context.Context, s scaling.State) (scaling.Recommendation, error) {
		return standIn(standings[i].fallback, standings[i].mase).Recommend(ctx, s)
	})
	for _, id := range []string{"web", "api"} {
		target := forecastTarget(t, cloud, id)
		for i = range standings {
			_, err := e.Decide(t.Context(), scaling.State{Now: start.Add(time.Duration(i) * time.Minute), Target: target},
				[]scaling.Candidate{{Name: "predictive", Strategy: pred}}, "")
			require.NoError(t, err)
		}
	}
	require.NoError(t, obs.Err())
	want := `
# HELP idlescale_forecast_error Latest forecast error reported for a scaling target.
# TYPE idlescale_forecast_error gauge
idlescale_forecast_error{strategy="predictive",target="api"} 0.6
idlescale_forecast_error{strategy="predictive",target="web"} 0.6
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "idlescale_forecast_error"))

	require.NoError(t, e.Forget("web"))
	require.NoError(t, obs.Err())
	want = `
# HELP idlescale_forecast_error Latest forecast error reported for a scaling target.
# TYPE idlescale_forecast_error gauge
idlescale_forecast_error{strategy="predictive",target="api"} 0.6
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "idlescale_forecast_error"))
}

// forecastRig is an engine over a memory cloud of the groups ids (2 of
// [0, 50]), on a step clock at start, whose events reach a Collector
// through a scaling observer: the registry shows its series.
func forecastRig(t *testing.T, start time.Time, ids ...string) (*scaling.Engine, *memory.Cloud, *prometheus.Registry, *monitor.ScalingObserver) {
	t.Helper()
	clk := stepclock.New(start)
	cloud, err := memory.New(memory.Config{}, memory.WithClock(clk))
	require.NoError(t, err)
	for _, id := range ids {
		require.NoError(t, cloud.AddGroup(provider.Resource{ID: id, Kind: provider.KindGroup},
			provider.CapacitySpec{Min: 0, Max: 50, Desired: 2}))
	}
	_, reg, l := registered(t)
	obs := monitor.NewScalingObserver(l, monitor.WithObserverClock(clk))
	gate, err := safety.New(safety.Config{AllowNoRules: true}, nil)
	require.NoError(t, err)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, gate,
		scaling.WithObserver(obs), scaling.WithEngineClock(clk))
	require.NoError(t, err)
	return e, cloud, reg, obs
}

// forecastTarget is the scaling target of group id of cloud, read now.
func forecastTarget(t *testing.T, cloud *memory.Cloud, id string) scaling.Target {
	t.Helper()
	res, err := cloud.Get(t.Context(), id)
	require.NoError(t, err)
	capa, err := cloud.Capacity(t.Context(), id)
	require.NoError(t, err)
	return scaling.Target{ID: id, Resource: res, Capacity: capa, Min: 0, Max: 50}
}

// standIn is a predictive strategy's stand-in that keeps the capacity and
// reports the forecast standing given: fallen back or not, and its MASE.
func standIn(fallback, mase float64) scaling.Strategy {
	return scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired,
			Reason: "stand-in", Fitness: 0.9, Inputs: []scaling.Input{
				{Name: scaling.InputForecastMASE, Value: mase}, {Name: scaling.InputForecastFallback, Value: fallback}}}, nil
	})
}

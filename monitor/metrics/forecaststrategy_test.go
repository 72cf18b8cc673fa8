package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// Two predictive strategies of one target each export their own forecast
// error, labelled by strategy: the engine tracks a fallback per strategy,
// but idlescale_forecast_error was keyed by target alone, so the second
// strategy's error overwrote the first's (a target with a daily and a
// weekly model exported whichever reported last), and one strategy's
// standing ending (−1) dropped the other's error too.
func TestForecastErrorPerStrategy(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	clk := stepclock.New(start)
	cloud, err := memory.New(memory.Config{}, memory.WithClock(clk))
	require.NoError(t, err)
	require.NoError(t, cloud.AddGroup(provider.Resource{ID: "web", Kind: provider.KindGroup},
		provider.CapacitySpec{Min: 0, Max: 50, Desired: 2}))
	_, reg, l := registered(t)
	obs := monitor.NewScalingObserver(l, monitor.WithObserverClock(clk))
	gate, err := safety.New(safety.Config{AllowNoRules: true}, nil)
	require.NoError(t, err)
	e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: cloud, Metrics: cloud}, gate,
		scaling.WithObserver(obs), scaling.WithEngineClock(clk))
	require.NoError(t, err)

	pred := func(fallback, mase float64) scaling.Strategy {
		return scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
			return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired,
				Reason: "stand-in", Fitness: 0.9, Inputs: []scaling.Input{
					{Name: scaling.InputForecastMASE, Value: mase}, {Name: scaling.InputForecastFallback, Value: fallback}}}, nil
		})
	}
	res, err := cloud.Get(t.Context(), "web")
	require.NoError(t, err)
	capa, err := cloud.Capacity(t.Context(), "web")
	require.NoError(t, err)
	target := scaling.Target{ID: "web", Resource: res, Capacity: capa, Min: 0, Max: 50}
	_, err = e.Decide(t.Context(), scaling.State{Now: start, Target: target},
		[]scaling.Candidate{{Name: "daily", Strategy: pred(1, 1.7)}, {Name: "weekly", Strategy: pred(1, 2.5)}}, "")
	require.NoError(t, err)
	require.NoError(t, obs.Err())
	want := `
# HELP idlescale_forecast_error Latest forecast error reported for a scaling target.
# TYPE idlescale_forecast_error gauge
idlescale_forecast_error{strategy="daily",target="web"} 1.7
idlescale_forecast_error{strategy="weekly",target="web"} 2.5
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "idlescale_forecast_error"))

	_, err = e.Decide(t.Context(), scaling.State{Now: start.Add(time.Minute), Target: target},
		[]scaling.Candidate{{Name: "daily", Strategy: pred(0, 0.6)}, {Name: "weekly", Strategy: pred(1, -1)}}, "")
	require.NoError(t, err)
	require.NoError(t, obs.Err())
	want = `
# HELP idlescale_forecast_error Latest forecast error reported for a scaling target.
# TYPE idlescale_forecast_error gauge
idlescale_forecast_error{strategy="daily",target="web"} 0.6
idlescale_forecast_error{strategy="weekly",target="web"} 2.5
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "idlescale_forecast_error"))

	// daily falls back with its error unknown: its series goes, weekly's stays.
	_, err = e.Decide(t.Context(), scaling.State{Now: start.Add(2 * time.Minute), Target: target},
		[]scaling.Candidate{{Name: "daily", Strategy: pred(1, -1)}, {Name: "weekly", Strategy: pred(1, -1)}}, "")
	require.NoError(t, err)
	require.NoError(t, obs.Err())
	want = `
# HELP idlescale_forecast_error Latest forecast error reported for a scaling target.
# TYPE idlescale_forecast_error gauge
idlescale_forecast_error{strategy="weekly",target="web"} 2.5
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "idlescale_forecast_error"))
}

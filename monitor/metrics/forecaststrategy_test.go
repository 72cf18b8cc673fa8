package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

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
	e, cloud, reg, obs := forecastRig(t, start, "web")
	pred := standIn
	target := forecastTarget(t, cloud, "web")
	_, err := e.Decide(t.Context(), scaling.State{Now: start, Target: target},
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

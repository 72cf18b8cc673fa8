package forecasteval_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
	"github.com/idlescale/idlescale/internal/forecasteval"
)

// The loaders put the traces on an hourly grid with the gaps the README of
// ../../testdata documents.
func TestLoad(t *testing.T) {
	t.Parallel()
	traces, err := forecasteval.Load("../../testdata")
	require.NoError(t, err)
	byName := map[string]forecasteval.Trace{}
	for _, tr := range traces {
		byName[tr.Name] = tr
		for i, o := range tr.Origins {
			require.GreaterOrEqual(t, o-tr.Window, 0, "%s origin %d", tr.Name, i)
			require.LessOrEqual(t, o+forecasteval.Horizon, len(tr.Values), "%s origin %d", tr.Name, i)
			if i > 0 && o-tr.Origins[i-1] <= 24*3 {
				// Within a clean stretch (NASA has two) origins are one
				// day apart.
				assert.Equal(t, 24, o-tr.Origins[i-1], "%s: origins are one day apart", tr.Name)
			}
		}
	}
	require.Len(t, byName, 5)

	// app-server-traffic/traffic_stats_HOURLY_CHs.csv: 44,026 rows from
	// 2015-03-26 14:00 to 2020-04-03 19:00 with 20 missing hours.
	app := byName["app-server"]
	assert.Len(t, app.Values, 44026+20)
	assert.Equal(t, 20, gaps(app.Values))
	assert.Len(t, app.Origins, 56)
	assert.Equal(t, 8*168, app.Window)

	// nab/nyc_taxi.csv: 30-minute counts summed to hours.
	taxi := byName["nyc-taxi"]
	assert.Equal(t, 0, gaps(taxi.Values))
	assert.InDelta(t, 10844+8127, taxi.Values[0], 1e-9, "first hour = sum of its two half hours")

	// nasa-http/nasa_traffic_5m.csv: no origin touches the outage or the
	// zero-filled days between 07-28 13:00 and 08-04.
	nasa := byName["nasa-http"]
	for _, o := range nasa.Origins {
		for _, v := range nasa.Values[o-nasa.Window : o+forecasteval.Horizon] {
			require.False(t, math.IsNaN(v))
			require.Positive(t, v)
		}
	}
	assert.GreaterOrEqual(t, len(nasa.Origins), 20)

	// nab/elb_request_count_8c0756.csv: 14 days, one week of training.
	elb := byName["nab-elb-requests"]
	assert.Equal(t, 168, elb.Window)
	assert.Len(t, elb.Origins, 7)
}

func gaps(y []float64) int {
	n := 0
	for _, v := range y {
		if math.IsNaN(v) {
			n++
		}
	}
	return n
}

// Seasonal naive 24 with plain empirical quantiles (the protocol's
// baseline) evaluated against itself has relative MASE 1 and a pinball
// ratio of 1: the protocol's arithmetic is consistent.
func TestEvaluateNaiveAgainstItself(t *testing.T) {
	t.Parallel()
	traces, err := forecasteval.Load("../../testdata")
	require.NoError(t, err)
	ran := false
	for _, tr := range traces {
		if tr.Name != "nab-elb-requests" {
			continue
		}
		ran = true
		row, err := forecasteval.Evaluate(t.Context(), tr, func() (forecast.Model, error) {
			return forecast.NewSeasonal(forecast.SeasonalConfig{Period: 24, Intervals: forecast.IntervalOptions{Absolute: true, Empirical: true}})
		})
		require.NoError(t, err)
		assert.InDelta(t, 1, row.RelMASE, 1e-12)
		assert.InDelta(t, 1, row.PinballRatio, 1e-12)
		assert.InDelta(t, row.RelMASE/math.Min(1, row.RelNaive168), row.VsBestNaive, 1e-12)
		var buf bytes.Buffer
		require.NoError(t, forecasteval.WriteTable(&buf, []forecasteval.Row{row}))
		assert.Contains(t, buf.String(), "nab-elb-requests")
	}
	require.True(t, ran, "Load returned no trace named nab-elb-requests")
}

// Checks marks each criterion of the goal, per trace and on the geometric
// means, and WriteTable prints them.
func TestChecks(t *testing.T) {
	t.Parallel()
	good := forecasteval.Row{Trace: "good", Origins: 10, RelMASE: 0.5, RelNaive168: 0.9, VsBestNaive: 0.6, Coverage90: 0.9, Interval90: 0.88, PinballRatio: 0.7}
	bad := forecasteval.Row{Trace: "bad", Origins: 10, RelMASE: 1.2, RelNaive168: 1.1, VsBestNaive: 1.2, Coverage90: 0.96, Interval90: 0.84, PinballRatio: 1.1}
	checks := forecasteval.Checks([]forecasteval.Row{good, bad})
	require.Len(t, checks, 11)
	failed := map[string]bool{}
	for _, c := range checks {
		if !c.OK() {
			failed[c.Trace+": "+c.Name] = true
		}
	}
	assert.Equal(t, map[string]bool{
		"bad: vs best naive": true, "bad: p90 cover": true, "bad: 90% PI cover": true, "bad: pinball ratio": true,
		// √(0.5·1.2) = 0.775 > 0.75; √(0.6·1.2) = 0.849 ≤ 0.95; √(0.7·1.1) = 0.877 ≤ 1.
		forecasteval.GeometricMean + ": relMASE": true,
	}, failed)
	assert.Equal(t, "≤ 1.05", checks[0].Bound())
	assert.Equal(t, "in [0.85, 0.95]", checks[1].Bound())

	var buf bytes.Buffer
	require.NoError(t, forecasteval.WriteTable(&buf, []forecasteval.Row{good, bad}))
	assert.Contains(t, buf.String(), "90% PI cover 0.840 in [0.85, 0.95] FAIL")
	assert.Contains(t, buf.String(), "90% PI cover 0.880 in [0.85, 0.95] ok")
	assert.Contains(t, buf.String(), "5 check(s) FAIL")
	buf.Reset()
	require.NoError(t, forecasteval.WriteTable(&buf, []forecasteval.Row{good}))
	assert.Contains(t, buf.String(), "all checks ok")
}

package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/metrics"
)

// TestScalingNoDataGauge: a target whose strategies lack data is
// exported as 1 until it recovers (or is forgotten, which the engine
// tells as a recovery); one that recovered leaves the gauge.
func TestScalingNoDataGauge(t *testing.T) {
	t.Parallel()
	col, err := metrics.New(metrics.Config{})
	require.NoError(t, err)
	reg := prometheus.NewRegistry()
	require.NoError(t, reg.Register(col))
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("metrics", col))
	require.NoError(t, err)
	require.NoError(t, l.Record(t.Context(),
		ev(monitor.KindScalingData, monitor.SourceScaling, "web", "", monitor.OutcomeNoData, 0),
		ev(monitor.KindScalingData, monitor.SourceScaling, "db", "", monitor.OutcomeNoData, 0),
		ev(monitor.KindScalingData, monitor.SourceScaling, "api", "", monitor.OutcomeNoData, 0),
		ev(monitor.KindScalingData, monitor.SourceScaling, "db", "", monitor.OutcomeRecovered, 1),
	))
	want := `
# HELP idlescale_scaling_no_data 1 for each scaling target whose strategies have no data to scale on (a metrics outage).
# TYPE idlescale_scaling_no_data gauge
idlescale_scaling_no_data{target="api"} 1
idlescale_scaling_no_data{target="web"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "idlescale_scaling_no_data"))
	require.NoError(t, l.Record(t.Context(),
		ev(monitor.KindScalingData, monitor.SourceScaling, "web", "", monitor.OutcomeRecovered, 2),
		ev(monitor.KindScalingData, monitor.SourceScaling, "api", "", monitor.OutcomeRecovered, 2),
	))
	n, err := testutil.GatherAndCount(reg, "idlescale_scaling_no_data")
	require.NoError(t, err)
	require.Zero(t, n)
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// TestLateScalingEventsDoNotOverrideNewerState: the no-data gauge and
// the forecast error followed the order events were written, not their
// times: an older event arriving late (an audit trail backfilled, a
// second engine's auditor) overwrote a newer state, and as the engine
// tells only transitions, the gauge said a recovered target had no data
// until its next outage ended. A no-data event or a forecast error older
// than the target's (or strategy's) latest event now changes no gauge.
// (An event that ends a series, recovered or unknown, still ends it
// whatever its time: the engine's Forget dates its own by its clock.)
func TestLateScalingEventsDoNotOverrideNewerState(t *testing.T) {
	t.Parallel()
	_, reg, l := registered(t)
	data := func(target, outcome string, h float64) monitor.Event {
		return ev(monitor.KindScalingData, monitor.SourceScaling, target, "", outcome, h)
	}
	fc := func(target string, v, h float64) monitor.Event {
		e := ev(monitor.KindForecast, monitor.SourceForecast, target, "", monitor.OutcomeRecovered, h)
		e.Value = v
		return e
	}
	require.NoError(t, l.Record(t.Context(),
		data("web", monitor.OutcomeNoData, 2), data("web", monitor.OutcomeRecovered, 3),
		data("db", monitor.OutcomeNoData, 3),
		fc("web", 0.3, 2), fc("db", 0.4, 2)))
	require.NoError(t, l.Record(t.Context(),
		data("web", monitor.OutcomeNoData, 1), data("db", monitor.OutcomeNoData, 1),
		fc("web", 0.9, 1), fc("db", 0.9, 3)))
	want := `
# HELP idlescale_forecast_error Latest forecast error reported for a scaling target.
# TYPE idlescale_forecast_error gauge
idlescale_forecast_error{strategy="",target="db"} 0.9
idlescale_forecast_error{strategy="",target="web"} 0.3
# HELP idlescale_scaling_no_data 1 for each scaling target whose strategies have no data to scale on (a metrics outage).
# TYPE idlescale_scaling_no_data gauge
idlescale_scaling_no_data{target="db"} 1
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "idlescale_scaling_no_data", "idlescale_forecast_error"))
}

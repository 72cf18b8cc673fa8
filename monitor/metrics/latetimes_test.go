package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
)

// TestLateEventsDoNotMoveTheLatestTimeBack: a late event (older than the
// latest of its target or strategy) changes no gauge, and does not make
// the latest time its own either: a second late event, newer than the
// first but still older than the latest, is late too. An event at the
// latest time is not late: the one written last stands.
func TestLateEventsDoNotMoveTheLatestTimeBack(t *testing.T) {
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
	require.NoError(t, l.Record(t.Context(), data("web", monitor.OutcomeRecovered, 3), fc("web", 0.3, 3), fc("db", 0.2, 3)))
	require.NoError(t, l.Record(t.Context(), data("web", monitor.OutcomeNoData, 1), fc("web", 0.9, 1)))
	require.NoError(t, l.Record(t.Context(), data("web", monitor.OutcomeNoData, 2), fc("web", 0.8, 2), fc("db", 0.4, 3)))
	want := `
# HELP idlescale_forecast_error Latest forecast error reported for a scaling target.
# TYPE idlescale_forecast_error gauge
idlescale_forecast_error{strategy="",target="db"} 0.4
idlescale_forecast_error{strategy="",target="web"} 0.3
`
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(want), "idlescale_scaling_no_data", "idlescale_forecast_error"))
}

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

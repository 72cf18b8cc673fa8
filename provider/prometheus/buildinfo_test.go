package prometheus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// TestRangeSemanticsOfMimirAndThanos: Mimir and Thanos answer the build
// information request with their own version, not Prometheus's, so
// reading it as Prometheus's took Mimir 2.15 to 2.17 and Thanos 0.38 and
// later, whose query engines are Prometheus 3's and exclude a range's
// start, for Prometheus 2: every sample on a step's first millisecond (a
// backfilled or recorded series on the step's grid: all of them) fell out
// of its window, and the series read as gaps. Mimir says who it is
// (application); Thanos, in Prometheus's shape, has a version 0.x, which
// no Prometheus with build information has. A version the driver cannot
// place keeps the ranges that include their start, and Config.Ranges
// still overrides all of them.
func TestRangeSemanticsOfMimirAndThanos(t *testing.T) {
	t.Parallel()
	const closed, leftOpen = "[299999ms]", "[300000ms]"
	mimir := func(version string) string {
		return `{"application":"Grafana Mimir","version":"` + version + `","revision":"5bedc7a1","branch":"HEAD","goVersion":"go1.23.4","features":{"ruler_config_api":"true"}}`
	}
	thanos := func(version string) string {
		return `{"version":"` + version + `","revision":"d2e4bf8","branch":"HEAD","buildUser":"root@5ad2a6a6c4b4","buildDate":"20250311-11:03:29","goVersion":"go1.23.7"}`
	}
	tests := []struct {
		name       string
		buildinfo  string
		give       prometheus.Ranges
		wantWindow string
	}{
		{"mimir 2.14", mimir("2.14.3"), prometheus.RangesAuto, closed},
		{"mimir 2.15", mimir("2.15.0"), prometheus.RangesAuto, leftOpen},
		{"mimir 2.17", mimir("2.17.1"), prometheus.RangesAuto, leftOpen},
		{"mimir 3", mimir("3.0.0"), prometheus.RangesAuto, leftOpen},
		{"mimir weekly", mimir("r249-5bedc7a1-WIP"), prometheus.RangesAuto, closed},
		{"thanos 0.36", thanos("0.36.1"), prometheus.RangesAuto, closed},
		{"thanos 0.38", thanos("0.38.0"), prometheus.RangesAuto, leftOpen},
		{"thanos 0.42", thanos("v0.42.0"), prometheus.RangesAuto, leftOpen},
		{"another application", `{"application":"Cortex","version":"3.0.0"}`, prometheus.RangesAuto, closed},
		{"mimir 2.17 configured closed", mimir("2.17.1"), prometheus.RangesClosed, closed},
		{"mimir 2.14 configured left-open", mimir("2.14.3"), prometheus.RangesLeftOpen, leftOpen},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeServer{buildinfo: tt.buildinfo}
			src := newSource(t, prometheus.Config{Address: f.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}, Ranges: tt.give})
			_, err := src.QueryMetric(t.Context(), someQuery("i-1"))
			require.NoError(t, err)
			queries, _ := f.received()
			require.Len(t, queries, 2, "targets and range query")
			assert.Equal(t, `avg_over_time(cpu{ instance="i-1" }`+tt.wantWindow+` offset 1ms)`, queries[1])
		})
	}
}

package prometheus_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
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

// TestRangesWarnOnlyWhenTheVersionDoesNotTell: a version the driver
// places (Thanos up to 0.36 and from 0.38, Mimir, Prometheus) sets the
// ranges quietly; one it cannot place (Thanos 0.37, a Mimir weekly
// build, another application) is read as closed with a warning logged,
// so that the host knows to set Config.Ranges.
func TestRangesWarnOnlyWhenTheVersionDoesNotTell(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		buildinfo string
		wantWarn  bool
	}{
		{"thanos 0.35", `{"version":"0.35.1"}`, false},
		{"thanos 0.36", `{"version":"0.36.1"}`, false},
		{"thanos 0.37", `{"version":"0.37.2"}`, true},
		{"thanos 0.38", `{"version":"0.38.0"}`, false},
		{"prometheus 2", `{"version":"2.53.3"}`, false},
		{"prometheus 3", `{"version":"3.1.0"}`, false},
		{"mimir 2.14", `{"application":"Grafana Mimir","version":"2.14.3"}`, false},
		{"mimir weekly", `{"application":"Grafana Mimir","version":"r249-5bedc7a1"}`, true},
		{"a negative minor", `{"version":"2.-1.0"}`, true},
		{"another application", `{"application":"Cortex","version":"3.0.0"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var logs bytes.Buffer
			log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			f := &fakeServer{buildinfo: tt.buildinfo}
			src := newSource(t, prometheus.Config{Address: f.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}}, prometheus.WithLogger(log))
			_, err := src.QueryMetric(t.Context(), someQuery("i-1"))
			require.NoError(t, err)
			if tt.wantWarn {
				assert.Contains(t, logs.String(), "cannot tell the range semantics")
			} else {
				assert.NotContains(t, logs.String(), "range semantics", "placed: no warning")
			}
		})
	}
}

// TestBuildinfoServerErrorDetailIsBounded: a server error answering the
// build information request keeps the body in its *v1.Error's Detail, up
// to 512 bytes whole and cut (marked "…") past them, so that a proxy's
// error page does not fill a log line.
func TestBuildinfoServerErrorDetailIsBounded(t *testing.T) {
	t.Parallel()
	for _, n := range []int{512, 513} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			t.Parallel()
			page := strings.Repeat("x", n)
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				switch r.URL.Path {
				case "/api/v1/status/buildinfo":
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte(page))
				case "/api/v1/query":
					_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"i-1","job":"x"},"value":[1700000000,"1"]}]}}`))
				default:
					http.NotFound(w, r)
				}
			}))
			t.Cleanup(srv.Close)
			src := newSource(t, prometheus.Config{Address: srv.URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}})
			_, err := src.QueryMetric(t.Context(), someQuery("i-1"))
			var apiErr *v1.Error
			require.ErrorAs(t, err, &apiErr)
			want := page
			if n > 512 {
				want = page[:512] + "…"
			}
			assert.Equal(t, want, apiErr.Detail)
		})
	}
}

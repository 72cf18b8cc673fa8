package prometheus_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// TestChunksOfDifferentSeriesAreNotJoined: a query longer than
// Config.MaxPoints is read in several range queries; when they answer
// different series (a label that changed between them: a deployment's
// version, a relabelled job), the chunks are not joined into one series,
// as one range query over the whole window (which answers both series)
// is not: the read fails with ErrSeveralSeries naming both, whether the
// other series comes in a later range query or in the last, cut step.
func TestChunksOfDifferentSeriesAreNotJoined(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const step = time.Minute
	// versionAt is the series' version label in the answer evaluated
	// at t: "v1" for the first two steps (evaluated at their ends), "v2"
	// after.
	versionAt := func(at time.Time) string {
		if !at.After(start.Add(2 * step)) {
			return "v1"
		}
		return "v2"
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !assert.NoError(t, r.ParseForm()) {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		answer := func(resultType, result string) {
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"` + resultType + `","result":` + result + `}}`))
		}
		switch r.URL.Path {
		case "/api/v1/status/buildinfo":
			_, _ = w.Write([]byte(`{"status":"success","data":{"version":"2.42.0"}}`))
		case "/api/v1/query":
			if strings.HasPrefix(r.Form.Get("query"), "last_over_time(up{") {
				answer("vector", `[{"metric":{"__name__":"up","instance":"i-1"},"value":[1700000000,"1"]}]`)
				return
			}
			at := parseTime(t, r.Form.Get("time"))
			answer("vector", `[{"metric":{"instance":"i-1","version":"`+versionAt(at)+`"},"value":[`+formatTime(at)+`,"0.5"]}]`)
		case "/api/v1/query_range":
			from, to := parseTime(t, r.Form.Get("start")), parseTime(t, r.Form.Get("end"))
			var points []string
			version := versionAt(from)
			for at := from; !at.After(to); at = at.Add(step) {
				if versionAt(at) != version {
					t.Errorf("a range query over both versions: %s to %s", from, to)
				}
				points = append(points, `[`+formatTime(at)+`,"0.5"]`)
			}
			answer("matrix", `[{"metric":{"instance":"i-1","version":"`+version+`"},"values":[`+strings.Join(points, ",")+`]}]`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	src := newSource(t, prometheus.Config{
		Address:   srv.URL,
		MaxPoints: 2,
		Metrics:   map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`},
	})
	tests := []struct {
		name string
		give time.Duration // the query's length
	}{
		{"in a later range query", 4 * step},
		{"in the cut last step", 2*step + step/2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start, End: start.Add(tt.give), Step: step}
			got, err := src.QueryMetric(t.Context(), q)
			require.ErrorIs(t, err, prometheus.ErrSeveralSeries, "joined into %v", got.Values)
			var se *prometheus.SeriesError
			require.ErrorAs(t, err, &se)
			require.Len(t, se.Series, 2)
			assert.Contains(t, se.Series[0], `version="v1"`)
			assert.Contains(t, se.Series[1], `version="v2"`)
		})
	}
	// One version throughout: the chunks join.
	q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start.Add(2 * step), End: start.Add(6*step + step/2), Step: step}
	got, err := src.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	assert.Equal(t, []float64{0.5, 0.5, 0.5, 0.5, 0.5}, got.Values)
}

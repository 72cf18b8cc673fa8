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

// histogramServer answers the targets query with target i-1 up and every
// other query with a native histogram, as Prometheus answers a template
// over a native histogram series that forgot histogram_count() or
// histogram_sum(): a sample with a "histogram" and no "value".
func histogramServer(t *testing.T) *httptest.Server {
	t.Helper()
	const hist = `{"count":"1200","sum":"35.5","buckets":[[0,"0.5","1","1200"]]}`
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !assert.NoError(t, r.ParseForm()) {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		q := r.Form.Get("query")
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.URL.Path == "/api/v1/query" && strings.Contains(q, "up{"):
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"i-1","job":"x"},"value":[1700000000,"1"]}]}}`))
		case r.URL.Path == "/api/v1/query":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"instance":"i-1"},"histogram":[1700000000,` + hist + `]}]}}`))
		case r.URL.Path == "/api/v1/query_range":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"instance":"i-1"},"histograms":[[` +
				r.Form.Get("start") + `,` + hist + `]]}]}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestNativeHistogramIsNotANumber: a template that returns native
// histograms instead of numbers is refused with ErrBadResult. client_golang
// decodes such a sample with Value 0, so an activity count read 0 (the
// resource quiet, over the whole window), and a cut last step 0 (idle).
func TestNativeHistogramIsNotANumber(t *testing.T) {
	t.Parallel()
	src := newSource(t, prometheus.Config{
		Address: histogramServer(t).URL, Ranges: prometheus.RangesClosed,
		Metrics:  map[provider.Metric]string{provider.MetricRequests: `http_request_duration_seconds{ {{.Matchers}} }`},
		Activity: map[provider.ActivityKind]string{provider.ActivityAPICalls: `sum(increase(http_request_duration_seconds{ {{.Matchers}} }[{{.Range}}]))`, provider.ActivityProcesses: ""},
	})
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	counts, err := src.Activity(t.Context(), provider.ActivityQuery{ResourceID: "i-1", Start: end.Add(-24 * time.Hour), End: end})
	require.ErrorIs(t, err, prometheus.ErrBadResult, "read as %v", counts)
	var qe *prometheus.QueryError
	require.ErrorAs(t, err, &qe)
	assert.Contains(t, qe.Query, "http_request_duration_seconds", "the error names the query")

	for _, tt := range []struct {
		name string
		end  time.Time
	}{
		{"whole steps", end},
		{"last step cut", end.Add(-time.Minute)},
	} {
		q := provider.Query{ResourceID: "i-1", Metric: provider.MetricRequests, Start: end.Add(-time.Hour), End: tt.end, Step: 5 * time.Minute}
		s, err := src.QueryMetric(t.Context(), q)
		require.ErrorIs(t, err, prometheus.ErrBadResult, "%s: read as %v", tt.name, s.Values)
	}
}

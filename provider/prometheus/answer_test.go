package prometheus_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// TestHugeAnswerIsRefusedUnread: an answer larger than
// Config.MaxAnswerBytes (default 64 MiB) is refused as ErrBadResult,
// unread when its Content-Length says so and once that much is read
// otherwise, rather than read and decoded whole: a template that selects
// every series of a big server, or a proxy's endless page, took the
// host's memory first. The answer here is valid JSON padded past the
// limit, which was read whole and decoded to an empty list of targets.
func TestHugeAnswerIsRefusedUnread(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		give    int64 // Config.MaxAnswerBytes
		padding int
		length  bool // the answer says its Content-Length
	}{
		{"default limit, length said", 0, 65 << 20, true},
		{"limit, streamed", 1 << 20, 2 << 20, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			const head, tail = `{"status":"success","data":{"resultType":"vector","result":[]}`, `}`
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tt.length {
					w.Header().Set("Content-Length", strconv.Itoa(len(head)+tt.padding+len(tail)))
				}
				_, _ = w.Write([]byte(head))
				chunk := bytes.Repeat([]byte(" "), 1<<20)
				for range tt.padding >> 20 {
					if _, err := w.Write(chunk); err != nil {
						return // the client hung up
					}
				}
				_, _ = w.Write([]byte(tail))
			}))
			t.Cleanup(srv.Close)
			src := newSource(t, prometheus.Config{Address: srv.URL, MaxAnswerBytes: tt.give})
			_, err := src.Get(t.Context(), "i-1")
			require.ErrorIs(t, err, prometheus.ErrBadResult)
			require.NotErrorIs(t, err, provider.ErrNotFound)
			assert.Contains(t, err.Error(), "max_answer_bytes", "the error names the limit")
		})
	}
	require.ErrorIs(t, prometheus.Config{Address: "http://x:1", MaxAnswerBytes: -1}.Validate(), provider.ErrInvalid)
}

// TestSeveralSeriesErrorIsBounded: a template that forgot to aggregate a
// label away returns one series per value of it; the error names the
// first few and counts the rest, where it listed every one of them
// (thousands of label sets in a log line and an audit record).
func TestSeveralSeriesErrorIsBounded(t *testing.T) {
	t.Parallel()
	const n = 3000
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/status/buildinfo":
			_, _ = w.Write([]byte(`{"status":"success","data":{"version":"2.42.0"}}`))
		case "/api/v1/query":
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"up","instance":"i-1","job":"x"},"value":[1700000000,"1"]}]}}`))
		case "/api/v1/query_range":
			var b strings.Builder
			b.WriteString(`{"status":"success","data":{"resultType":"matrix","result":[`)
			for i := range n {
				if i > 0 {
					b.WriteString(",")
				}
				fmt.Fprintf(&b, `{"metric":{"instance":"i-1","cpu":"%d"},"values":[]}`, i)
			}
			b.WriteString(`]}}`)
			_, _ = w.Write([]byte(b.String()))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	src := newSource(t, prometheus.Config{Address: srv.URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}})
	_, err := src.QueryMetric(t.Context(), someQuery("i-1"))
	require.ErrorIs(t, err, prometheus.ErrSeveralSeries)
	var se *prometheus.SeriesError
	require.ErrorAs(t, err, &se)
	assert.Len(t, se.Series, n, "the error keeps every label set")
	assert.Less(t, len(err.Error()), 2000, "the message names a few")
	assert.Contains(t, err.Error(), fmt.Sprintf("returned %d series", n))
	assert.Contains(t, err.Error(), `cpu="0"`)
}

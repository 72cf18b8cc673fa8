package prometheus_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

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

// TestAnswerOfExactlyTheLimitIsRead pins Config.MaxAnswerBytes as the
// largest answer read, not the first refused: an answer of exactly that
// many bytes is read, whether its Content-Length says so or it is
// streamed, and one byte more is refused; a limit of 1 byte is a valid
// configuration (only a negative one is not).
func TestAnswerOfExactlyTheLimitIsRead(t *testing.T) {
	t.Parallel()
	const body = `{"status":"success","data":{"resultType":"vector","result":[]}}`
	tests := []struct {
		name    string
		give    int64 // Config.MaxAnswerBytes
		length  bool  // the answer says its Content-Length
		refused bool
	}{
		{"exactly the limit, length said", int64(len(body)), true, false},
		{"exactly the limit, streamed", int64(len(body)), false, false},
		{"a byte more, length said", int64(len(body)) - 1, true, true},
		{"a byte more, streamed", int64(len(body)) - 1, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				if tt.length {
					w.Header().Set("Content-Length", strconv.Itoa(len(body)))
				}
				_, _ = w.Write([]byte(body))
			}))
			t.Cleanup(srv.Close)
			src := newSource(t, prometheus.Config{Address: srv.URL, MaxAnswerBytes: tt.give})
			_, err := src.Get(t.Context(), "i-1")
			if tt.refused {
				require.ErrorIs(t, err, prometheus.ErrBadResult)
				return
			}
			require.ErrorIs(t, err, provider.ErrNotFound, "read and decoded: no such target")
			require.NotErrorIs(t, err, prometheus.ErrBadResult)
		})
	}
	// A body that gives its last byte and its end in separate reads (as
	// a slow stream does) is read to its end at exactly the limit too.
	src := newSource(t, prometheus.Config{Address: "http://prometheus.invalid", MaxAnswerBytes: int64(len(body))},
		prometheus.WithRoundTripper(roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Header: http.Header{"Content-Type": {"application/json"}}, ContentLength: -1,
				Body: io.NopCloser(iotest.OneByteReader(strings.NewReader(body))), Request: r}, nil
		})))
	_, err := src.Get(t.Context(), "i-1")
	require.ErrorIs(t, err, provider.ErrNotFound, "read a byte at a time, to its end")
	require.NoError(t, prometheus.Config{Address: "http://x:1", MaxAnswerBytes: 1}.Validate())
}

// TestSeriesErrorCountsTheOthers pins what a SeriesError's message names:
// every series up to five, else the first five and the count of the rest.
func TestSeriesErrorCountsTheOthers(t *testing.T) {
	t.Parallel()
	series := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf(`{cpu="%d"}`, i)
		}
		return out
	}
	five := (&prometheus.SeriesError{Query: "q", Series: series(5)}).Error()
	for _, s := range series(5) {
		assert.Contains(t, five, s)
	}
	assert.NotContains(t, five, "more", "five series are all named")
	seven := (&prometheus.SeriesError{Query: "q", Series: series(7)}).Error()
	assert.Contains(t, seven, `{cpu="4"} and 2 more`)
	assert.NotContains(t, seven, `{cpu="5"}`)
}

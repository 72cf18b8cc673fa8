package prometheus_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// gridServer is a small Prometheus that holds the raw samples of one
// gauge, cpu{instance="i-1"}, and evaluates avg_over_time over them with
// the range semantics of its version: [t−r, t] for 2.x, (t−r, t] for 3.x.
// It stands in for a Prometheus 3, which the tests cannot start.
type gridServer struct {
	version string
	samples []provider.Sample
	// align, when set, evaluates range queries from their start rounded
	// down to a multiple of the step, as a query frontend that aligns
	// queries with their step (Cortex, Mimir) does.
	align bool
}

var avgOverTime = regexp.MustCompile(`^avg_over_time\(cpu\{ instance="i-1" \}\[(\d+)ms\]\)$`)

// parseTime reads a time parameter as Prometheus does: float seconds, at
// millisecond precision.
func parseTime(t *testing.T, s string) time.Time {
	t.Helper()
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Errorf("time %q: %v", s, err)
	}
	return time.UnixMilli(int64(math.Round(f * 1000)))
}

func (g *gridServer) eval(window time.Duration, at time.Time) (float64, bool) {
	leftOpen := strings.HasPrefix(g.version, "3.")
	var sum float64
	var n int
	for _, s := range g.samples {
		from := at.Add(-window)
		in := !s.Time.After(at) && (s.Time.After(from) || !leftOpen && s.Time.Equal(from))
		if in {
			sum += s.Value
			n++
		}
	}
	return sum / float64(n), n > 0
}

func formatTime(ts time.Time) string {
	return strconv.FormatFloat(float64(ts.UnixMilli())/1000, 'f', 3, 64)
}

func (g *gridServer) start(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !assert.NoError(t, r.ParseForm()) {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		q := r.Form.Get("query")
		m := avgOverTime.FindStringSubmatch(q)
		var window time.Duration
		if m != nil {
			ms, err := strconv.Atoi(m[1])
			if !assert.NoError(t, err) {
				http.Error(w, "bad window", http.StatusBadRequest)
				return
			}
			window = time.Duration(ms) * time.Millisecond
		}
		answer := func(resultType, result string) {
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"` + resultType + `","result":` + result + `}}`))
		}
		switch r.URL.Path {
		case "/api/v1/status/buildinfo":
			_, _ = w.Write([]byte(`{"status":"success","data":{"version":"` + g.version + `"}}`))
		case "/api/v1/query":
			switch {
			case strings.HasPrefix(q, "last_over_time(up{"):
				answer("vector", `[{"metric":{"__name__":"up","instance":"i-1"},"value":[1700000000,"1"]}]`)
			case m != nil:
				at := parseTime(t, r.Form.Get("time"))
				v, ok := g.eval(window, at)
				if !ok {
					answer("vector", `[]`)
					return
				}
				answer("vector", `[{"metric":{"instance":"i-1"},"value":[`+formatTime(at)+`,"`+strconv.FormatFloat(v, 'g', -1, 64)+`"]}]`)
			default:
				t.Errorf("unexpected instant query %s", q)
				http.Error(w, "unexpected query", http.StatusBadRequest)
			}
		case "/api/v1/query_range":
			if m == nil {
				t.Errorf("unexpected range query %s", q)
				http.Error(w, "unexpected query", http.StatusBadRequest)
				return
			}
			start, end := parseTime(t, r.Form.Get("start")), parseTime(t, r.Form.Get("end"))
			step, err := strconv.ParseFloat(r.Form.Get("step"), 64)
			if !assert.NoError(t, err) || step <= 0 {
				http.Error(w, "bad step", http.StatusBadRequest)
				return
			}
			if g.align {
				d := time.Duration(step * float64(time.Second))
				start, end = start.Truncate(d), end.Truncate(d)
			}
			var points []string
			for at := start; !at.After(end); at = at.Add(time.Duration(step * float64(time.Second))) {
				if v, ok := g.eval(window, at); ok {
					points = append(points, `[`+formatTime(at)+`,"`+strconv.FormatFloat(v, 'g', -1, 64)+`"]`)
				}
			}
			if len(points) == 0 {
				answer("matrix", `[]`)
				return
			}
			answer("matrix", `[{"metric":{"instance":"i-1"},"values":[`+strings.Join(points, ",")+`]}]`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Every step, the last one cut short by End included, reduces exactly the
// samples provider.Resample gives it, on servers of both range semantics:
// samples on the steps' boundaries and at End itself belong to the right
// step or to none.
func TestGridMatchesResampleOnBothRangeSemantics(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var samples []provider.Sample
	for i := range 13 { // every 30s from start to start+6m, all on boundaries
		samples = append(samples, provider.Sample{Time: start.Add(time.Duration(i) * 30 * time.Second), Value: float64(i + 1)})
	}
	for _, version := range []string{"2.42.0", "3.1.0"} {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			g := &gridServer{version: version, samples: samples}
			src := newSource(t, prometheus.Config{Address: g.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}})
			for _, end := range []time.Duration{3 * time.Minute, 2*time.Minute + 30*time.Second, 2*time.Minute + 45*time.Second, 2*time.Minute + 1*time.Millisecond} {
				q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start, End: start.Add(end), Step: time.Minute}
				want, err := provider.Resample(q, samples)
				require.NoError(t, err)
				got, err := src.QueryMetric(t.Context(), q)
				require.NoError(t, err)
				assert.Equal(t, want.Values, got.Values, "end start+%s", end)
			}
		})
	}
}

// A NaN the server returns (0/0 in a template, a NaN sample) is a gap and,
// like an infinity, reported to the warning function, in a full step and
// in the last one cut short by End.
func TestNaNResultIsAReportedGap(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	samples := []provider.Sample{
		{Time: start, Value: 1},
		{Time: start.Add(time.Minute), Value: math.NaN()},
		{Time: start.Add(2 * time.Minute), Value: math.Inf(1)},
		{Time: start.Add(3 * time.Minute), Value: math.NaN()},
	}
	g := &gridServer{version: "2.42.0", samples: samples}
	var mu sync.Mutex
	var warnings []string
	src := newSource(t, prometheus.Config{Address: g.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}},
		prometheus.WithWarningFunc(func(w prometheus.Warning) {
			mu.Lock()
			defer mu.Unlock()
			warnings = append(warnings, w.Warnings...)
		}))
	q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start, End: start.Add(3*time.Minute + 30*time.Second), Step: time.Minute}
	got, err := src.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, got.Values, 4)
	assert.InDelta(t, 1, got.Values[0], 0)
	for k := 1; k < 4; k++ {
		assert.True(t, provider.IsGap(got.Values[k]), "step %d: %v", k, got.Values[k])
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Len(t, warnings, 3, "one warning for each non-finite step: %q", warnings)
}

// A server that answers a range query at other times than asked (a query
// frontend that aligns queries with their step) would put each window's
// value on a step it does not describe: the answer is refused as
// ErrBadResult instead of read shifted by a fraction of a step.
func TestPointsOffTheGridAreRefused(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 2, 0, 0, time.UTC) // 2m after a multiple of the 5m step
	var samples []provider.Sample
	for i := range 60 {
		samples = append(samples, provider.Sample{Time: start.Add(time.Duration(i) * 30 * time.Second), Value: float64(i % 7)})
	}
	q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start, End: start.Add(30 * time.Minute), Step: 5 * time.Minute}
	cfg := func(g *gridServer) prometheus.Config {
		return prometheus.Config{Address: g.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}}
	}
	aligned := &gridServer{version: "2.42.0", samples: samples, align: true}
	_, err := newSource(t, cfg(aligned)).QueryMetric(t.Context(), q)
	require.ErrorIs(t, err, prometheus.ErrBadResult)
	assert.Contains(t, err.Error(), "off the grid")

	// The same server evaluating where asked is read as Resample reads it.
	exact := &gridServer{version: "2.42.0", samples: samples}
	got, err := newSource(t, cfg(exact)).QueryMetric(t.Context(), q)
	require.NoError(t, err)
	want, err := provider.Resample(q, samples)
	require.NoError(t, err)
	assert.Equal(t, want.Values, got.Values)
}

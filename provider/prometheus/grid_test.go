package prometheus_test

import (
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
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
	// queries with their step (Thanos, Cortex, Mimir) does.
	align bool
	// move, when set, evaluates range queries this much after their
	// start: a frontend that moved the query elsewhere.
	move time.Duration
	// ranges counts the range queries answered.
	ranges atomic.Int64
}

var avgOverTime = regexp.MustCompile(`^avg_over_time\(cpu\{ instance="i-1" \}\[(\d+)ms\](?: offset (\d+)ms)?\)$`)

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
		var window, offset time.Duration
		if m != nil {
			ms, err := strconv.Atoi(m[1])
			if !assert.NoError(t, err) {
				http.Error(w, "bad window", http.StatusBadRequest)
				return
			}
			window = time.Duration(ms) * time.Millisecond
			if m[2] != "" {
				ms, err := strconv.Atoi(m[2])
				if !assert.NoError(t, err) {
					http.Error(w, "bad offset", http.StatusBadRequest)
					return
				}
				offset = time.Duration(ms) * time.Millisecond
			}
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
				v, ok := g.eval(window, at.Add(-offset))
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
			g.ranges.Add(1)
			if g.align {
				// start / step * step in milliseconds since the epoch, as
				// Thanos' and Cortex's step alignment does (not
				// time.Truncate, which counts from the zero time).
				ms := int64(math.Round(step * 1000))
				start, end = time.UnixMilli(start.UnixMilli()/ms*ms), time.UnixMilli(end.UnixMilli()/ms*ms)
			}
			start, end = start.Add(g.move), end.Add(g.move)
			var points []string
			for at := start; !at.After(end); at = at.Add(time.Duration(step * float64(time.Second))) {
				if v, ok := g.eval(window, at.Add(-offset)); ok {
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
// in the last one cut short by End: one warning for each query that
// answered non-finite values, counting them.
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
	// Every non-finite step is reported: the range query's two in one
	// warning that counts them (TestNaNDayIsOneCountedWarning), the cut
	// last step's in its own.
	require.Len(t, warnings, 2, "one warning for each query with non-finite steps: %q", warnings)
	assert.Contains(t, warnings[0], "2 values from step 1 at 2026-01-01T00:01:00Z to step 2 at 2026-01-01T00:02:00Z")
	assert.Contains(t, warnings[0], "NaN, +Inf")
	assert.Contains(t, warnings[1], "NaN at 2026-01-01T00:03:29Z is not finite")
}

// A query frontend that aligns range queries with their step (Thanos'
// by default) leaves the driver's where they are: they are asked at
// multiples of the step, with an offset that moves each window back onto
// its step, so every step is read as Resample reads it, for a start that
// is not a multiple of the step, one that is, and on both range
// semantics. A server that answers at other times than asked would put
// each window's value on a step it does not describe: that answer is
// refused as ErrBadResult instead of read shifted by a fraction of a step.
func TestStepAligningFrontendReadsTheSameSteps(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var samples []provider.Sample
	for i := range 80 {
		samples = append(samples, provider.Sample{Time: base.Add(time.Duration(i) * 30 * time.Second), Value: float64(i % 7)})
	}
	cfg := func(g *gridServer) prometheus.Config {
		return prometheus.Config{Address: g.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}}
	}
	for _, version := range []string{"2.42.0", "3.1.0"} {
		for _, start := range []time.Time{base, base.Add(2 * time.Minute), base.Add(2*time.Minute + 30*time.Second + 7*time.Millisecond)} {
			for _, align := range []bool{false, true} {
				g := &gridServer{version: version, samples: samples, align: align}
				src := newSource(t, cfg(g))
				for _, step := range []time.Duration{time.Minute, 5 * time.Minute, 7 * time.Minute} {
					q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start, End: start.Add(6 * step), Step: step}
					want, err := provider.Resample(q, samples)
					require.NoError(t, err)
					got, err := src.QueryMetric(t.Context(), q)
					require.NoError(t, err, "%s, start %s, step %s, aligned %v", version, start.Format(time.TimeOnly), step, align)
					assert.Equal(t, want.Values, got.Values, "%s, start %s, step %s, aligned %v", version, start.Format(time.TimeOnly), step, align)
				}
				assert.Equal(t, int64(3), g.ranges.Load(), "one range query per call")
			}
		}
	}

	// A frontend that moves the query by anything but whole steps.
	q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: base.Add(2 * time.Minute), End: base.Add(32 * time.Minute), Step: 5 * time.Minute}
	for _, move := range []time.Duration{time.Millisecond, -time.Millisecond, 2 * time.Minute} {
		moved := &gridServer{version: "2.42.0", samples: samples, move: move}
		_, err := newSource(t, cfg(moved)).QueryMetric(t.Context(), q)
		require.ErrorIs(t, err, prometheus.ErrBadResult, "moved by %s", move)
		assert.Contains(t, err.Error(), "off the grid")
	}
}

// A start between two milliseconds is read at millisecond precision as
// the server reads a time, rounded to the nearest: the range queries'
// windows end where the cut last step's instant query (whose time the
// server rounds) begins, so a sample on the boundary between them is
// read once, in the step Resample gives it, and none before Start is
// read, whether or not the frontend aligns the query with its step.
func TestSubMillisecondStartReadsEachSampleOnce(t *testing.T) {
	t.Parallel()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var samples []provider.Sample
	for i := range 20 {
		samples = append(samples, provider.Sample{Time: base.Add(time.Duration(i) * 30 * time.Second), Value: float64(i + 1)})
	}
	start := base.Add(600 * time.Microsecond)
	for _, version := range []string{"2.42.0", "3.1.0"} {
		for _, align := range []bool{false, true} {
			g := &gridServer{version: version, samples: samples, align: align}
			src := newSource(t, prometheus.Config{Address: g.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}})
			for _, end := range []time.Duration{3 * time.Minute, 2*time.Minute + 30*time.Second} {
				q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start, End: start.Add(end), Step: time.Minute}
				want, err := provider.Resample(q, samples)
				require.NoError(t, err)
				got, err := src.QueryMetric(t.Context(), q)
				require.NoError(t, err)
				assert.Equal(t, want.Values, got.Values, "%s, aligned %v, end start+%s", version, align, end)
			}
		}
	}
}

// A day of NaN at one-minute steps (a template dividing by a counter that
// stopped) is 1,440 gaps, reported as one warning that counts them and
// names the first and the last, not as one warning string for each step:
// the warning function's Warning and the log line held 1,440 strings.
func TestNaNDayIsOneCountedWarning(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var samples []provider.Sample
	for i := range 24 * 60 {
		samples = append(samples, provider.Sample{Time: start.Add(time.Duration(i) * time.Minute), Value: math.NaN()})
	}
	g := &gridServer{version: "2.42.0", samples: samples}
	var mu sync.Mutex
	var warnings []prometheus.Warning
	src := newSource(t, prometheus.Config{Address: g.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}},
		prometheus.WithWarningFunc(func(w prometheus.Warning) {
			mu.Lock()
			defer mu.Unlock()
			warnings = append(warnings, w)
		}))
	q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start, End: start.Add(24 * time.Hour), Step: time.Minute}
	got, err := src.QueryMetric(t.Context(), q)
	require.NoError(t, err)
	require.Len(t, got.Values, 24*60)
	assert.Equal(t, got.Len(), got.Gaps())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, warnings, 1, "one answer, one call")
	require.Len(t, warnings[0].Warnings, 1, "one warning for the answer's non-finite steps, not one each")
	w := warnings[0].Warnings[0]
	assert.Contains(t, w, "1440 values")
	assert.Contains(t, w, "not finite")
	assert.Contains(t, w, "NaN")
	assert.Contains(t, w, "from step 0 at 2026-01-01T00:00:00Z", "the first, by the start of its step")
	assert.Contains(t, w, "to step 1439 at 2026-01-01T23:59:00Z", "the last")
}

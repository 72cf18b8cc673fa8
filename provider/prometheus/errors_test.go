package prometheus_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/promtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

func someQuery(id string) provider.Query {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return provider.Query{ResourceID: id, Metric: provider.MetricCPU, Start: start, End: start.Add(time.Hour), Step: 5 * time.Minute}
}

// A server that is down: nothing listens on the port.
func TestServerDown(t *testing.T) {
	t.Parallel()
	port, err := promtest.FreePort()
	require.NoError(t, err)
	src := newSource(t, prometheus.Config{Address: "http://127.0.0.1:" + strconv.Itoa(port)})
	_, err = src.QueryMetric(t.Context(), someQuery("i-1"))
	require.ErrorIs(t, err, prometheus.ErrUnavailable)
	var ue *url.Error
	require.ErrorAs(t, err, &ue)
	_, err = src.List(t.Context(), provider.Filter{})
	require.ErrorIs(t, err, prometheus.ErrUnavailable)
	_, err = src.Activity(t.Context(), provider.ActivityQuery{ResourceID: "i-1", Start: someQuery("").Start, End: someQuery("").End})
	require.ErrorIs(t, err, prometheus.ErrUnavailable)
}

// A server that never answers: the caller's deadline ends the call, and the
// error says so (not "unavailable").
func TestSlowServer(t *testing.T) {
	t.Parallel()
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice the client hanging up.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs before srv.Close
	src := newSource(t, prometheus.Config{Address: srv.URL})
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	_, err := src.QueryMetric(ctx, someQuery("i-1"))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, prometheus.ErrUnavailable)
	var qe *prometheus.QueryError
	require.ErrorAs(t, err, &qe)
	assert.Contains(t, qe.Query, "up{")
}

// fakeServer answers the query endpoints like Prometheus would, with one
// target i-1 and a constant series, or with a fixed HTTP status.
type fakeServer struct {
	// status, when not 200, is every answer's status.
	status int
	// warnings are attached to every answer (to range answers only with
	// rangeOnly), and infos too.
	warnings, infos []string
	rangeOnly       bool
	// version is the build information's version; "" answers 404.
	version string
	// buildinfo, when set, is the build information's data object
	// (JSON), in place of version's.
	buildinfo string
	// buildFailures is how many build information requests first answer
	// 500.
	buildFailures int
	// vector, when set, is the result of every instant query (JSON).
	vector string

	mu      sync.Mutex
	queries []string // every PromQL received, in order
	builds  int      // build information requests
}

func (f *fakeServer) start(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if f.status != 0 && f.status != http.StatusOK {
			http.Error(w, "nope", f.status)
			return
		}
		if !assert.NoError(t, r.ParseForm()) {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		if q := r.Form.Get("query"); q != "" {
			f.queries = append(f.queries, q)
		}
		f.mu.Unlock()
		warn := `"warnings":["` + strings.Join(f.warnings, `","`) + `"]`
		if len(f.warnings) == 0 {
			warn = `"warnings":[]`
		}
		if len(f.infos) > 0 {
			warn += `,"infos":["` + strings.Join(f.infos, `","`) + `"]`
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/status/buildinfo":
			f.mu.Lock()
			f.builds++
			failing := f.builds <= f.buildFailures
			f.mu.Unlock()
			if failing {
				http.Error(w, "boom", http.StatusInternalServerError)
				return
			}
			if f.buildinfo != "" {
				_, _ = w.Write([]byte(`{"status":"success","data":` + f.buildinfo + `}`))
				return
			}
			if f.version == "" {
				http.NotFound(w, r)
				return
			}
			_, _ = w.Write([]byte(`{"status":"success","data":{"version":"` + f.version + `"}}`))
		case "/api/v1/query":
			vector := f.vector
			if vector == "" {
				vector = `[{"metric":{"__name__":"up","instance":"i-1","job":"x"},"value":[1700000000,"1"]}]`
			}
			if f.rangeOnly {
				warn = `"warnings":[]`
			}
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":` + vector + `},` + warn + `}`))
		case "/api/v1/query_range":
			start, err := strconv.ParseFloat(r.Form.Get("start"), 64)
			if !assert.NoError(t, err) {
				http.Error(w, "bad start", http.StatusBadRequest)
				return
			}
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"instance":"i-1"},"values":[[` +
				strconv.FormatFloat(start, 'f', 3, 64) + `,"0.25"]]}]},` + warn + `}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func (f *fakeServer) received() ([]string, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.queries...), f.builds
}

func TestStatusCodesMapOntoSentinels(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give int
		want error
	}{
		{http.StatusTooManyRequests, provider.ErrThrottled},
		{http.StatusServiceUnavailable, prometheus.ErrUnavailable},
		{http.StatusBadGateway, prometheus.ErrUnavailable},
		{http.StatusGatewayTimeout, prometheus.ErrUnavailable},
		// Basic auth (the server's web config) or a proxy in front
		// refusing the credentials: denied, not "bad query" or an
		// outage.
		{http.StatusUnauthorized, provider.ErrDenied},
		{http.StatusForbidden, provider.ErrDenied},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.give), func(t *testing.T) {
			t.Parallel()
			src := newSource(t, prometheus.Config{Address: (&fakeServer{status: tt.give}).start(t).URL})
			_, err := src.Get(t.Context(), "i-1")
			require.ErrorIs(t, err, tt.want)
			assert.Equal(t, errors.Is(tt.want, provider.ErrDenied), errors.Is(err, provider.ErrDenied), "%v", err)
			assert.Equal(t, errors.Is(tt.want, prometheus.ErrUnavailable), errors.Is(err, prometheus.ErrUnavailable), "%v", err)
			var se *prometheus.StatusError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, tt.give, se.Code)
			assert.Contains(t, err.Error(), strconv.Itoa(tt.give), "the message names the status")
		})
	}
}

// Warnings attached to answers reach the warning function and the log
// (read as complete with Config.AcceptWarnings).
func TestWarningsSurfaced(t *testing.T) {
	t.Parallel()
	srv := (&fakeServer{warnings: []string{"remote store failed: partial result"}, version: "2.42.0"}).start(t)
	var mu sync.Mutex
	var got []prometheus.Warning
	var logs bytes.Buffer
	src := newSource(t, prometheus.Config{Address: srv.URL, AcceptWarnings: true},
		prometheus.WithLogger(slog.New(slog.NewTextHandler(&syncBuffer{b: &logs}, nil))),
		prometheus.WithWarningFunc(func(w prometheus.Warning) {
			mu.Lock()
			defer mu.Unlock()
			got = append(got, w)
		}))
	series, err := src.QueryMetric(t.Context(), someQuery("i-1"))
	require.NoError(t, err)
	assert.InDelta(t, 0.25, series.Values[0], 0)
	assert.Equal(t, series.Len()-1, series.Gaps())
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, got, 2, "one warning from the targets query, one from the range query")
	for _, w := range got {
		assert.Equal(t, []string{"remote store failed: partial result"}, w.Warnings)
		assert.NotEmpty(t, w.Query)
	}
	assert.Contains(t, got[1].Query, "avg_over_time(")
	assert.Contains(t, logs.String(), "partial result")
}

// The windows fit the server's range semantics: on Prometheus 2.x ranges
// include their start, so a 5-minute step is read over 299999ms; on 3.x
// they exclude it, so over 300000ms. The version is asked once.
func TestRangeSemantics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		version    string
		give       prometheus.Ranges
		wantWindow string
		wantBuilds int
	}{
		{"prometheus 2", "2.42.0+ds", prometheus.RangesAuto, "[299999ms]", 1},
		{"prometheus 3", "3.1.0", prometheus.RangesAuto, "[300000ms]", 1},
		{"no build information", "", prometheus.RangesAuto, "[299999ms]", 1},
		{"configured left-open", "", prometheus.RangesLeftOpen, "[300000ms]", 0},
		{"configured closed", "3.1.0", prometheus.RangesClosed, "[299999ms]", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := &fakeServer{version: tt.version}
			src := newSource(t, prometheus.Config{Address: f.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}, Ranges: tt.give})
			for range 2 {
				_, err := src.QueryMetric(t.Context(), someQuery("i-1"))
				require.NoError(t, err)
			}
			queries, builds := f.received()
			assert.Equal(t, tt.wantBuilds, builds)
			require.Len(t, queries, 4, "targets and range query, twice")
			assert.Equal(t, `avg_over_time(cpu{ instance="i-1" }`+tt.wantWindow+` offset 1ms)`, queries[1], "asked at the multiples of the step, each window moved back onto its step")
		})
	}
	require.ErrorIs(t, prometheus.Config{Address: "http://x:1", Ranges: "half-open"}.Validate(), provider.ErrInvalid)
}

// A server error while asking the version is not "no build information":
// the call fails and the next one asks again, instead of settling on
// ranges that include their start for good, which on Prometheus 3.x would
// drop every sample at a step's first millisecond (a backfilled trace on
// the step's grid: all of them).
func TestRangesNotGuessedFromAServerError(t *testing.T) {
	t.Parallel()
	f := &fakeServer{version: "3.1.0", buildFailures: 1}
	src := newSource(t, prometheus.Config{Address: f.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}})
	_, err := src.QueryMetric(t.Context(), someQuery("i-1"))
	require.Error(t, err, "the version could not be read")
	assert.Contains(t, err.Error(), "set config.ranges", "the error says how to need no build information")
	_, err = src.QueryMetric(t.Context(), someQuery("i-1"))
	require.NoError(t, err)
	queries, builds := f.received()
	assert.Equal(t, 2, builds, "asked again after the failure")
	assert.Equal(t, `avg_over_time(cpu{ instance="i-1" }[300000ms] offset 1ms)`, queries[len(queries)-1], "the windows of Prometheus 3")
}

// TestRangesText checks that Config.Ranges reads and writes its plain
// value in JSON and that a misspelt one fails the decoding, naming it.
func TestRangesText(t *testing.T) {
	t.Parallel()
	for _, r := range []prometheus.Ranges{prometheus.RangesAuto, prometheus.RangesClosed, prometheus.RangesLeftOpen} {
		require.NoError(t, r.Validate())
		data, err := json.Marshal(prometheus.Config{Address: "http://x:1", Ranges: r})
		require.NoError(t, err)
		var back prometheus.Config
		require.NoError(t, json.Unmarshal(data, &back))
		assert.Equal(t, r, back.Ranges)
		assert.Equal(t, string(r), r.String())
	}
	var cfg prometheus.Config
	require.NoError(t, json.Unmarshal([]byte(`{"address":"http://x:1","ranges":"left_open"}`), &cfg))
	assert.Equal(t, prometheus.RangesLeftOpen, cfg.Ranges)
	err := json.Unmarshal([]byte(`{"address":"http://x:1","ranges":"left-open"}`), &cfg)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "ranges", ie.Field)
	assert.Equal(t, "left-open", ie.Value)
	var field *provider.InvalidError
	require.ErrorAs(t, prometheus.Config{Address: "http://x:1", Ranges: "half-open"}.Validate(), &field)
	assert.Equal(t, "config.ranges", field.Field)
}

// Targets of one ID from several jobs merge (running if any is up, labels
// of the first); a target whose ID label is not a usable resource ID is
// skipped; a series without the ID label is an error.
func TestInventoryMapping(t *testing.T) {
	t.Parallel()
	f := &fakeServer{vector: `[
		{"metric":{"__name__":"up","instance":"h-1","job":"b"},"value":[1700000000,"1"]},
		{"metric":{"__name__":"up","instance":"h-1","job":"a","region":"eu-1"},"value":[1700000000,"0"]},
		{"metric":{"__name__":"up","instance":"has space","job":"a"},"value":[1700000000,"1"]},
		{"metric":{"__name__":"up","instance":"h-2","job":"a","owner":"team-x","name":"db"},"value":[1700000000,"0"]}]`}
	var logs bytes.Buffer
	src := newSource(t, prometheus.Config{Address: f.start(t).URL, NameLabel: "name", Kind: provider.KindDatabase},
		prometheus.WithLogger(slog.New(slog.NewTextHandler(&syncBuffer{b: &logs}, nil))))
	got, err := src.List(t.Context(), provider.Filter{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, "h-1", got[0].ID)
	assert.Equal(t, provider.StateRunning, got[0].State, "up in job b")
	assert.Equal(t, "a", got[0].Tags["job"], "labels of the first series in label order")
	assert.Equal(t, "eu-1", got[0].Region)
	assert.Equal(t, provider.KindDatabase, got[0].Kind)
	assert.Equal(t, "h-2", got[1].ID)
	assert.Equal(t, provider.StateStopped, got[1].State)
	assert.Equal(t, "team-x", got[1].Owner)
	assert.Equal(t, "db", got[1].Name)
	assert.Contains(t, logs.String(), "has space")

	bad := &fakeServer{vector: `[{"metric":{"__name__":"up","job":"a"},"value":[1700000000,"1"]}]`}
	_, err = newSource(t, prometheus.Config{Address: bad.start(t).URL}).List(t.Context(), provider.Filter{})
	require.ErrorIs(t, err, prometheus.ErrBadResult)
}

// WithRoundTripper's transport carries every request.
func TestWithRoundTripper(t *testing.T) {
	t.Parallel()
	f := &fakeServer{}
	var mu sync.Mutex
	var paths []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		paths = append(paths, r.URL.Path)
		mu.Unlock()
		return http.DefaultTransport.RoundTrip(r)
	})
	src := newSource(t, prometheus.Config{Address: f.start(t).URL}, prometheus.WithRoundTripper(rt))
	_, err := src.Get(t.Context(), "i-1")
	require.NoError(t, err)
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []string{"/api/v1/query"}, paths)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type syncBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	const addr = "http://127.0.0.1:9090"
	tests := []struct {
		name      string
		give      prometheus.Config
		wantField string
	}{
		{"no address", prometheus.Config{}, "config.address"},
		{"address without scheme", prometheus.Config{Address: "127.0.0.1:9090"}, "config.address"},
		{"template does not parse", prometheus.Config{Address: addr, Metrics: map[provider.Metric]string{provider.MetricCPU: `x{ {{.Matchers }`}}, "config.metrics[cpu]"},
		{"unknown template field", prometheus.Config{Address: addr, Metrics: map[provider.Metric]string{provider.MetricCPU: `x{ {{.Instance}} }`}}, "config.metrics[cpu]"},
		{"template ignores the resource", prometheus.Config{Address: addr, Metrics: map[provider.Metric]string{provider.MetricCPU: `avg(node_load1)`}}, "config.metrics[cpu]"},
		{"unbalanced brackets", prometheus.Config{Address: addr, Metrics: map[provider.Metric]string{provider.MetricMemory: `rate(x{ {{.Matchers}} }[5m]`}}, "config.metrics[memory]"},
		{"unterminated string", prometheus.Config{Address: addr, Metrics: map[provider.Metric]string{provider.MetricMemory: `x{ {{.Matchers}}, mode="idle }`}}, "config.metrics[memory]"},
		{"triple brace", prometheus.Config{Address: addr, Metrics: map[provider.Metric]string{provider.MetricMemory: `x{{{.Matchers}}}`}}, "config.metrics[memory]"},
		{"unknown metric name", prometheus.Config{Address: addr, Metrics: map[provider.Metric]string{"gpu": `x{ {{.Matchers}} }`}}, "config.metrics[gpu]"},
		{"unknown activity kind", prometheus.Config{Address: addr, Activity: map[provider.ActivityKind]string{"naps": `x{ {{.Matchers}} }`}}, "config.activity.kind"},
		{"bad activity template", prometheus.Config{Address: addr, Activity: map[provider.ActivityKind]string{provider.ActivityLogins: `sum(logins_total)`}}, "config.activity[logins]"},
		{"bad targets template", prometheus.Config{Address: addr, Targets: `up`}, "config.targets"},
		{"bad id label", prometheus.Config{Address: addr, IDLabel: "host-name"}, "config.id_label"},
		{"bad kind", prometheus.Config{Address: addr, Kind: "spaceship"}, "config.kind"},
		{"negative lookback", prometheus.Config{Address: addr, Lookback: -time.Minute}, "config.lookback"},
		{"sub-millisecond resolution", prometheus.Config{Address: addr, Resolution: time.Microsecond}, "config.resolution"},
		{"too many points", prometheus.Config{Address: addr, MaxPoints: 11001}, "config.max_points"},
		{"negative points", prometheus.Config{Address: addr, MaxPoints: -1}, "config.max_points"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.give.Validate()
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.wantField, ie.Field)
			_, err = prometheus.New(tt.give)
			require.ErrorIs(t, err, provider.ErrInvalid)
		})
	}
	valid := []prometheus.Config{
		{Address: addr},
		{Address: "https://prom.example.com/prefix", IDLabel: "node", Kind: provider.KindDatabase, MaxPoints: 11000},
		{Address: addr, Metrics: map[provider.Metric]string{
			provider.MetricCPU:                  "", // removes the default
			provider.CustomMetric("queue"):      `sum by (queue) (queue_depth{ {{.Matchers}}, env="{{index .Labels "environment"}}" })`,
			provider.MetricConnections:          `pg_stat_activity_count{{.Selector}}`,
			provider.CustomMetric("by-id-only"): `foo{host="{{.ID}}"} # the id directly`,
		}},
	}
	for _, cfg := range valid {
		require.NoError(t, cfg.Validate(), "%+v", cfg)
	}
}

// An answer with warnings may lack data (Thanos' partial response, a
// remote store that failed): by default it fails the call with
// ErrPartialResult naming the warning, after reaching the warning
// function, so that a CPU series missing part of its samples never reads
// as idle. Infos alone fail nothing.
func TestPartialResultIsRefused(t *testing.T) {
	t.Parallel()
	const warning = "partial response: store 10.0.0.7:10901 unavailable"
	srv := (&fakeServer{warnings: []string{warning}, version: "2.42.0"}).start(t)
	var mu sync.Mutex
	var got []prometheus.Warning
	src := newSource(t, prometheus.Config{Address: srv.URL}, prometheus.WithWarningFunc(func(w prometheus.Warning) {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, w)
	}))
	_, err := src.List(t.Context(), provider.Filter{})
	require.ErrorIs(t, err, prometheus.ErrPartialResult, "the targets query: a partial fleet")
	_, err = src.QueryMetric(t.Context(), someQuery("i-1"))
	require.ErrorIs(t, err, prometheus.ErrPartialResult)
	var qe *prometheus.QueryError
	require.ErrorAs(t, err, &qe)
	assert.Contains(t, err.Error(), warning)
	assert.Contains(t, err.Error(), "config.accept_warnings")
	mu.Lock()
	assert.NotEmpty(t, got, "the warning function still hears of it")
	mu.Unlock()

	// The range query alone carries the warning: the series is refused,
	// not read as complete.
	ranged := (&fakeServer{warnings: []string{warning}, rangeOnly: true, version: "2.42.0"}).start(t)
	_, err = newSource(t, prometheus.Config{Address: ranged.URL}).QueryMetric(t.Context(), someQuery("i-1"))
	require.ErrorIs(t, err, prometheus.ErrPartialResult)
	assert.Contains(t, err.Error(), "avg_over_time(", "the range query is named")

	infos := (&fakeServer{infos: []string{"PromQL info: metric might not be a counter"}, version: "2.50.0"}).start(t)
	s, err := newSource(t, prometheus.Config{Address: infos.URL}).QueryMetric(t.Context(), someQuery("i-1"))
	require.NoError(t, err, "infos fail nothing")
	assert.InDelta(t, 0.25, s.Values[0], 0)

	s, err = newSource(t, prometheus.Config{Address: srv.URL, AcceptWarnings: true}).QueryMetric(t.Context(), someQuery("i-1"))
	require.NoError(t, err, "config.accept_warnings reads it as complete")
	assert.InDelta(t, 0.25, s.Values[0], 0)
}

// TestInventoryVolumeStateIsRunning: a volume is stopped only while
// detached (provider.State), and the detector recommends deleting only a
// stopped one; scrapes cannot tell whether a volume is attached, so a
// volume target reads as running (attached) whether it is up or down:
// an exporter that stopped answering does not make the volume of an
// instance look detached and deletable.
func TestInventoryVolumeStateIsRunning(t *testing.T) {
	t.Parallel()
	f := &fakeServer{vector: `[
		{"metric":{"__name__":"up","instance":"vol-up","job":"a"},"value":[1700000000,"1"]},
		{"metric":{"__name__":"up","instance":"vol-down","job":"a"},"value":[1700000000,"0"]}]`}
	src := newSource(t, prometheus.Config{Address: f.start(t).URL, Kind: provider.KindVolume})
	got, err := src.List(t.Context(), provider.Filter{})
	require.NoError(t, err)
	require.Len(t, got, 2)
	for _, r := range got {
		assert.Equal(t, provider.KindVolume, r.Kind, r.ID)
		assert.Equal(t, provider.StateRunning, r.State, r.ID)
	}
}

package prometheus_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	promclient "github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/idlescale/idlescale/internal/promtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
	"github.com/idlescale/idlescale/trace"
)

// fixture is the one Prometheus the package's tests share: it scrapes a
// prometheus-node-exporter (job node, label team=infra), an exporter in
// this process (job app) and an address where nothing listens (job down),
// and holds a week of two real NAB CPU traces backfilled as
// cpu_utilization{job="nab",instance="nab-idle"|"nab-busy"} (a fraction)
// and as node-exporter counters node_cpu_seconds_total{job="nab-node",
// instance="nab-idle-node"|"nab-busy-node",cpu="0",mode="idle"}, with up = 1
// at the same times, shifted to end shortly before the start.
type fixture struct {
	srv  *promtest.Server
	app  *appExporter
	down string
	// nab holds the backfilled samples by instance.
	nab map[string][]provider.Sample
	// nabEnd is the end (exclusive) of the backfilled week.
	nabEnd time.Time
	// started is a time before the server started; ready a time after
	// its live targets had been scraped for a while.
	started, ready time.Time
}

// The fixture starts on first use (getFixture), so tests and fuzz workers
// that need no server start none; TestMain stops it.
var (
	fxOnce sync.Once
	fxVal  *fixture
	fxErr  error
)

// getFixture returns the shared server, starting it on the first call; it
// fails the test when the server cannot start (a missing binary included).
func getFixture(t testing.TB) *fixture {
	t.Helper()
	fxOnce.Do(func() { fxVal, fxErr = startFixture() })
	if fxErr != nil {
		t.Fatal(fxErr)
	}
	return fxVal
}

const (
	nabIdle = "nab-idle"
	nabBusy = "nab-busy"
	// nabStep is the NAB traces' sampling interval.
	nabStep = 5 * time.Minute
	// week of history that is backfilled.
	week = 7 * 24 * time.Hour
)

// nabFiles are the traces, from testdata/nab (see testdata/README.md):
// c6585a is an idle EC2 instance, 825cc2 a saturated one with two
// 10-minute gaps.
var nabFiles = map[string]string{
	nabIdle: "../../testdata/nab/ec2_cpu_utilization_c6585a.csv",
	nabBusy: "../../testdata/nab/ec2_cpu_utilization_825cc2.csv",
}

func TestMain(m *testing.M) {
	code := m.Run()
	if fxVal != nil {
		if err := fxVal.srv.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "provider/prometheus tests:", err)
		}
	}
	os.Exit(code)
}

func startFixture() (*fixture, error) {
	now := time.Now()
	nab, end, om, err := nabHistory(now)
	if err != nil {
		return nil, err
	}
	port, err := promtest.FreePort()
	if err != nil {
		return nil, err
	}
	app := newAppExporter()
	fx := &fixture{app: app, nab: nab, nabEnd: end, down: "127.0.0.1:" + strconv.Itoa(port), started: time.Now()}
	fx.srv, err = promtest.Start(promtest.Options{
		NodeExporter:       true,
		NodeExporterLabels: map[string]string{"team": "infra", "environment": "test"},
		Exporters:          []promtest.Exporter{{Job: "app", Handler: app.handler, Labels: map[string]string{"role": "web"}}},
		Targets:            []promtest.Target{{Job: "down", Address: fx.down}},
		OpenMetrics:        om,
	})
	if err != nil {
		return nil, err
	}
	ctx := context.Background()
	// Wait until both live targets were scraped for a while (tests read
	// the last ~12 s and rate() needs two samples), the dead one was tried,
	// and the backfill is queryable.
	waits := []struct {
		query string
		want  int
	}{
		{`up{job="down"} == 0`, 1},
		{`last_over_time(cpu_utilization{job="nab"}[1h])`, 2},
		{`count_over_time(up{job=~"node|app"}[20s]) >= 14`, 2},
	}
	for _, w := range waits {
		if err := fx.srv.WaitFor(ctx, w.query, w.want, 40*time.Second); err != nil {
			return nil, errors.Join(err, fx.srv.Stop())
		}
	}
	fx.ready = time.Now()
	return fx, nil
}

// nabHistory reads the last week of each NAB trace, shifts it to end at
// the last 5-minute boundary at least 5 minutes before now, and returns the
// samples, the end of the week and the OpenMetrics text to backfill.
func nabHistory(now time.Time) (map[string][]provider.Sample, time.Time, []byte, error) {
	last := now.Truncate(nabStep).Add(-nabStep)
	out := map[string][]provider.Sample{}
	var cpu, up, counter bytes.Buffer
	for _, id := range []string{nabBusy, nabIdle} {
		samples, err := trace.ReadCSVFile(nabFiles[id], trace.CSVOptions{Scale: 0.01})
		if err != nil {
			return nil, time.Time{}, nil, err
		}
		shift := last.Sub(samples[len(samples)-1].Time)
		from := last.Add(-week + nabStep)
		var kept []provider.Sample
		idle := 1e6 // node_cpu_seconds_total{mode="idle"} of a 1-CPU host
		for _, s := range samples {
			s.Time = s.Time.Add(shift)
			if s.Time.Before(from) {
				continue
			}
			if n := len(kept); n > 0 {
				// The previous sample's utilization held until this one.
				idle += (1 - kept[n-1].Value) * s.Time.Sub(kept[n-1].Time).Seconds()
			}
			kept = append(kept, s)
			ts := strconv.FormatInt(s.Time.Unix(), 10)
			fmt.Fprintf(&cpu, "cpu_utilization{job=\"nab\",instance=%q} %s %s\n", id, strconv.FormatFloat(s.Value, 'g', -1, 64), ts)
			fmt.Fprintf(&up, "up{job=\"nab\",instance=%q} 1 %s\n", id, ts)
			fmt.Fprintf(&up, "up{job=\"nab-node\",instance=%q} 1 %s\n", id+"-node", ts)
			fmt.Fprintf(&counter, "node_cpu_seconds_total{job=\"nab-node\",instance=%q,cpu=\"0\",mode=\"idle\"} %s %s\n", id+"-node", strconv.FormatFloat(idle, 'f', -1, 64), ts)
		}
		out[id] = kept
	}
	var om bytes.Buffer
	om.WriteString("# HELP cpu_utilization CPU utilization of an EC2 instance from NAB, a fraction.\n# TYPE cpu_utilization gauge\n")
	om.Write(cpu.Bytes())
	om.WriteString("# HELP node_cpu_seconds The NAB traces as node-exporter idle CPU seconds.\n# TYPE node_cpu_seconds counter\n")
	om.Write(counter.Bytes())
	om.WriteString("# TYPE up gauge\n")
	om.Write(up.Bytes())
	om.WriteString("# EOF\n")
	return out, last.Add(nabStep), om.Bytes(), nil
}

// appExporter is a small exporter served by the test process. It counts
// the HTTP requests it serves (Prometheus's scrapes) in http_requests_total
// and exposes gauges the tests read:
//
//	idlescale_test_load       a value that changes with every scrape: (7n mod 11)/10
//	idlescale_test_ephemeral  a series the staleness test removes
//	idlescale_test_multi      two series (shard a and b) for one target
type appExporter struct {
	handler   http.Handler
	scrapes   atomic.Int64
	ephemeral *promclient.GaugeVec
}

func newAppExporter() *appExporter {
	a := &appExporter{}
	reg := promclient.NewRegistry()
	requests := promclient.NewCounterVec(promclient.CounterOpts{Name: "http_requests_total", Help: "HTTP requests served."}, []string{"code", "method"})
	load := promclient.NewGaugeFunc(promclient.GaugeOpts{Name: "idlescale_test_load", Help: "A value that changes with every scrape."},
		func() float64 { return float64((7*a.scrapes.Load())%11) / 10 })
	a.ephemeral = promclient.NewGaugeVec(promclient.GaugeOpts{Name: "idlescale_test_ephemeral", Help: "A series that goes away."}, []string{"key"})
	multi := promclient.NewGaugeVec(promclient.GaugeOpts{Name: "idlescale_test_multi", Help: "Two series of one target."}, []string{"shard"})
	multi.WithLabelValues("a").Set(1)
	multi.WithLabelValues("b").Set(2)
	reg.MustRegister(requests, load, a.ephemeral, multi)
	inner := promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
	counted := promhttp.InstrumentHandlerCounter(requests, inner)
	a.handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a.scrapes.Add(1)
		counted.ServeHTTP(w, r)
	})
	return a
}

// liveConfig reads the live targets: windows short enough for a server
// that has run for seconds, a 1 s scrape interval.
func (fx *fixture) liveConfig() prometheus.Config {
	return prometheus.Config{
		Address:    fx.srv.URL,
		Lookback:   time.Hour,
		RateWindow: 4 * time.Second,
		Resolution: time.Second,
		Metrics: map[provider.Metric]string{
			provider.CustomMetric("load"):      `idlescale_test_load{ {{.Matchers}} }`,
			provider.CustomMetric("load2"):     `2 * idlescale_test_load{ {{.Matchers}} }`,
			provider.CustomMetric("ephemeral"): `idlescale_test_ephemeral{ {{.Matchers}} }`,
			provider.CustomMetric("eph2"):      `2 * idlescale_test_ephemeral{ {{.Matchers}} }`,
			provider.CustomMetric("multi"):     `idlescale_test_multi{ {{.Matchers}} }`,
			provider.CustomMetric("inf"):       `(idlescale_test_load{ {{.Matchers}} } + 1) / 0`,
			provider.CustomMetric("badpromql"): `rate(idlescale_test_load{ {{.Matchers}} })`,
		},
	}
}

// historyConfig reads the backfilled NAB traces: cpu is the gauge
// cpu_utilization, as a user template.
func (fx *fixture) historyConfig() prometheus.Config {
	return prometheus.Config{
		Address:  fx.srv.URL,
		Lookback: time.Hour,
		Metrics:  map[provider.Metric]string{provider.MetricCPU: `cpu_utilization{ {{.Matchers}} }`},
	}
}

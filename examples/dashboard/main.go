// Command dashboard serves idlescale's monitoring dashboard over the
// built-in in-memory cloud, with the reaper and the autoscaler running on a
// fast fake clock: the quickstart's fleet (real NAB CloudWatch traces)
// plays on, one simulated hour every second by default, for the two days
// the traces have left (48 s at the default speed; then the simulation
// stops there and the page stays up); the reaper runs
// every simulated hour and stops what is idle and safe to stop, asks for
// approval where the safety gate says so; the autoscaler scales asg-api,
// a group whose traffic is a real load-balancer trace (NAB's ELB request
// counts) and whose CPU follows from the instances ready, every simulated
// minute. Every step lands in the event log, the alerts, the charts
// (capacity against demand among them) and the realised savings on the
// page.
//
//	go run ./examples/dashboard            # then open http://127.0.0.1:8080/
//	go run ./examples/dashboard -addr 127.0.0.1:9000 -speed 600
//
// Approvals can be granted from the page by requests from this machine
// to this machine, opened as localhost or a loopback address (the
// example's Authorizer trusts them and calls the approver "local-admin";
// a real host names the signed-in person). Prometheus metrics are at
// /metrics, on the example's own registry.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/monitor/dashboard"
	"github.com/idlescale/idlescale/monitor/metrics"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/scaling"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to serve the dashboard on")
	speed := flag.Float64("speed", 3600, "simulated seconds per real second")
	flag.Parse()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *addr, *speed, logger); err != nil {
		fmt.Fprintln(os.Stderr, "dashboard:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, addr string, speed float64, logger *slog.Logger) error {
	start := time.Now().Truncate(time.Hour)
	clk := newFastClock(start, speed)
	d, err := setup(clk, defaultFleet(), logger)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d.mux, ReadHeaderTimeout: 10 * time.Second}
	logger.Info("dashboard: serving", "url", "http://"+ln.Addr().String()+"/", "speed", speed)
	var wg sync.WaitGroup
	wg.Go(func() { _ = d.reaper.Run(ctx) })
	wg.Go(func() { _ = d.alerts.Run(ctx) })
	wg.Go(func() { d.backups(ctx) })
	wg.Go(func() { _ = d.autoscaler.Run(ctx) })
	wg.Go(func() { d.traffic(ctx) })
	wg.Go(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	})
	err = srv.Serve(ln)
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// defaultFleet is the quickstart's fleet file, as a slash path inside
// repoRoot.
func defaultFleet() string { return "examples/quickstart/fleet.yaml" }

// repoRoot is the repository that holds the quickstart's fleet and the
// traces it reads (testdata/nab): a fleet file reads CSV files only from
// inside the root it is loaded from.
func repoRoot() string {
	if _, file, _, ok := runtime.Caller(0); ok {
		return filepath.Join(filepath.Dir(file), "..", "..")
	}
	return "."
}

// simClock is the simulated clock: a clock.Clock that can jump.
type simClock interface {
	clock.Clock
	set(t time.Time)
}

// demo is the example's wiring.
type demo struct {
	clock     simClock
	logger    *slog.Logger
	cloud     *memory.Cloud
	log       *monitor.Log
	alerts    *alert.Alerter
	approvals *approval.Manager
	reaper    *reaper.Reaper
	mux       *http.ServeMux

	autoscaler *scaling.Autoscaler
	demand     []provider.Sample // asg-api's traffic, requests a minute, shifted to the simulation
	lastCPU    time.Time         // the last CPU sample written
	feedMu     sync.Mutex
}

// lead is how much of the traces is left to play: the fleet is loaded as
// if it were lead later, so that its traces run on into the simulation.
const lead = 2 * 24 * time.Hour

// loadFleet loads the fleet at fleetPath, a slash path inside repoRoot,
// playing every trace twice back to back: the traces hold 14 days, the
// demo starts 2 days before they end (lead), and the detector recommends a
// stop only on 14 days of evidence.
func loadFleet(cloud *memory.Cloud, fleetPath string) error {
	root := repoRoot()
	f, err := os.Open(filepath.Join(root, filepath.FromSlash(fleetPath)))
	if err != nil {
		return err
	}
	defer f.Close()
	fleet, err := memory.ParseFleet(f)
	if err != nil {
		return fmt.Errorf("%s: %w", fleetPath, err)
	}
	dir := path.Dir(fleetPath)
	for i := range fleet.Resources {
		for j := range fleet.Resources[i].Metrics {
			if m := &fleet.Resources[i].Metrics[j]; m.CSV != "" {
				m.CSV = path.Join(dir, m.CSV) // relative to the root now
				m.Repeat = 2
			}
		}
	}
	return cloud.ApplyFleet(fleet, root)
}

func setup(clk simClock, fleetPath string, logger *slog.Logger) (*demo, error) {
	d := &demo{clock: clk, logger: logger}
	var err error
	if d.cloud, err = memory.New(memory.Config{}, memory.WithClock(clk)); err != nil {
		return nil, err
	}
	start := clk.Now()
	clk.set(start.Add(lead))
	err = loadFleet(d.cloud, fleetPath)
	clk.set(start) // the samples after now wait for the clock
	if err != nil {
		return nil, err
	}
	if err := d.snapshot(context.Background(), start.Add(-time.Hour)); err != nil {
		return nil, err
	}

	if d.alerts, err = alert.New(alert.Config{Interval: 15 * time.Minute}, alert.WithClock(clk),
		alert.WithFleet(alert.Fleet{Inventory: d.cloud, Metrics: d.cloud}),
		alert.WithNotifier("log", alert.NewLogNotifier(logger))); err != nil {
		return nil, err
	}
	collector, err := metrics.New(metrics.Config{}, metrics.WithAlerts(d.alerts), metrics.WithClock(clk))
	if err != nil {
		return nil, err
	}
	if d.log, err = monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("alerts", d.alerts),
		monitor.WithSink("metrics", collector)); err != nil {
		return nil, err
	}
	auditor := monitor.Auditor(d.log)
	if d.approvals, err = approval.New(approval.Config{TTL: 24 * time.Hour}, approval.NewMemoryStore(),
		approval.WithAuditor(auditor)); err != nil {
		return nil, err
	}
	history := &safety.MemoryHistory{} // the reaper records its actions; the limits rule counts them
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: d.cloud, History: history})
	if err != nil {
		return nil, err
	}
	eng, err := safety.New(safety.Config{}, rules, safety.WithApprovals(d.approvals), safety.WithAuditor(auditor))
	if err != nil {
		return nil, err
	}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	if err != nil {
		return nil, err
	}
	if d.reaper, err = reaper.New(reaper.Config{Execute: true, Requester: "reaper", Filter: provider.Filter{
		Kinds: []provider.Kind{provider.KindInstance}}},
		reaper.Fleet{Inventory: d.cloud, Metrics: d.cloud, Actuator: d.cloud}, ens, eng,
		reaper.WithClock(clk), reaper.WithApprovals(d.approvals), reaper.WithHistory(history), reaper.WithLogger(logger),
		reaper.WithObserver(monitor.NewReaperObserver(d.log, monitor.WithObserverClock(clk),
			monitor.WithObserverLogger(logger)))); err != nil {
		return nil, err
	}

	if err := d.setupAutoscaler(clk, start, logger); err != nil {
		return nil, err
	}

	charts := dashboard.ChartsFunc(func(ctx context.Context, now time.Time) ([]report.Chart, error) {
		end := now.Truncate(30 * time.Minute)
		c, err := report.FleetUtilization(ctx, report.Fleet{Inventory: d.cloud, Metrics: d.cloud},
			provider.Filter{Kinds: []provider.Kind{provider.KindInstance}}, end.Add(-24*time.Hour), end, 30*time.Minute)
		if err != nil {
			return nil, err
		}
		evs, err := d.log.Query(monitor.Query{ResourceID: "asg-api"})
		if err != nil {
			return nil, err
		}
		return []report.Chart{c, report.CapacityChart(evs, "asg-api", d.demandSeries(now.Add(-6*time.Hour), now), perInstance)}, nil
	})
	dash, err := dashboard.New(dashboard.Config{Title: "idlescale demo: the quickstart fleet on a fast clock", Refresh: 5 * time.Second},
		d.log, dashboard.WithAlerts(d.alerts), dashboard.WithApprovals(d.approvals), dashboard.WithInventory(d.cloud),
		dashboard.WithCharts(charts), dashboard.WithAuthorizer(loopbackOnly), dashboard.WithClock(clk),
		dashboard.WithLogger(logger))
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	if err := reg.Register(collector); err != nil {
		return nil, err
	}
	d.mux = http.NewServeMux()
	d.mux.Handle("/", dash)
	d.mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return d, nil
}

// loopbackOnly trusts requests from this machine to this machine: an
// example's stand-in for the host's sign-in. The name the browser asked
// for must be this machine's too: a page of another site that points its
// name at 127.0.0.1 (DNS rebinding) is same-origin with itself, reads the
// page's CSRF token and posts from this machine.
var loopbackOnly = dashboard.AuthorizerFunc(func(r *http.Request) (string, error) {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return "", err
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return "", errors.New("only requests from this machine may approve")
	}
	name := r.Host
	if h, _, err := net.SplitHostPort(name); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]") // "[::1]", without a port
	if ip := net.ParseIP(name); name != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return "", fmt.Errorf("only requests for this machine (localhost, a loopback address) may approve, not for %q", r.Host)
	}
	return "local-admin", nil
})

// snapshot takes a verified backup of every instance at at: the host's
// backup job, which the safety gate's backup rule wants within 24 h of a
// stop.
func (d *demo) snapshot(ctx context.Context, at time.Time) error {
	res, err := d.cloud.List(ctx, provider.Filter{Kinds: []provider.Kind{provider.KindInstance}})
	if err != nil {
		return err
	}
	for _, r := range res {
		if r.ID == "i-024ae8d" {
			continue // legacy-ftp has no backup: the gate keeps blocking it
		}
		if err := d.cloud.AddBackup(provider.Backup{ID: fmt.Sprintf("snap-%s-%d", r.ID, at.Unix()), ResourceID: r.ID,
			Time: at, Complete: true, Verified: true, VerifiedBy: "restore-test"}); err != nil {
			return err
		}
	}
	return nil
}

// backups runs the backup job every 12 simulated hours until ctx ends.
func (d *demo) backups(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case at := <-d.clock.After(12 * time.Hour):
			if err := d.snapshot(ctx, at); err != nil {
				d.logger.ErrorContext(ctx, "dashboard: backup job", "err", err)
			}
		}
	}
}

// fastClock is simulated time running speed times faster than the wall
// clock, from a start, and never past the end of the traces, where it
// stops.
type fastClock struct {
	mu         sync.Mutex
	origin     time.Time // simulated time at realOrigin
	realOrigin time.Time
	speed      float64
	end        time.Time
}

func newFastClock(start time.Time, speed float64) *fastClock {
	if speed <= 0 {
		speed = 1
	}
	return &fastClock{origin: start, realOrigin: time.Now(), speed: speed, end: start.Add(lead)}
}

// set jumps the simulated time to t.
func (c *fastClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.origin, c.realOrigin = t, time.Now()
	if t.After(c.end) {
		c.end = t
	}
}

// Now returns the simulated time.
func (c *fastClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.origin.Add(time.Duration(float64(time.Since(c.realOrigin)) * c.speed))
	if now.After(c.end) {
		return c.end
	}
	return now
}

// After waits d of simulated time. A wait that would end past the end of
// the traces never ends: it returns nil, a channel that never fires, so
// that the reaper, the autoscaler, the alerts and the backup job rest there
// instead of running again and again at the end's frozen time.
func (c *fastClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	end := c.end
	c.mu.Unlock()
	if c.Now().Add(d).After(end) {
		return nil
	}
	out := make(chan time.Time, 1)
	time.AfterFunc(time.Duration(float64(d)/c.speed), func() { out <- c.Now() })
	return out
}

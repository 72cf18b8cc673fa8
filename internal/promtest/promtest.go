// Package promtest starts a real Prometheus server for tests: the Debian
// `prometheus` binary on a free loopback port with a temporary config file
// and data directory, optionally backfilled from OpenMetrics text with
// `promtool tsdb create-blocks-from openmetrics` before it starts,
// optionally scraping a `prometheus-node-exporter` it starts on a free port
// and exporters served by the test process itself.
//
// A test package usually shares one server between its tests, started in
// TestMain with Start and stopped with (*Server).Stop, or per test with New,
// which stops it in t.Cleanup:
//
//	srv, err := promtest.Start(promtest.Options{NodeExporter: true})
//	if err != nil { fmt.Fprintln(os.Stderr, err); os.Exit(1) }
//	code := m.Run()
//	srv.Stop()
//
// The binaries are installed by scripts/install-deps.sh (make test runs
// it). When one is missing, Start returns an error saying so; tests fail
// with it rather than skip.
//
// Waiting is done by polling with tickers under a deadline (WaitReady,
// WaitFor), never by sleeping: the first scraped samples become queryable a
// few seconds after Prometheus starts.
package promtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/idlescale/idlescale/internal/syncbuf"
)

// Exporter is a scrape target served by the test process.
type Exporter struct {
	// Job is the scrape job name (the job label). Required, unique.
	Job string
	// Handler serves the metrics (for example promhttp.HandlerFor). It is
	// served at /metrics on a free loopback port. Required.
	Handler http.Handler
	// Labels are extra target labels Prometheus attaches to every series
	// it scrapes from the exporter.
	Labels map[string]string
}

// Target is a static scrape target that the package does not serve, such
// as an address where nothing listens (a target that is down).
type Target struct {
	// Job is the scrape job name. Required, unique.
	Job string
	// Address is host:port. Required.
	Address string
	// Labels are extra target labels.
	Labels map[string]string
}

// Options configures a server. The zero value starts an empty Prometheus
// that scrapes nothing.
type Options struct {
	// ScrapeInterval is the global scrape interval. Default: 1s.
	ScrapeInterval time.Duration
	// NodeExporter starts prometheus-node-exporter (cpu, meminfo, netdev,
	// netclass, diskstats and stat collectors) and scrapes it as job
	// "node".
	NodeExporter bool
	// NodeExporterLabels are extra target labels of the node job.
	NodeExporterLabels map[string]string
	// Exporters are served by the test process and scraped.
	Exporters []Exporter
	// Targets are extra static targets.
	Targets []Target
	// OpenMetrics, when not empty, is OpenMetrics text (timestamps in
	// seconds, samples sorted, ending with "# EOF") backfilled into the
	// data directory before Prometheus starts. Data older than 30 days is
	// deleted by retention.
	OpenMetrics []byte
	// StartTimeout bounds the wait for each process to be ready.
	// Default: 30s.
	StartTimeout time.Duration
}

// Server is a running Prometheus and the exporters it scrapes.
type Server struct {
	// URL is the server's base URL, http://127.0.0.1:PORT.
	URL string
	// NodeTarget is the node exporter's target address (the instance
	// label), "" when none runs.
	NodeTarget string
	// ExporterTargets are the target addresses of Options.Exporters, in
	// order.
	ExporterTargets []string
	// Dir is the temporary directory holding the config and data.
	Dir string

	mu       sync.Mutex
	procs    []proc
	servers  []*http.Server
	stopped  bool
	ownedDir bool
}

// binaries the package runs.
const (
	binPrometheus = "prometheus"
	binPromtool   = "promtool"
	binNode       = "prometheus-node-exporter"
)

// LookPath returns the path of a binary the package needs, or an error
// telling how to install it.
func LookPath(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("promtest: %s not found in PATH (install the Debian packages prometheus and prometheus-node-exporter with `bash scripts/install-deps.sh`, which `make test` runs): %w", name, err)
	}
	return p, nil
}

// New starts a server for one test and stops it in t.Cleanup. It fails the
// test when the server cannot start.
func New(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// Start starts the exporters, backfills, starts Prometheus and waits until
// it is ready (but not until targets are scraped; see WaitFor). The caller
// must call Stop.
func Start(opts Options) (s *Server, err error) {
	if opts.ScrapeInterval <= 0 {
		opts.ScrapeInterval = time.Second
	}
	if opts.StartTimeout <= 0 {
		opts.StartTimeout = 30 * time.Second
	}
	prom, err := LookPath(binPrometheus)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "promtest-")
	if err != nil {
		return nil, fmt.Errorf("promtest: %w", err)
	}
	s = &Server{Dir: dir, ownedDir: true}
	defer func() {
		if err != nil {
			err = errors.Join(err, s.Stop())
			s = nil
		}
	}()
	jobs := []scrapeJob{}
	if opts.NodeExporter {
		target, err := s.startNodeExporter(opts.StartTimeout)
		if err != nil {
			return s, err
		}
		s.NodeTarget = target
		jobs = append(jobs, scrapeJob{name: "node", target: target, labels: opts.NodeExporterLabels})
	}
	for i, e := range opts.Exporters {
		if e.Job == "" || e.Handler == nil {
			return s, fmt.Errorf("promtest: Exporters[%d] needs a Job and a Handler", i)
		}
		target, err := s.serve(e.Handler)
		if err != nil {
			return s, err
		}
		s.ExporterTargets = append(s.ExporterTargets, target)
		jobs = append(jobs, scrapeJob{name: e.Job, target: target, labels: e.Labels})
	}
	for i, t := range opts.Targets {
		if t.Job == "" || t.Address == "" {
			return s, fmt.Errorf("promtest: Targets[%d] needs a Job and an Address", i)
		}
		jobs = append(jobs, scrapeJob{name: t.Job, target: t.Address, labels: t.Labels})
	}
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, renderConfig(opts.ScrapeInterval, jobs), 0o600); err != nil {
		return s, fmt.Errorf("promtest: %w", err)
	}
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return s, fmt.Errorf("promtest: %w", err)
	}
	if len(opts.OpenMetrics) > 0 {
		if err := Backfill(opts.OpenMetrics, data); err != nil {
			return s, err
		}
	}
	// The port is picked by listening and closing, so another process may
	// take it in between; retry a few times when Prometheus exits early.
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return s, err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(prom,
			"--config.file="+cfg,
			"--storage.tsdb.path="+data,
			"--storage.tsdb.retention.time=30d",
			"--web.listen-address="+addr,
			"--log.level=warn",
		)
		logf, err := os.Create(filepath.Join(dir, "prometheus.log"))
		if err != nil {
			return s, fmt.Errorf("promtest: %w", err)
		}
		cmd.Stdout, cmd.Stderr = logf, logf
		exited, err := s.startProc(cmd, logf)
		if err != nil {
			return s, err
		}
		url := "http://" + addr
		lastErr = waitHTTP(url+"/-/ready", opts.StartTimeout, exited)
		if lastErr == nil {
			s.URL = url
			return s, nil
		}
		s.killLast()
		log, _ := os.ReadFile(filepath.Join(dir, "prometheus.log"))
		lastErr = fmt.Errorf("promtest: prometheus on %s: %w\n%s", addr, lastErr, tail(log))
	}
	return s, lastErr
}

// Backfill converts OpenMetrics text into TSDB blocks in dataDir with
// `promtool tsdb create-blocks-from openmetrics --max-block-duration=24h`.
// Prometheus must not be running on dataDir yet.
func Backfill(openMetrics []byte, dataDir string) error {
	tool, err := LookPath(binPromtool)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "promtest-*.om")
	if err != nil {
		return fmt.Errorf("promtest: backfill: %w", err)
	}
	defer func() { _ = os.Remove(f.Name()) }()
	if _, err := f.Write(openMetrics); err != nil {
		_ = f.Close()
		return fmt.Errorf("promtest: backfill: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("promtest: backfill: %w", err)
	}
	out, err := exec.Command(tool, "tsdb", "create-blocks-from", "openmetrics", "--max-block-duration=24h", f.Name(), dataDir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("promtest: promtool backfill: %w\n%s", err, tail(out))
	}
	return nil
}

type scrapeJob struct {
	name   string
	target string
	labels map[string]string
}

func renderConfig(interval time.Duration, jobs []scrapeJob) []byte {
	var b bytes.Buffer
	// JSON strings are valid YAML scalars, which quotes everything safely.
	q := func(s string) string { v, _ := json.Marshal(s); return string(v) }
	fmt.Fprintf(&b, "global:\n  scrape_interval: %s\n  scrape_timeout: %s\n  evaluation_interval: 1m\nscrape_configs:\n", interval, interval)
	for _, j := range jobs {
		fmt.Fprintf(&b, "  - job_name: %s\n    static_configs:\n      - targets: [%s]\n", q(j.name), q(j.target))
		if len(j.labels) > 0 {
			b.WriteString("        labels:\n")
			keys := make([]string, 0, len(j.labels))
			for k := range j.labels {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for _, k := range keys {
				fmt.Fprintf(&b, "          %s: %s\n", q(k), q(j.labels[k]))
			}
		}
	}
	return b.Bytes()
}

func (s *Server) startNodeExporter(timeout time.Duration) (string, error) {
	bin, err := LookPath(binNode)
	if err != nil {
		return "", err
	}
	var lastErr error
	for range 3 {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		addr := "127.0.0.1:" + strconv.Itoa(port)
		cmd := exec.Command(bin, "--web.listen-address="+addr,
			"--collector.disable-defaults", "--collector.cpu", "--collector.meminfo",
			"--collector.netdev", "--collector.netclass", "--collector.diskstats", "--collector.stat")
		// One writer for both streams: exec copies them in one goroutine.
		var out syncbuf.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		exited, err := s.startProc(cmd, nil)
		if err != nil {
			return "", err
		}
		lastErr = waitHTTP("http://"+addr+"/metrics", timeout, exited)
		if lastErr == nil {
			return addr, nil
		}
		s.killLast()
		lastErr = fmt.Errorf("promtest: node exporter on %s: %w\n%s", addr, lastErr, tail([]byte(out.String())))
	}
	return "", lastErr
}

// serve serves h at /metrics on a free loopback port and returns the
// address.
func (s *Server) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("promtest: exporter: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", h)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	s.mu.Lock()
	s.servers = append(s.servers, srv)
	s.mu.Unlock()
	go func() { _ = srv.Serve(ln) }()
	return ln.Addr().String(), nil
}

// startProc starts cmd and returns a channel closed when it exits.
func (s *Server) startProc(cmd *exec.Cmd, closer io.Closer) (<-chan struct{}, error) {
	dieWithParent(cmd)
	if err := cmd.Start(); err != nil {
		if closer != nil {
			_ = closer.Close()
		}
		return nil, fmt.Errorf("promtest: start %s: %w", cmd.Path, err)
	}
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		if closer != nil {
			_ = closer.Close()
		}
		close(exited)
	}()
	s.mu.Lock()
	s.procs = append(s.procs, proc{cmd: cmd, exited: exited})
	s.mu.Unlock()
	return exited, nil
}

// proc is a started process and a channel closed when it has exited.
type proc struct {
	cmd    *exec.Cmd
	exited <-chan struct{}
}

func (s *Server) killLast() {
	s.mu.Lock()
	if len(s.procs) == 0 {
		s.mu.Unlock()
		return
	}
	p := s.procs[len(s.procs)-1]
	s.procs = s.procs[:len(s.procs)-1]
	s.mu.Unlock()
	stopProc(p)
}

// stopProc sends SIGTERM, waits up to 10 s for the exit, then kills.
func stopProc(p proc) {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(10 * time.Second)
	defer t.Stop()
	select {
	case <-p.exited:
	case <-t.C:
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// Stop stops Prometheus, the node exporter and the in-process exporters, and
// removes the temporary directory. It is safe to call more than once.
func (s *Server) Stop() error {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	procs, servers := s.procs, s.servers
	s.procs, s.servers = nil, nil
	s.mu.Unlock()
	// Prometheus first (it was started last), then what it scraped.
	for i := len(procs) - 1; i >= 0; i-- {
		stopProc(procs[i])
	}
	var errs []error
	for _, srv := range servers {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := srv.Shutdown(ctx); err != nil {
			errs = append(errs, fmt.Errorf("promtest: exporter shutdown: %w", err))
		}
		cancel()
	}
	if s.ownedDir && s.Dir != "" {
		if err := os.RemoveAll(s.Dir); err != nil {
			errs = append(errs, fmt.Errorf("promtest: %w", err))
		}
	}
	return errors.Join(errs...)
}

// Query runs an instant PromQL query at the server's current time and
// returns the number of series in the result. It is a small helper for
// polling; tests of the driver use the driver.
func (s *Server) Query(ctx context.Context, query string) (int, error) {
	u := s.URL + "/api/v1/query?" + url.Values{"query": {query}}.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return 0, fmt.Errorf("promtest: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("promtest: query %q: %w", query, err)
	}
	defer func() { _ = resp.Body.Close() }()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, fmt.Errorf("promtest: query %q: %w", query, err)
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("promtest: query %q: %s", query, body.Error)
	}
	return len(body.Data.Result), nil
}

// WaitFor polls the instant query every 100 ms until it returns at least
// want series, ctx ends or timeout passes.
func (s *Server) WaitFor(ctx context.Context, query string, want int, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	var n int
	var err error
	for {
		n, err = s.Query(ctx, query)
		if err == nil && n >= want {
			return nil
		}
		select {
		case <-ctx.Done():
			if err != nil {
				return fmt.Errorf("promtest: waiting for %d series from %q: %w: %w", want, query, err, ctx.Err())
			}
			return fmt.Errorf("promtest: waiting for %d series from %q: got %d: %w", want, query, n, ctx.Err())
		case <-tick.C:
		}
	}
}

// waitHTTP polls url every 50 ms until it answers 200, the process exits or
// timeout passes.
func waitHTTP(url string, timeout time.Duration, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	var lastErr error
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
			err = fmt.Errorf("status %s", resp.Status)
		}
		lastErr = err
		select {
		case <-exited:
			return errors.New("process exited before it was ready")
		case <-ctx.Done():
			return fmt.Errorf("not ready after %s: %w: %w", timeout, lastErr, ctx.Err())
		case <-tick.C:
		}
	}
}

// FreePort returns a loopback TCP port that was free a moment ago (nothing
// listens on it when it returns).
func FreePort() (int, error) { return freePort() }

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("promtest: free port: %w", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		return 0, fmt.Errorf("promtest: free port: %w", err)
	}
	return port, nil
}

func tail(b []byte) string {
	const n = 2000
	s := strings.TrimSpace(string(b))
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

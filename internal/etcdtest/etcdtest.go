// Package etcdtest starts embedded etcd members for tests: one member or a
// cluster of several, on loopback with free ports and temporary data
// directories, with logging silenced and fast raft timings
// (TickMs=10, ElectionMs=100).
//
// A test package usually shares one member between its tests (start it in
// TestMain with RunShared, or per test with New) and gives every test its own
// key prefix (KeyPrefix, new for every run of a test). Dial makes a client
// that is closed when the test ends. Failover tests start three members with
// New(t, Options{Members: 3}) and stop one with (*Member).Stop. A member can also run in a child process (Options.Child)
// so that a test can SIGKILL it; such test binaries call RunChildIfRequested
// first thing in TestMain.
//
// Clients made by (*Cluster).Client are closed before the members, because a
// member with an open watch or keep-alive blocks its Close for seconds.
package etcdtest

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// Options configures a cluster. The zero value starts one in-process member.
type Options struct {
	// Members is the number of members. Default: 1.
	Members int
	// Child lists the indexes of members run in a child process (a copy of
	// the test binary), which can be killed with (*Member).Kill. The test
	// binary must call RunChildIfRequested in TestMain. Default: none.
	Child []int
	// StartTimeout bounds the wait for every member to be ready.
	// Default: 20s.
	StartTimeout time.Duration
	// NoFsync turns etcd's fsync off (UnsafeNoFsync): writes are as
	// durable as the page cache, which survives a killed process but not
	// a machine crash. It makes heavy write tests faster on a busy disk.
	// Default: fsync on, as in production.
	NoFsync bool
	// QuotaBackendBytes is the member's storage quota (etcd's
	// --quota-backend-bytes), for tests that store more than etcd's
	// default 2 GB. Default: etcd's.
	QuotaBackendBytes int64
}

// Member is one etcd member.
type Member struct {
	// Name is the member's name, "m0", "m1", ...
	Name string
	// ClientURL is the member's client endpoint, http://127.0.0.1:PORT.
	ClientURL string
	// PeerURL is the member's peer endpoint.
	PeerURL string

	dir     string
	mu      sync.Mutex
	etcd    *embed.Etcd // in-process members
	cmd     *exec.Cmd   // child-process members
	stdin   io.Closer   // the child exits when it is closed
	waitErr chan error
	exitErr error
	stopped bool
}

// Cluster is a set of started members.
type Cluster struct {
	// Members are the cluster's members, in the order of their names.
	Members []*Member

	mu      sync.Mutex
	clients []*clientv3.Client
}

// Endpoints returns the client URLs of all members that are not stopped.
func (c *Cluster) Endpoints() []string {
	var out []string
	for _, m := range c.Members {
		if !m.isStopped() {
			out = append(out, m.ClientURL)
		}
	}
	return out
}

// NewClient returns a client of endpoints (default: every member) with
// logging off and a 2s dial timeout. (*Cluster).Close closes it before the
// members.
func (c *Cluster) NewClient(endpoints ...string) (*clientv3.Client, error) {
	if len(endpoints) == 0 {
		endpoints = c.Endpoints()
	}
	cli, err := dial(endpoints)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.clients = append(c.clients, cli)
	c.mu.Unlock()
	return cli, nil
}

// Client is NewClient for a test: it fails t on error.
func (c *Cluster) Client(t testing.TB, endpoints ...string) *clientv3.Client {
	t.Helper()
	cli, err := c.NewClient(endpoints...)
	if err != nil {
		t.Fatal(err)
	}
	return cli
}

// CompactingClient returns a client of every member whose first Watch
// request first writes key twice, through admin, and compacts the
// cluster's history up to the second write: a watch that starts at a
// revision its owner read before (as a watch after a read does, or one
// resumed on another member) meets ErrCompacted. compacted reports
// whether it happened. The client is closed when t ends.
func (c *Cluster) CompactingClient(t testing.TB, admin *clientv3.Client, key string) (cli *clientv3.Client, compacted func() bool) {
	t.Helper()
	var done atomic.Bool
	compact := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		if method == "/etcdserverpb.Watch/Watch" && done.CompareAndSwap(false, true) {
			var put *clientv3.PutResponse
			for range 2 {
				var err error
				if put, err = admin.Put(ctx, key, "x"); err != nil {
					return nil, err
				}
			}
			if _, err := admin.Compact(ctx, put.Header.Revision); err != nil {
				return nil, err
			}
		}
		return streamer(ctx, desc, cc, method, opts...)
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: c.Endpoints(), DialTimeout: 2 * time.Second, Logger: zap.NewNop(),
		DialOptions: []grpc.DialOption{grpc.WithChainStreamInterceptor(compact)}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli, done.Load
}

// Close closes every client made by the cluster, then every member, one
// by one. It is safe to call more than once.
func (c *Cluster) Close() {
	c.mu.Lock()
	clients := c.clients
	c.clients = nil
	c.mu.Unlock()
	for _, cli := range clients {
		_ = cli.Close()
	}
	for _, m := range c.Members {
		m.Stop()
	}
}

// Dial returns a client of endpoints with logging off and a 2s dial
// timeout, closed when t ends (not with a cluster: a test that ends its
// client ends its sessions and keep-alives). It fails t on error.
func Dial(t testing.TB, endpoints ...string) *clientv3.Client {
	t.Helper()
	cli, err := dial(endpoints)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cli.Close() })
	return cli
}

// Dial is Dial of the cluster's members that are not stopped.
func (c *Cluster) Dial(t testing.TB) *clientv3.Client {
	t.Helper()
	return Dial(t, c.Endpoints()...)
}

func dial(endpoints []string) (*clientv3.Client, error) {
	cli, err := clientv3.New(clientv3.Config{Endpoints: endpoints, DialTimeout: 2 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		return nil, fmt.Errorf("etcdtest: client of %v: %w", endpoints, err)
	}
	return cli, nil
}

// New starts a cluster for one test with a data directory under
// t.TempDir and stops it when the test ends. It fails t on error.
func New(t testing.TB, opts Options) *Cluster {
	t.Helper()
	dir := t.TempDir() // registered before Close, so removed after it
	c, err := Start(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

// Start starts a cluster with its data directories under dir. It retries
// with new ports when a reserved port is taken meanwhile. The caller must
// Close the cluster.
func Start(dir string, opts Options) (*Cluster, error) {
	if opts.Members == 0 {
		opts.Members = 1
	}
	if opts.Members < 0 {
		return nil, fmt.Errorf("etcdtest: invalid Members %d: must be positive", opts.Members)
	}
	if opts.StartTimeout == 0 {
		opts.StartTimeout = 20 * time.Second
	}
	var errs []error
	for attempt := range 3 {
		c, err := start(filepath.Join(dir, fmt.Sprintf("try%d", attempt)), opts)
		if err == nil {
			return c, nil
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("etcdtest: reserve port: %w", err)
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// childSpec is what a child process needs to start its member.
type childSpec struct {
	Name           string `json:"name"`
	Dir            string `json:"dir"`
	ClientURL      string `json:"client_url"`
	PeerURL        string `json:"peer_url"`
	InitialCluster string `json:"initial_cluster"`
	NoFsync        bool   `json:"no_fsync,omitempty"`
	QuotaBytes     int64  `json:"quota_bytes,omitempty"`
}

const childEnv = "IDLESCALE_ETCDTEST_CHILD"

func start(dir string, opts Options) (*Cluster, error) {
	ports, err := freePorts(2 * opts.Members)
	if err != nil {
		return nil, err
	}
	c := &Cluster{}
	var initial []string
	for i := range opts.Members {
		m := &Member{
			Name:      fmt.Sprintf("m%d", i),
			ClientURL: fmt.Sprintf("http://127.0.0.1:%d", ports[2*i]),
			PeerURL:   fmt.Sprintf("http://127.0.0.1:%d", ports[2*i+1]),
			dir:       filepath.Join(dir, fmt.Sprintf("m%d", i)),
		}
		c.Members = append(c.Members, m)
		initial = append(initial, m.Name+"="+m.PeerURL)
	}
	child := map[int]bool{}
	for _, i := range opts.Child {
		if i < 0 || i >= opts.Members {
			return nil, fmt.Errorf("etcdtest: invalid Child index %d: want 0..%d", i, opts.Members-1)
		}
		child[i] = true
	}
	ctx, cancel := context.WithTimeout(context.Background(), opts.StartTimeout)
	defer cancel()
	for i, m := range c.Members {
		spec := childSpec{Name: m.Name, Dir: m.dir, ClientURL: m.ClientURL, PeerURL: m.PeerURL,
			InitialCluster: strings.Join(initial, ","), NoFsync: opts.NoFsync, QuotaBytes: opts.QuotaBackendBytes}
		if child[i] {
			err = m.startChild(spec)
		} else {
			m.etcd, err = startEmbedded(spec)
		}
		if err != nil {
			c.Close()
			return nil, err
		}
	}
	for _, m := range c.Members {
		if err := m.waitReady(ctx); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

func startEmbedded(s childSpec) (*embed.Etcd, error) {
	cfg := embed.NewConfig()
	cfg.Name = s.Name
	cfg.Dir = s.Dir
	cfg.TickMs = 10
	cfg.ElectionMs = 100
	cfg.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	cu, err := url.Parse(s.ClientURL)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: client URL: %w", err)
	}
	pu, err := url.Parse(s.PeerURL)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: peer URL: %w", err)
	}
	cfg.ListenClientUrls = []url.URL{*cu}
	cfg.AdvertiseClientUrls = []url.URL{*cu}
	cfg.ListenPeerUrls = []url.URL{*pu}
	cfg.AdvertisePeerUrls = []url.URL{*pu}
	cfg.InitialCluster = s.InitialCluster
	cfg.InitialClusterToken = "idlescale-etcdtest"
	cfg.UnsafeNoFsync = s.NoFsync
	cfg.QuotaBackendBytes = s.QuotaBytes
	e, err := embed.StartEtcd(cfg)
	if err != nil {
		return nil, fmt.Errorf("etcdtest: start member %s: %w", s.Name, err)
	}
	return e, nil
}

func (m *Member) startChild(s childSpec) error {
	spec, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("etcdtest: %w", err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return fmt.Errorf("etcdtest: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("etcdtest: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("etcdtest: start child member %s: %w", s.Name, err)
	}
	m.cmd = cmd
	m.stdin = stdin
	m.waitErr = make(chan error, 1)
	go func() {
		// The child prints "ready" when its server is up; the ready wait
		// itself is done on the client port like for any member.
		_, _ = bufio.NewReader(stdout).ReadString('\n')
		m.waitErr <- cmd.Wait()
	}()
	return nil
}

// waitReady waits until an embedded member's server says it is ready, or
// until a child member serves a linearizable read.
func (m *Member) waitReady(ctx context.Context) error {
	if m.etcd != nil {
		select {
		case <-m.etcd.Server.ReadyNotify():
			return nil
		case err := <-m.etcd.Err():
			return fmt.Errorf("etcdtest: member %s: %w", m.Name, err)
		case <-ctx.Done():
			return fmt.Errorf("etcdtest: member %s not ready: %w", m.Name, ctx.Err())
		}
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{m.ClientURL}, DialTimeout: time.Second, Logger: zap.NewNop()})
	if err != nil {
		return fmt.Errorf("etcdtest: member %s: %w", m.Name, err)
	}
	defer func() { _ = cli.Close() }()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		rctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
		_, err := cli.Get(rctx, "health")
		cancel()
		if err == nil {
			return nil
		}
		select {
		case werr := <-m.waitErr:
			return fmt.Errorf("etcdtest: child member %s exited: %w", m.Name, errors.Join(werr, err))
		case <-ctx.Done():
			return fmt.Errorf("etcdtest: member %s not ready: %w", m.Name, err)
		case <-tick.C:
		}
	}
}

func (m *Member) isStopped() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopped
}

// Stop closes the member gracefully (an in-process member) or kills it (a
// child process). It is safe to call more than once.
func (m *Member) Stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stopped {
		return
	}
	m.stopped = true
	if m.etcd != nil {
		m.etcd.Close()
	}
	if m.cmd != nil {
		_ = m.cmd.Process.Signal(syscall.SIGKILL)
		m.exitErr = <-m.waitErr // "signal: killed"; kept for debugging
		_ = m.stdin.Close()
	}
}

// Kill sends SIGKILL to a child-process member and waits for it to die: a
// crash, not a graceful stop. It returns an error for an in-process member.
func (m *Member) Kill() error {
	if m.cmd == nil {
		return fmt.Errorf("etcdtest: member %s runs in this process; only child members can be killed", m.Name)
	}
	m.Stop()
	return nil
}

// Pid returns the process id of a child member, or 0 for an in-process one.
func (m *Member) Pid() int {
	if m.cmd == nil || m.cmd.Process == nil {
		return 0
	}
	return m.cmd.Process.Pid
}

// ID returns the member's raft ID, read from the cluster through cli.
func (m *Member) ID(ctx context.Context, cli *clientv3.Client) (uint64, error) {
	resp, err := cli.MemberList(ctx)
	if err != nil {
		return 0, fmt.Errorf("etcdtest: member list: %w", err)
	}
	for _, mm := range resp.Members {
		if mm.Name == m.Name {
			return mm.ID, nil
		}
	}
	return 0, fmt.Errorf("etcdtest: member %s not in the member list", m.Name)
}

// RunChildIfRequested runs an etcd member and never returns when the
// process was started as a child member by this package; otherwise it
// returns at once. Call it first in TestMain of packages that use
// Options.Child.
func RunChildIfRequested() {
	spec := os.Getenv(childEnv)
	if spec == "" {
		return
	}
	var s childSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest child:", err)
		os.Exit(2)
	}
	e, err := startEmbedded(s)
	if err != nil {
		fmt.Fprintln(os.Stderr, "etcdtest child:", err)
		os.Exit(2)
	}
	<-e.Server.ReadyNotify()
	fmt.Println("ready")
	// Die with the parent: a closed stdin means the parent is gone.
	go func() {
		_, _ = bufio.NewReader(os.Stdin).ReadString('\n')
		os.Exit(0)
	}()
	err = <-e.Err()
	fmt.Fprintln(os.Stderr, "etcdtest child:", err)
	os.Exit(1)
}

// RunShared is a test package's TestMain body: it starts one member (data
// under a temporary directory named after name) shared by the package's
// tests, stores it in *shared, runs the tests, closes the member, removes
// its data and exits with the tests' code. Tests keep apart by key prefix
// (KeyPrefix).
func RunShared(m *testing.M, name string, opts Options, shared **Cluster) {
	dir, err := os.MkdirTemp("", name)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	c, err := Start(dir, opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		_ = os.RemoveAll(dir)
		os.Exit(1)
	}
	*shared = c
	code := m.Run()
	c.Close()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// keyPrefixes holds the prefix of every running test (testing.TB →
// string); runs numbers them.
var (
	keyPrefixes sync.Map
	runs        atomic.Uint64
)

// KeyPrefix returns a key prefix of t's own: "test/" + t.Name() with
// slashes replaced + "/" + a number unique in the process + "/". Every
// call with the same t returns the same prefix; a test run again in the
// same process (go test -count=2) gets a new one, so that it never sees
// the keys of its earlier run in a member shared by the package.
func KeyPrefix(t testing.TB) string {
	if p, ok := keyPrefixes.Load(t); ok {
		return p.(string)
	}
	p := fmt.Sprintf("test/%s/%d/", strings.ReplaceAll(t.Name(), "/", "_"), runs.Add(1))
	if actual, loaded := keyPrefixes.LoadOrStore(t, p); loaded {
		return actual.(string)
	}
	t.Cleanup(func() { keyPrefixes.Delete(t) })
	return p
}

// Within polls cond every 5 ms until it holds or d passes, and reports
// whether it held: for what a test waits on in real time (a lease that
// expires, a watch that delivers), with a generous d.
func Within(t testing.TB, d time.Duration, cond func() bool) bool {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if cond() {
			return true
		}
		select {
		case <-deadline.C:
			return cond()
		case <-tick.C:
		}
	}
}

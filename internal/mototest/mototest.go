//go:build unix

// Package mototest starts a real moto_server (the AWS API emulator) for
// tests: on a free loopback port, in its own process group, polled until it
// answers, and killed with its whole process group at the end (the pyenv
// shim that usually provides moto_server forks the real server).
//
// A missing moto_server binary is an error, not a skip: the driver's tests
// must fail loudly on a machine that cannot run them.
//
//	func TestMain(m *testing.M) {
//		srv, err := mototest.Start(context.Background())
//		if err != nil {
//			fmt.Fprintln(os.Stderr, err)
//			os.Exit(1)
//		}
//		code := m.Run()
//		srv.Close()
//		os.Exit(code)
//	}
package mototest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Binary is the moto server command looked up in PATH.
const Binary = "moto_server"

// ErrNoMoto is returned by Start when the moto_server binary is not in PATH.
var ErrNoMoto = errors.New("mototest: moto_server not found in PATH (install moto[server] 5.x, e.g. `pip install 'moto[server]==5.2.1'`)")

// StartTimeout bounds how long Start waits for the server to answer.
const StartTimeout = 30 * time.Second

// Server is a running moto_server.
type Server struct {
	// URL is the server's base URL, such as "http://127.0.0.1:41234".
	URL string

	cmd  *exec.Cmd
	done chan struct{}
}

// Start starts moto_server on a free loopback port and returns once it
// answers HTTP requests. It returns ErrNoMoto when the binary is missing,
// and an error with the server's output when it does not come up within
// StartTimeout or ctx ends. Close the returned Server to stop it.
func Start(ctx context.Context) (*Server, error) { return startEnv(ctx) }

// StartEnforcingIAM is Start for a moto_server that checks every request's
// credentials and IAM policies, as AWS does (moto's
// INITIAL_NO_AUTH_ACTION_COUNT): the first freeCalls API requests are let
// through unchecked, for a test to create the IAM users, policies and
// access keys it needs, and every later one must be signed with an access
// key of a user whose policies allow it. A refused call is answered with
// HTTP 403 and AccessDenied when the policies do not allow it (EC2 says
// UnauthorizedOperation), AuthFailure or InvalidClientTokenId for an
// unknown key. Not as AWS does: moto (5.2.1) refuses the Lambda reads
// (GET) the SDK signs, although the key's policies allow them, with
// SignatureDoesNotMatch in an XML body that Lambda's client reads no code
// from. Requests to /moto-api/ are not counted. A negative freeCalls is an
// error.
func StartEnforcingIAM(ctx context.Context, freeCalls int) (*Server, error) {
	if freeCalls < 0 {
		return nil, fmt.Errorf("mototest: %d free calls: must not be negative", freeCalls)
	}
	return startEnv(ctx, "INITIAL_NO_AUTH_ACTION_COUNT="+strconv.Itoa(freeCalls))
}

func startEnv(ctx context.Context, env ...string) (*Server, error) {
	path, err := exec.LookPath(Binary)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNoMoto, err)
	}
	var lastErr error
	for range 3 { // the free port may be taken between probe and bind
		srv, err := start(ctx, path, env)
		if err == nil {
			return srv, nil
		}
		lastErr = err
		if ctx.Err() != nil {
			break
		}
	}
	return nil, lastErr
}

func start(ctx context.Context, path string, env []string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logs := &strings.Builder{}
	cmd := exec.Command(path, "-H", "127.0.0.1", "-p", strconv.Itoa(port))
	cmd.SysProcAttr = sysProcAttr()
	cmd.Stdout = &lockedWriter{b: logs}
	cmd.Stderr = cmd.Stdout
	cmd.Env = append(append(os.Environ(), "PYTHONUNBUFFERED=1"), env...)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("mototest: start %s: %w", path, err)
	}
	s := &Server{URL: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		close(s.done)
	}()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("%w; output:\n%s", err, s.output())
	}
	return s, nil
}

func (s *Server) output() string {
	lw := s.cmd.Stdout.(*lockedWriter)
	return lw.String()
}

// waitReady polls the server until it answers, the process exits, ctx ends
// or StartTimeout passes.
func (s *Server) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, StartTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	client := &http.Client{Timeout: time.Second}
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/moto-api/data.json", nil)
		if err != nil {
			return fmt.Errorf("mototest: %w", err)
		}
		if resp, err := client.Do(req); err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode < 500 {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("mototest: moto_server at %s did not answer: %w", s.URL, ctx.Err())
		case <-s.done:
			return fmt.Errorf("mototest: moto_server exited before answering at %s", s.URL)
		case <-tick.C:
		}
	}
}

// Reset clears every service's state (POST /moto-api/reset).
func (s *Server) Reset(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL+"/moto-api/reset", nil)
	if err != nil {
		return fmt.Errorf("mototest: reset: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("mototest: reset: %w", err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("mototest: reset: HTTP %d", resp.StatusCode)
	}
	return nil
}

// Close kills the server's process group and waits for the process to
// exit. It is safe to call more than once.
func (s *Server) Close() {
	if s == nil || s.cmd.Process == nil {
		return
	}
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.done
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("mototest: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

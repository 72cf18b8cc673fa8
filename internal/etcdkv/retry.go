package etcdkv

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idlescale/idlescale/clock"
)

// The backoff between attempts of a failed request: a random wait of up
// to retryBase·2^n after the n-th failure, at most retryCeiling.
const (
	retryBase    = 20 * time.Millisecond
	retryCeiling = 500 * time.Millisecond
)

// Retrier sends etcd requests with a per-request timeout and sends a
// failed one again, after a jittered backoff, while Retryable says another
// attempt may succeed. The zero value sends each request once, without a
// timeout of its own, on the real clock. A Retrier is a plain value, safe
// for concurrent use.
type Retrier struct {
	// Timeout bounds each request; zero means only the caller's context
	// bounds it.
	Timeout time.Duration
	// MaxRetries is how many times a failed request is sent again.
	MaxRetries int
	// Clock paces the backoff; nil means clock.Real{}.
	Clock clock.Clock
}

// Call sends one request: f with ctx bounded by Timeout.
func (r Retrier) Call(ctx context.Context, f func(ctx context.Context) error) error {
	if r.Timeout <= 0 {
		return f(ctx)
	}
	rctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	return f(rctx)
}

// Do calls f through Call until it succeeds or Retry gives up, and
// returns nil or Retry's error. f must be safe to send again: a request
// whose reply was lost may have been applied.
func (r Retrier) Do(ctx context.Context, f func(ctx context.Context) error) error {
	for failures := 0; ; {
		err := r.Call(ctx, f)
		if err == nil {
			return nil
		}
		if err := r.Retry(ctx, err, &failures); err != nil {
			return err
		}
	}
}

// Op is Do for the packages that report etcd failures with ErrStore. op
// names the operation with its package ("etcdstore: get approval"). When
// ctx has ended before the first attempt it returns "op: " and ctx's
// error, which does not match ErrStore: etcd did not fail. Otherwise it
// returns nil or "op: etcd failed: " and Do's error, which matches
// ErrStore, the last request's error, and ctx's error when ctx ended.
func (r Retrier) Op(ctx context.Context, op string, f func(ctx context.Context) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if err := r.Do(ctx, f); err != nil {
		return fmt.Errorf("%s: %w: %w", op, ErrStore, err)
	}
	return nil
}

// Retry decides what to do after a request of an operation failed with
// err. *failures counts the operation's failed attempts; Retry adds this
// one. When another attempt is worth it Retry waits a random backoff of
// up to 20ms·2^n (n failures so far), at most 500ms, on the Clock, and
// returns nil. Otherwise it returns the error to give up with, which
// wraps err:
//
//   - err itself when retrying cannot fix it (see Retryable);
//   - "context ended after N attempts", also wrapping ctx's error, when
//     ctx ended (before or during the backoff);
//   - "gave up after N attempts of Timeout each" when the operation has
//     failed more than MaxRetries times.
//
// An operation of several requests (read, then write) may share one
// count, so that MaxRetries bounds the whole operation.
func (r Retrier) Retry(ctx context.Context, err error, failures *int) error {
	*failures++
	n := *failures
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("context ended after %d attempts: %w (last error: %w)", n, cerr, err)
	}
	if !Retryable(err) {
		return err
	}
	if n > r.MaxRetries {
		return fmt.Errorf("gave up after %d attempts of %v each: %w", n, r.Timeout, err)
	}
	if berr := Backoff(ctx, r.Clock, n, retryBase, retryCeiling); berr != nil {
		return fmt.Errorf("context ended after %d attempts: %w (last error: %w)", n, berr, err)
	}
	return nil
}

// Retryable reports whether a failed etcd request may succeed if sent
// again: per-request timeouts, a lost lease (the caller grants a new one),
// and gRPC or etcd errors whose code says the cluster was unavailable,
// leaderless, overloaded or interrupted. Transport errors without a status
// are retryable; errors about the request itself (invalid argument,
// permission, compacted revision, ...) are not.
func Retryable(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) ||
		errors.Is(err, rpctypes.ErrLeaseNotFound) {
		return true
	}
	if st, ok := status.FromError(err); ok {
		return retryableCode(st.Code())
	}
	var ee rpctypes.EtcdError
	if errors.As(err, &ee) {
		return retryableCode(ee.Code())
	}
	return true
}

func retryableCode(c codes.Code) bool {
	switch c {
	case codes.Unavailable, codes.DeadlineExceeded, codes.Canceled, codes.Aborted,
		codes.ResourceExhausted, codes.Internal, codes.Unknown:
		return true
	}
	return false
}

// Backoff waits a random time in (0, min(base·2^n, ceiling)] on c (nil:
// the real clock), or until ctx ends, in which case it returns ctx's
// error.
func Backoff(ctx context.Context, c clock.Clock, n int, base, ceiling time.Duration) error {
	d := base << min(n, 16)
	if d > ceiling || d <= 0 {
		d = ceiling
	}
	if c == nil {
		c = clock.Real{}
	}
	// An ended ctx wins even when the wait is already over: select picks
	// at random among ready cases, and a retry after ctx ended would run
	// one more round the caller no longer wants.
	if err := ctx.Err(); err != nil {
		return err
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(rand.N(d) + 1):
		return nil
	}
}

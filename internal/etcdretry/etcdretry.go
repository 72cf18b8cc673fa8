// Package etcdretry holds what the etcd-backed stores share about failed
// requests: which errors are worth another attempt, and a jittered
// exponential backoff on the library's Clock.
package etcdretry

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idlescale/idlescale/clock"
)

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

// Backoff waits a random time in (0, min(base·2^n, ceiling)] on c, or until
// ctx ends, in which case it returns ctx's error.
func Backoff(ctx context.Context, c clock.Clock, n int, base, ceiling time.Duration) error {
	d := base << min(n, 16)
	if d > ceiling || d <= 0 {
		d = ceiling
	}
	if c == nil {
		c = clock.Real{}
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.After(rand.N(d) + 1):
		return nil
	}
}

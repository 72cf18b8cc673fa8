package etcdkv_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdkv"
)

// countingClock is a clock.Clock whose After fires at once and counts its
// calls: the number of backoffs waited.
type countingClock struct{ afters atomic.Int64 }

func (c *countingClock) Now() time.Time { return time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC) }

func (c *countingClock) After(time.Duration) <-chan time.Time {
	c.afters.Add(1)
	ch := make(chan time.Time, 1)
	ch <- c.Now()
	return ch
}

var _ clock.Clock = (*countingClock)(nil)

// unavailable is a retryable etcd failure.
var unavailable = status.Error(codes.Unavailable, "member down")

func TestRetryable(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give error
		want bool
	}{
		{"deadline", fmt.Errorf("txn: %w", context.DeadlineExceeded), true},
		{"lease gone", rpctypes.ErrLeaseNotFound, true},
		{"no leader", rpctypes.ErrNoLeader, true},
		{"leader changed", rpctypes.ErrLeaderChanged, true},
		{"unavailable status", unavailable, true},
		{"transport", errors.New("connection reset"), true},
		{"compacted", rpctypes.ErrCompacted, false},
		{"too many ops", rpctypes.ErrTooManyOps, false},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad"), false},
		{"permission", status.Error(codes.PermissionDenied, "no"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, etcdkv.Retryable(tt.give), tt.name)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := clock.Real{}
		start := c.Now()
		require.NoError(t, etcdkv.Backoff(t.Context(), c, 3, 20*time.Millisecond, 100*time.Millisecond))
		waited := c.Now().Sub(start)
		assert.Positive(t, waited)
		assert.LessOrEqual(t, waited, 100*time.Millisecond, "capped at the ceiling (20ms·2³ = 160ms)")

		start = c.Now()
		require.NoError(t, etcdkv.Backoff(t.Context(), nil, 1, 20*time.Millisecond, time.Second))
		assert.LessOrEqual(t, c.Now().Sub(start), 40*time.Millisecond, "nil clock is the real one; 20ms·2¹")

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.ErrorIs(t, etcdkv.Backoff(ctx, c, 1, time.Hour, time.Hour), context.Canceled)
	})
}

func TestDo(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		maxRetries int
		fails      int   // f fails this many times, then succeeds
		give       error // with this error
		wantCalls  int
		wantWaits  int64
		wantErr    bool
	}{
		{"first try", 4, 0, unavailable, 1, 0, false},
		{"retried to success", 4, 4, unavailable, 5, 4, false},
		{"retries exhausted", 4, 5, unavailable, 5, 4, true},
		{"no retries", 0, 1, unavailable, 1, 0, true},
		{"not retryable", 4, 1, rpctypes.ErrCompacted, 1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := &countingClock{}
			r := etcdkv.Retrier{Timeout: time.Second, MaxRetries: tt.maxRetries, Clock: clk}
			calls := 0
			err := r.Do(t.Context(), func(context.Context) error {
				calls++
				if calls <= tt.fails {
					return tt.give
				}
				return nil
			})
			assert.Equal(t, tt.wantCalls, calls)
			assert.Equal(t, tt.wantWaits, clk.afters.Load(), "one backoff between attempts")
			if !tt.wantErr {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, tt.give)
			require.NotErrorIs(t, err, etcdkv.ErrStore, "Do reports the request's error; Op adds ErrStore")
			t.Log(err)
		})
	}
}

func TestDoStopsWhenContextEnds(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	r := etcdkv.Retrier{Timeout: time.Second, MaxRetries: 10, Clock: &countingClock{}}
	calls := 0
	err := r.Do(ctx, func(context.Context) error {
		calls++
		cancel() // the caller gives up while the request is in flight
		return unavailable
	})
	assert.Equal(t, 1, calls)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, err, unavailable, "the last request's error is kept")
}

func TestCallBoundsEachRequest(t *testing.T) {
	t.Parallel()
	r := etcdkv.Retrier{Timeout: time.Minute}
	require.NoError(t, r.Call(t.Context(), func(ctx context.Context) error {
		deadline, ok := ctx.Deadline()
		require.True(t, ok)
		assert.WithinDuration(t, time.Now().Add(time.Minute), deadline, 10*time.Second)
		return nil
	}))
	require.NoError(t, etcdkv.Retrier{}.Call(t.Context(), func(ctx context.Context) error {
		_, ok := ctx.Deadline()
		assert.False(t, ok, "zero Timeout: the caller's context only")
		return nil
	}))
}

func TestRetryCountIsShared(t *testing.T) {
	t.Parallel()
	// An operation of a read and a write shares one budget of 2 retries.
	r := etcdkv.Retrier{MaxRetries: 2, Clock: &countingClock{}}
	failures := 0
	require.NoError(t, r.Retry(t.Context(), unavailable, &failures), "read fails: retry")
	require.NoError(t, r.Retry(t.Context(), unavailable, &failures), "write fails: retry")
	err := r.Retry(t.Context(), unavailable, &failures)
	require.ErrorIs(t, err, unavailable)
	assert.Equal(t, 3, failures)
	assert.Contains(t, err.Error(), "gave up after 3 attempts")
}

func TestOp(t *testing.T) {
	t.Parallel()
	r := etcdkv.Retrier{MaxRetries: 1, Clock: &countingClock{}}
	err := r.Op(t.Context(), "store: get", func(context.Context) error { return unavailable })
	require.ErrorIs(t, err, etcdkv.ErrStore)
	require.ErrorIs(t, err, unavailable)
	assert.Contains(t, err.Error(), "store: get: etcd failed: ")

	require.NoError(t, r.Op(t.Context(), "store: get", func(context.Context) error { return nil }))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	sent := false
	err = r.Op(ctx, "store: get", func(context.Context) error { sent = true; return nil })
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, etcdkv.ErrStore, "an ended context is not an etcd failure")
	assert.False(t, sent, "nothing is sent once ctx has ended")
}

// readyClock's waits are over at once.
type readyClock struct{}

func (readyClock) Now() time.Time { return time.Time{} }
func (readyClock) After(time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	ch <- time.Time{}
	return ch
}

// An ended context stops a backoff even when its wait is already over
// (select would pick either ready case at random), so CAS and Do never run
// another round after ctx ended. TestCASStopsWhenContextEnds failed now and
// then on a loaded machine before this was so.
func TestBackoffEndedContextWins(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for i := range 200 {
		require.ErrorIs(t, etcdkv.Backoff(ctx, readyClock{}, 1, time.Millisecond, 20*time.Millisecond), context.Canceled, "attempt %d", i)
	}
}

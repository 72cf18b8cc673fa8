package etcdretry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdretry"
)

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
		{"unavailable status", status.Error(codes.Unavailable, "down"), true},
		{"transport", errors.New("connection reset"), true},
		{"compacted", rpctypes.ErrCompacted, false},
		{"too many ops", rpctypes.ErrTooManyOps, false},
		{"invalid argument", status.Error(codes.InvalidArgument, "bad"), false},
		{"permission", status.Error(codes.PermissionDenied, "no"), false},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, etcdretry.Retryable(tt.give), tt.name)
	}
}

func TestBackoff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c := clock.Real{}
		start := c.Now()
		require.NoError(t, etcdretry.Backoff(t.Context(), c, 3, 20*time.Millisecond, 100*time.Millisecond))
		waited := c.Now().Sub(start)
		assert.Positive(t, waited)
		assert.LessOrEqual(t, waited, 100*time.Millisecond, "capped at the ceiling (20ms·2³ = 160ms)")

		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		require.ErrorIs(t, etcdretry.Backoff(ctx, c, 1, time.Hour, time.Hour), context.Canceled)
	})
}

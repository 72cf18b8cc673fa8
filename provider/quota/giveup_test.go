package quota_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/quota"
)

// TestSourceNonBatchingGivesUp: through a source that does not batch,
// each read is a call; when one is throttled MaxAttempts times,
// QueryMetrics gives up as it does on a batching source's call: that
// read and the reads not made carry the throttling error, which it
// returns, and nothing more is sent to a backend that keeps throttling.
func TestSourceNonBatchingGivesUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		b, err := quota.NewBudget(quota.Config{MaxAttempts: 2})
		require.NoError(t, err)
		fs := &fakeSource{throttle: 1000}
		src, err := quota.NewSource(fs, b)
		require.NoError(t, err)
		reads := hourQueries(time.Now(), 100)
		require.ErrorIs(t, src.QueryMetrics(t.Context(), reads), provider.ErrThrottled)
		for i, r := range reads {
			require.ErrorIs(t, r.Err, provider.ErrThrottled, "read %d", i)
		}
		assert.Equal(t, int32(2), fs.calls.Load(), "no read sent after the first gave up")
	})
}

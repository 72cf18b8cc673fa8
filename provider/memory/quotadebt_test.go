package memory_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/quota"
)

// TestQuotaEmulatorDebtThrottlesOnlyItsOwnRate: a query longer than the
// old-points bucket leaves that bucket in debt; a call of recent data
// only takes none of its points, and CloudWatch's rates are separate, so
// it is admitted (as a quota.Budget lets it go without waiting), while
// one more old point still waits for the refill.
func TestQuotaEmulatorDebtThrottlesOnlyItsOwnRate(t *testing.T) {
	t.Parallel()
	e, _ := newEmulator(t, quota.CloudWatch())
	ctx := t.Context()
	_, err := e.QueryMetric(ctx, oldQuery(quotaT0, 400_000))
	require.NoError(t, err)
	_, err = e.QueryMetric(ctx, recentQuery(quotaT0, 10))
	require.NoError(t, err, "no old point read: the old-points debt does not throttle it")
	_, err = queryAll(ctx, e, []provider.Query{recentQuery(quotaT0, 10), recentQuery(quotaT0, 20)})
	require.NoError(t, err, "nor a batch of recent reads")
	_, err = e.QueryMetric(ctx, oldQuery(quotaT0, 1))
	require.ErrorIs(t, err, provider.ErrThrottled, "an old point still waits")
	assert.Equal(t, memory.QuotaUsage{Cost: quota.Cost{Calls: 6, Points: 400_040, RecentPoints: 40}, Throttled: 1}, e.Usage())
}

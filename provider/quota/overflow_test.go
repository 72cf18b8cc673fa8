package quota_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/quota"
)

// TestWaitBeyondDurationSaturates: a budget so small (a Share or limit
// Validate accepts) that a call waits longer than a time.Duration holds
// (292 years) makes it wait the longest Duration, not none: the float
// wait converted to int64 overflowed, and the budget paced nothing.
func TestWaitBeyondDurationSaturates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for _, cfg := range []quota.Config{
		{Share: 1e-15},
		{Limits: quota.Limits{PointsPerSecond: 1e-9}},
	} {
		b, err := quota.NewBudget(cfg)
		require.NoError(t, err)
		c := quota.Cost{Calls: 1, Points: 100}
		assert.Equal(t, time.Duration(math.MaxInt64), b.ReserveAt(now, c), "%+v", cfg)
		assert.Equal(t, time.Duration(math.MaxInt64), b.ReserveAt(now, c), "%+v: still in debt", cfg)
		assert.Equal(t, time.Duration(math.MaxInt64), b.TimeFor(c), "%+v", cfg)
		assert.Equal(t, time.Duration(math.MaxInt64), b.Usage().Waited, "%+v: the total saturates too", cfg)
	}
}

package quota_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider/quota"
)

// TestWaitOfExactlyTwoTo63Saturates: a wait that comes to 2⁶³ ns exactly
// (float64(math.MaxInt64) is 2⁶³, one past the longest Duration) is the
// longest Duration too: converted as it is, it overflows (to a negative
// wait on amd64), and the budget paced nothing. Each rate below is chosen
// so that the float arithmetic lands on 2⁶³ exactly.
func TestWaitOfExactlyTwoTo63Saturates(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	c := quota.Cost{Points: 1}

	// TimeFor: 1 point / rate · 10⁹ ns.
	b, err := quota.NewBudget(quota.Config{Share: 1, Limits: quota.Limits{PointsPerSecond: 1.0842021724855044e-10}})
	require.NoError(t, err)
	assert.Equal(t, time.Duration(math.MaxInt64), b.TimeFor(c))

	// ReserveAt: the full bucket (rate tokens) less 1 point, over the rate.
	b, err = quota.NewBudget(quota.Config{Share: 1, Limits: quota.Limits{PointsPerSecond: 1.084202172367955e-10}})
	require.NoError(t, err)
	assert.Equal(t, time.Duration(math.MaxInt64), b.ReserveAt(now, c))
	assert.Equal(t, time.Duration(math.MaxInt64), b.Usage().Waited)
}

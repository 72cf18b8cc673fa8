package aws_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// TestStartPeriodBoundaries pins the period CloudWatch asks of a query by
// its start's age, which decides whether a quiet count's steps may read
// 0: a minute under 15 days, 5 minutes under 63, an hour from then on,
// with the start taken 5 minutes older than the real time says
// (CloudWatch's clock may be that far ahead), so that a start just
// inside a tier by the driver's clock is read in the next one.
func TestStartPeriodBoundaries(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	skew := 5 * time.Minute
	for _, tt := range []struct {
		name string
		age  time.Duration
		want time.Duration
	}{
		{"now", 0, time.Minute},
		{"15 days less the skew, less a nanosecond", 15*day - skew - time.Nanosecond, time.Minute},
		{"15 days less the skew", 15*day - skew, 5 * time.Minute},
		{"15 days less 4 minutes", 15*day - 4*time.Minute, 5 * time.Minute},
		{"15 days less 6 minutes", 15*day - 6*time.Minute, time.Minute},
		{"63 days less the skew, less a nanosecond", 63*day - skew - time.Nanosecond, 5 * time.Minute},
		{"63 days less the skew", 63*day - skew, time.Hour},
		{"63 days less 4 minutes", 63*day - 4*time.Minute, time.Hour},
		{"455 days", 455 * day, time.Hour},
	} {
		assert.Equal(t, tt.want, awsprovider.StartPeriod(now.Add(-tt.age), now), tt.name)
	}
}

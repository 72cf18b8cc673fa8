package aws

import (
	"testing"
	"time"
)

// TestActivityPeriodAtBoundaries pins the tiers of activityPeriodAt: a
// window starting up to 15 days less an hour back is read at one minute,
// up to 63 days less an hour at five, older at an hour (the hour before
// each of CloudWatch's retention edges is read at the coarser period).
func TestActivityPeriodAtBoundaries(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	day := 24 * time.Hour
	for _, tc := range []struct {
		age  time.Duration
		want time.Duration
	}{
		{-time.Hour, time.Minute}, // a window in the future
		{0, time.Minute},
		{15*day - time.Hour, time.Minute},
		{15*day - time.Hour + time.Nanosecond, 5 * time.Minute},
		{15 * day, 5 * time.Minute},
		{63*day - time.Hour, 5 * time.Minute},
		{63*day - time.Hour + time.Nanosecond, time.Hour},
		{63 * day, time.Hour},
		{455 * day, time.Hour},
	} {
		if got := activityPeriodAt(now.Add(-tc.age), now); got != tc.want {
			t.Errorf("activityPeriodAt(now - %s) = %s, want %s", tc.age, got, tc.want)
		}
	}
}

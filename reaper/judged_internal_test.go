package reaper

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestJudgedAt pins the time a proposal is judged at: the run's now in
// its first minute, then the time taken rounded up to the minute.
func TestJudgedAt(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 9, 8, 48, 30, 0, time.UTC)
	for _, tt := range []struct {
		elapsed time.Duration
		want    time.Time
	}{
		{-time.Second, now},
		{0, now},
		{time.Minute - time.Nanosecond, now},
		{time.Minute, now.Add(time.Minute)},
		{time.Minute + time.Nanosecond, now.Add(2 * time.Minute)},
		{11*time.Minute + 49*time.Second, now.Add(12 * time.Minute)},
	} {
		assert.Equal(t, tt.want, judgedAt(now, tt.elapsed), "elapsed %s", tt.elapsed)
	}
}

package stepclock_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/stepclock"
)

var _ clock.Clock = (*stepclock.Clock)(nil)

func TestClock(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	c := stepclock.New(t0)
	assert.Equal(t, t0.Add(time.Minute), <-c.After(time.Minute))
	assert.Equal(t, t0.Add(time.Minute), c.Now())
	c.Set(t0)
	<-c.After(time.Second)
	assert.Equal(t, t0.Add(time.Second), c.Now())
	assert.Equal(t, []time.Duration{time.Minute, time.Second}, c.Waits())
}

// A wait of zero or less returns at once, as time.After does: the time
// does not move, and never back (a negative wait set it back by as much).
// Waits still lists it as asked.
func TestClockNeverGoesBack(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	c := stepclock.New(t0)
	assert.Equal(t, t0, <-c.After(-time.Minute))
	assert.Equal(t, t0, c.Now())
	assert.Equal(t, t0, <-c.After(0))
	assert.Equal(t, []time.Duration{-time.Minute, 0}, c.Waits())
}

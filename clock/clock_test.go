package clock_test

import (
	"testing"
	"testing/synctest"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/clock"
)

// The mock from benbjohnson/clock must satisfy Clock so that users can drive
// every waiting component with it.
var _ clock.Clock = (*bclock.Mock)(nil)

func TestMockDrivesAfter(t *testing.T) {
	t.Parallel()
	m := bclock.NewMock()
	var c clock.Clock = m
	start := c.Now()
	ch := c.After(time.Minute)
	m.Add(59 * time.Second)
	select {
	case <-ch:
		t.Fatal("After fired before its duration elapsed")
	default:
	}
	m.Add(time.Second)
	select {
	case got := <-ch:
		assert.Equal(t, start.Add(time.Minute), got)
	default:
		t.Fatal("After did not fire once its duration elapsed")
	}
}

func TestRealAfter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var c clock.Clock = clock.Real{}
		start := c.Now()
		got := <-c.After(time.Hour)
		assert.Equal(t, time.Hour, got.Sub(start))
	})
}

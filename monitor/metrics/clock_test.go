package metrics_test

import (
	"testing"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/metrics"
	"github.com/idlescale/idlescale/provider"
)

// A nil *clock.Mock is not a nil Clock (which means the real one): New
// refuses it, naming the clock. It took it, and every scrape panicked.
func TestNilClockPointerRefused(t *testing.T) {
	t.Parallel()
	_, err := metrics.New(metrics.Config{}, metrics.WithClock((*bclock.Mock)(nil)))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
}

package dashboard_test

import (
	"testing"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/dashboard"
	"github.com/idlescale/idlescale/provider"
)

// A nil *clock.Mock is not a nil Clock (which means the real one): New
// refuses it, naming the clock. It took it, and every page and report
// request panicked.
func TestNilClockPointerRefused(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	_, err = dashboard.New(dashboard.Config{}, l, dashboard.WithClock((*bclock.Mock)(nil)))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
}

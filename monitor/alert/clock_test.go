package alert_test

import (
	"testing"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
)

// A nil *clock.Mock is not a nil Clock (which means the real one): New and
// NewWebhook refuse it, naming the clock. They took it, and Run (on its
// first tick) and a webhook's first retry panicked.
func TestNilClockPointerRefused(t *testing.T) {
	t.Parallel()
	var inv *provider.InvalidError
	_, err := alert.New(alert.Config{}, alert.WithClock((*bclock.Mock)(nil)))
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
	_, err = alert.NewWebhook(alert.WebhookConfig{URL: "http://127.0.0.1:1/hook"}, alert.WithWebhookClock((*bclock.Mock)(nil)))
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
	_, err = alert.New(alert.Config{}, alert.WithClock(nil))
	require.NoError(t, err, "a nil Clock is the real one")
}

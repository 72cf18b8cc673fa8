package alert_test

import (
	"context"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/safety"
)

// A delivery whose context ended (the host stopping Run during a
// delivery: a deploy) is no notifier's failure: every notifier after the
// one in flight was called with the dead context, and each was counted
// failed (Stats' Failures and LastError "context canceled") and logged
// 'alert: notifier failed' at Warn, at every such stop, though Run
// logs nothing for a delivery its context ended. The notifications stay
// pending for the next Deliver, no notifier is called once the context
// ended, and Deliver's error says why.
func TestDeliverWithAnEndedContextIsNoNotifierFailure(t *testing.T) {
	t.Parallel()
	var logs syncbuf.Buffer
	var calls []string
	honest := func(name string) alert.NotifierFunc {
		return func(ctx context.Context, _ alert.Alert) error {
			calls = append(calls, name)
			return ctx.Err()
		}
	}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("chat", honest("chat")),
		alert.WithNotifier("pager", honest("pager")), alert.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	require.NoError(t, l.Record(t.Context(), event(monitor.KindBlocked, "i-1", string(safety.Block), 0)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, a.Deliver(ctx), context.Canceled)
	assert.Empty(t, calls, "no notifier is called with a context that ended")
	for _, s := range a.Stats() {
		assert.Equal(t, alert.NotifierStats{Name: s.Name, Pending: 1}, s, "kept for the next Deliver, no failure")
	}
	assert.NotContains(t, logs.String(), "notifier failed")

	require.NoError(t, a.Deliver(t.Context()))
	assert.Equal(t, []string{"chat", "pager"}, calls)
	for _, s := range a.Stats() {
		assert.Equal(t, alert.NotifierStats{Name: s.Name, Sent: 1}, s)
	}
}

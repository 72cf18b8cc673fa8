package alert_test

import (
	"context"
	"errors"
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

// TestDropsAreReportedAfterADeliveryThatEnded: notifications dropped from
// a full queue are reported by the next delivery that runs (ErrDropped,
// with their count), not by one whose context had ended, whose error a
// stopping host does not read: they are not lost with it.
func TestDropsAreReportedAfterADeliveryThatEnded(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{MaxPending: 1}, alert.WithNotifier("rec", rec))
	require.NoError(t, l.Record(t.Context(), event(monitor.KindBlocked, "i-1", string(safety.Block), 0)))
	require.NoError(t, l.Record(t.Context(), event(monitor.KindBlocked, "i-2", string(safety.Block), 0)))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := a.Deliver(ctx)
	require.ErrorIs(t, err, context.Canceled)
	require.NotErrorIs(t, err, alert.ErrDropped)

	err = a.Deliver(t.Context())
	require.ErrorIs(t, err, alert.ErrDropped)
	var ne *alert.NotifyError
	require.ErrorAs(t, err, &ne)
	assert.Equal(t, 1, ne.Dropped)
	assert.Equal(t, []string{"firing safety_block/i-2"}, rec.sent())
}

// TestDeliveryEndingMidBatch: a context that ends while a notifier works
// through its pending notifications (the host stopping Run) stops the
// batch there: the notifier is not called again, what it delivered is
// sent, the rest stays pending, its interrupted call is no failure, the
// last failure's error is kept (not everything was delivered), and
// Deliver's error matches ctx.Err() even though no notifier failed.
func TestDeliveryEndingMidBatch(t *testing.T) {
	t.Parallel()
	var (
		calls  int
		do     func(ctx context.Context) error
		cancel context.CancelFunc
	)
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", alert.NotifierFunc(func(ctx context.Context, _ alert.Alert) error {
		calls++
		return do(ctx)
	})))
	for _, id := range []string{"i-1", "i-2", "i-3"} {
		require.NoError(t, l.Record(t.Context(), event(monitor.KindBlocked, id, string(safety.Block), 0)))
	}
	do = func(context.Context) error { return errors.New("down") }
	require.Error(t, a.Deliver(t.Context()))
	require.Equal(t, []alert.NotifierStats{{Name: "rec", Pending: 3, Failures: 1, LastError: "down"}}, a.Stats())

	// Delivered, then the context ends: the next one waits.
	var ctx context.Context
	ctx, cancel = context.WithCancel(t.Context())
	calls, do = 0, func(context.Context) error { cancel(); return nil }
	require.ErrorIs(t, a.Deliver(ctx), context.Canceled)
	assert.Equal(t, 1, calls, "not called again once ctx ended")
	assert.Equal(t, []alert.NotifierStats{{Name: "rec", Pending: 2, Sent: 1, Failures: 1, LastError: "down"}}, a.Stats())

	// Interrupted by the context ending: no failure.
	ctx, cancel = context.WithCancel(t.Context())
	calls, do = 0, func(ctx context.Context) error { cancel(); return ctx.Err() }
	require.ErrorIs(t, a.Deliver(ctx), context.Canceled)
	assert.Equal(t, 1, calls)
	assert.Equal(t, []alert.NotifierStats{{Name: "rec", Pending: 2, Sent: 1, Failures: 1, LastError: "down"}}, a.Stats())
}

package alert_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/syncbuf"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// Run logs a delivery that failed while it runs, and nothing for one that
// succeeded (the conditions of the log mutated to err == nil or to
// ctx.Err() != nil lived).
func TestRunLogsAFailedDelivery(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs syncbuf.Buffer
		down := alert.NotifierFunc(func(context.Context, alert.Alert) error { return errors.New("notifier down") })
		rules := []alert.Rule{{Name: "failed", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindFailure}}, ResolveAfter: time.Hour}}
		a, l := newAlerter(t, alert.Config{Rules: rules, Interval: time.Minute},
			alert.WithNotifier("down", down), alert.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		synctest.Wait()
		assert.NotContains(t, logs.String(), "failed", "nothing failed yet")
		e := event(monitor.KindFailure, "i-1", monitor.OutcomeFailed, 0)
		e.Time = time.Now() // the bubble's clock, which Run reads
		require.NoError(t, l.Record(ctx, e))
		synctest.Wait() // Run has delivered the firing notification
		assert.Contains(t, logs.String(), "alert: deliver failed")
		assert.Contains(t, logs.String(), "notifier down")
		cancel()
		require.NoError(t, <-done)
	})
}

// Run logs an evaluation that failed while it runs (its conditions
// mutated to err == nil or to ctx.Err() != nil lived).
func TestRunLogsAFailedEvaluation(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var logs syncbuf.Buffer
		cloud, err := memory.New(memory.Config{})
		require.NoError(t, err)
		require.NoError(t, cloud.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance}))
		failing := provider.MetricsSourceFunc(func(context.Context, provider.Query) (provider.Series, error) {
			return provider.Series{}, provider.ErrThrottled
		})
		a, err := alert.New(alert.Config{Interval: time.Minute}, alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: failing}),
			alert.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- a.Run(ctx) }()
		synctest.Wait() // the first evaluation has run
		assert.Contains(t, logs.String(), "alert: evaluate failed")
		assert.NotContains(t, logs.String(), "deliver failed", "nothing to deliver")
		cancel()
		require.NoError(t, <-done)
	})
}

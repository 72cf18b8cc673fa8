package alert_test

import (
	"context"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/safety"
)

// A host that imports the audit trail every replica shares (a month of
// decisions) into a log whose Alerter runs: the blocks older than
// safety_block's quiet time are over, by the rule's own measure, when
// they arrive. They paged, and the next evaluation resolved them, a page
// and a resolution for every old block. A block still within its quiet
// time fires as a new one would, and an old event still counts on an
// alert that is firing. The trail read from its start is history
// (monitor.WithBackfill); its age is on the Alerter's clock, so an import
// before the first evaluation pages for nothing over either.
func TestImportedOldEventsDoNotPage(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	now := t0.Add(30 * 24 * time.Hour)
	clk := bclock.NewMock()
	clk.Set(now)
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec), alert.WithClock(clk))
	ctx := t.Context()
	require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-firing", string(safety.Block), 29*24*time.Hour)))
	require.NoError(t, a.Evaluate(ctx, now)) // Run evaluates at once, then every minute

	block := func(id string, age time.Duration) safety.AuditEvent {
		return safety.AuditEvent{Time: now.Add(-age), Kind: safety.AuditDecision, Actor: "reaper", ResourceID: id,
			Action: safety.ActionStop, Outcome: safety.Block, Risk: safety.RiskLow, Rules: []string{"backup"}, Reason: "no backup"}
	}
	trail := monitor.AuditSourceFunc(func(context.Context, time.Time) ([]safety.AuditEvent, error) {
		return []safety.AuditEvent{
			block("i-old", 29*24*time.Hour),
			block("i-old", 9*24*time.Hour),
			block("i-firing", 20*24*time.Hour),
			block("i-recent", 2*24*time.Hour),
		}, nil
	})
	n, _, err := monitor.ImportAudit(ctx, l, trail, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 4, n)
	require.NoError(t, a.Evaluate(ctx, now.Add(time.Minute)))
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing safety_block/i-firing", "firing safety_block/i-recent"}, rec.sent(),
		"no page for the blocks over when imported")
	counts := map[string]int{}
	for _, al := range a.Firing() {
		counts[al.ID] = al.Count
	}
	assert.Equal(t, map[string]int{"safety_block/i-firing": 2, "safety_block/i-recent": 1}, counts)
}

// A reaper stamps a run's events with the time the run started and
// records them when it ends: a run of four hours records a failure three
// hours "old" by pipeline_failure's quiet time. Recorded live, it pages:
// only history read back (monitor.WithBackfill) is judged by its age.
// The same failure imported with the whole trail, and one recorded with
// WithBackfill by the host, page for nothing.
func TestLiveEventOlderThanTheQuietTimePages(t *testing.T) {
	t.Parallel()
	now := t0.Add(4 * time.Hour)
	clk := bclock.NewMock()
	clk.Set(now)
	failure := monitor.Event{Time: t0, Kind: monitor.KindFailure, Source: monitor.SourceReaper, ResourceID: "vol-1", Outcome: monitor.OutcomeFailed, Reason: "inventory: throttled"}

	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec), alert.WithClock(clk))
	require.NoError(t, a.Evaluate(t.Context(), now))
	require.NoError(t, l.Record(t.Context(), failure))
	require.NoError(t, a.Deliver(t.Context()))
	assert.Equal(t, []string{"firing pipeline_failure/vol-1"}, rec.sent(), "a slow run's failure, recorded live")

	rec = &recorder{}
	a, l = newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec), alert.WithClock(clk))
	require.NoError(t, l.Record(monitor.WithBackfill(t.Context()), failure))
	require.NoError(t, a.Deliver(t.Context()))
	assert.Empty(t, rec.sent(), "the same failure read back as history")
	assert.Empty(t, a.Firing())
}

// TestImportedEventAtTheQuietTimeDoesNotPage: a backfilled match exactly
// its rule's ResolveAfter behind the Alerter's clock is over (an
// evaluation then resolves an alert so quiet), so it opens no alert; one
// a second younger fires.
func TestImportedEventAtTheQuietTimeDoesNotPage(t *testing.T) {
	t.Parallel()
	var quiet time.Duration
	for _, r := range alert.DefaultRules() {
		if r.Name == "safety_block" {
			quiet = r.ResolveAfter
		}
	}
	require.Positive(t, quiet)
	rec := &recorder{}
	now := t0.Add(30 * 24 * time.Hour)
	clk := bclock.NewMock()
	clk.Set(now)
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("rec", rec), alert.WithClock(clk))
	ctx := monitor.WithBackfill(t.Context())
	at := now.Sub(t0) - quiet // event's offset from t0
	require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-edge", string(safety.Block), at)))
	require.NoError(t, l.Record(ctx, event(monitor.KindBlocked, "i-inside", string(safety.Block), at+time.Second)))
	require.NoError(t, a.Deliver(ctx))
	assert.Equal(t, []string{"firing safety_block/i-inside"}, rec.sent())
}

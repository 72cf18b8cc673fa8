package monitor_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
)

// revisions is an AuditRevisions over a fixed trail, one revision per
// event.
type revisions []safety.AuditEvent

func (r revisions) EventsAfter(_ context.Context, rev int64) ([]safety.AuditEvent, int64, error) {
	return r[min(int(rev), len(r)):], int64(len(r)), nil
}

// The imports that read a whole trail (ImportAudit from a zero since,
// ImportAuditAfter from revision 0) record it as history
// (monitor.WithBackfill), which an alerter does not page for when it is
// over; the imports that follow a trail from a cursor record what they
// read as live events, and so does Record without the mark.
func TestImportsOfAWholeTrailAreBackfill(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	ev := func(sec int) safety.AuditEvent {
		return safety.AuditEvent{Time: at.Add(time.Duration(sec) * time.Second), Kind: safety.AuditDecision, Actor: "reaper", ResourceID: "i-1",
			Action: safety.ActionStop, Outcome: safety.Block, Risk: safety.RiskLow, Rules: []string{"backup"}, Reason: "no backup"}
	}
	var marks []bool
	l, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("marks", monitor.SinkFunc(func(ctx context.Context, evs []monitor.Event) error {
		for range evs {
			marks = append(marks, monitor.IsBackfill(ctx))
		}
		return nil
	})))
	require.NoError(t, err)
	ctx := t.Context()
	assert.False(t, monitor.IsBackfill(ctx))
	assert.True(t, monitor.IsBackfill(monitor.WithBackfill(ctx)))

	trail := revisions{ev(0), ev(1)}
	_, next, err := monitor.ImportAuditAfter(ctx, l, trail, 0)
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true}, marks, "the whole trail, from revision 0")
	trail = append(trail, ev(2))
	marks = nil
	_, _, err = monitor.ImportAuditAfter(ctx, l, trail, next)
	require.NoError(t, err)
	assert.Equal(t, []bool{false}, marks, "following the trail")

	src := monitor.AuditSourceFunc(func(context.Context, time.Time) ([]safety.AuditEvent, error) { return trail, nil })
	marks = nil
	_, newest, err := monitor.ImportAudit(ctx, l, src, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, []bool{true, true, true}, marks, "the whole trail, from a zero since")
	marks = nil
	_, _, err = monitor.ImportAudit(ctx, l, src, newest)
	require.NoError(t, err)
	assert.Equal(t, []bool{false, false, false}, marks, "from a cursor")
}

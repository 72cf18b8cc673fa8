package etcdaudit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/etcdaudit"
)

// An event a newer replica recorded, of a kind, action, outcome or risk
// this version does not know (a rolling upgrade runs both versions on one
// trail), is returned as it was stored, its unknown values kept as text
// (their Validate refuses them): Events and EventsAfter do not fail the
// whole read for it, and the events around it are read as before.
func TestEventOfANewerVersionIsPassedThrough(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := cluster.Dial(t)
	pfx := etcdtest.KeyPrefix(t)
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	t0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: t0, Kind: safety.AuditDecision, Actor: "reaper", ResourceID: "i-1"}))
	_, err = cli.Put(ctx, pfx+"audit/1772445660000000000-0000000000000001",
		`{"time":"2026-03-02T10:01:00Z","kind":"budget.exceeded","actor":"reaper","resource_id":"i-2","action":"hibernate","outcome":"defer","risk":"extreme"}`)
	require.NoError(t, err)
	require.NoError(t, log.Record(ctx, safety.AuditEvent{Time: t0.Add(2 * time.Minute), Kind: safety.AuditApprovalRequested, Actor: "reaper", ResourceID: "i-3"}))

	want := safety.AuditEvent{Time: t0.Add(time.Minute), Kind: "budget.exceeded", Actor: "reaper", ResourceID: "i-2",
		Action: "hibernate", Outcome: "defer", Risk: "extreme"}
	all, err := log.Events(ctx, time.Time{})
	require.NoError(t, err, "an event of a newer version does not fail the read")
	require.Len(t, all, 3)
	assert.Equal(t, want, all[1])
	assert.Equal(t, "i-3", all[2].ResourceID)
	require.Error(t, all[1].Kind.Validate(), "an unknown kind stays unknown")

	after, _, err := log.EventsAfter(ctx, 0)
	require.NoError(t, err, "an event of a newer version does not fail the read")
	require.Len(t, after, 3)
	assert.Equal(t, want, after[1])
}

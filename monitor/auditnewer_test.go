package monitor_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// An audit event of a kind this version does not know (a newer replica's,
// which safety/etcdaudit returns as stored) is left out and reported by
// its place, as an unknown action is: it was recorded as an approval
// transition (every kind but a decision was one), so a dashboard showed a
// newer version's events as approvals with whatever To they carried.
func TestImportAuditLeavesOutAKindOfANewerVersion(t *testing.T) {
	t.Parallel()
	trail := []safety.AuditEvent{
		{Time: sat, Kind: safety.AuditDecision, ResourceID: "i-1", Action: safety.ActionStop, Outcome: safety.Pass},
		{Time: sat.Add(time.Minute), Kind: "budget.exceeded", ResourceID: "i-2", Action: safety.ActionStop, To: "pending"},
		{Time: sat.Add(2 * time.Minute), Kind: safety.AuditApprovalRequested, ResourceID: "i-3", Action: safety.ActionStop, To: "pending"},
	}
	src := monitor.AuditSourceFunc(func(context.Context, time.Time) ([]safety.AuditEvent, error) { return trail, nil })
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	n, _, err := monitor.ImportAudit(t.Context(), l, src, time.Time{})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "events[1].kind", ie.Field)
	assert.Equal(t, 2, n)
	got, _ := l.Query(monitor.Query{})
	require.Len(t, got, 2)
	assert.Equal(t, "i-1", got[0].ResourceID)
	assert.Equal(t, "i-3", got[1].ResourceID)
}

// A decision whose outcome this version does not know (a newer
// replica's) is left out and reported by its place, as an unknown kind,
// action or risk is: it was recorded as a decision with that outcome as
// text, which the metrics counted as an outcome of their own, the report
// counted in no total and no alert rule's resolve matched.
func TestImportAuditLeavesOutAnOutcomeOfANewerVersion(t *testing.T) {
	t.Parallel()
	trail := []safety.AuditEvent{
		{Time: sat, Kind: safety.AuditDecision, ResourceID: "i-1", Action: safety.ActionStop, Outcome: safety.Pass},
		{Time: sat.Add(time.Minute), Kind: safety.AuditDecision, ResourceID: "i-2", Action: safety.ActionStop, Outcome: "escalate"},
		{Time: sat.Add(2 * time.Minute), Kind: safety.AuditDecision, ResourceID: "i-3", Action: safety.ActionStop, Outcome: safety.Block},
	}
	src := monitor.AuditSourceFunc(func(context.Context, time.Time) ([]safety.AuditEvent, error) { return trail, nil })
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	n, _, err := monitor.ImportAudit(t.Context(), l, src, time.Time{})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "events[1].outcome", ie.Field)
	assert.Equal(t, 2, n)
	got, _ := l.Query(monitor.Query{})
	require.Len(t, got, 2)
	assert.Equal(t, "i-1", got[0].ResourceID)
	assert.Equal(t, "i-3", got[1].ResourceID)
}

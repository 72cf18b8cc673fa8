package monitor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

func TestFromAudit(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		give    safety.AuditEvent
		kind    monitor.Kind
		source  string
		outcome string
	}{
		{"allowed", safety.AuditEvent{Kind: safety.AuditDecision, Outcome: safety.Pass}, monitor.KindDecision, monitor.SourceSafety, "pass"},
		{"needs approval", safety.AuditEvent{Kind: safety.AuditDecision, Outcome: safety.RequireApproval}, monitor.KindDecision, monitor.SourceSafety, "require_approval"},
		{"blocked", safety.AuditEvent{Kind: safety.AuditDecision, Outcome: safety.Block, Rules: []string{"backup"}}, monitor.KindBlocked, monitor.SourceSafety, "block"},
		{"requested", safety.AuditEvent{Kind: safety.AuditApprovalRequested, To: "pending"}, monitor.KindApproval, monitor.SourceApproval, "pending"},
		{"approved", safety.AuditEvent{Kind: safety.AuditApprovalApproved, From: "pending", To: "approved", Actor: "alice"}, monitor.KindApproval, monitor.SourceApproval, "approved"},
		{"executed", safety.AuditEvent{Kind: safety.AuditApprovalExecuted, From: "approved", To: "executed"}, monitor.KindApproval, monitor.SourceApproval, "executed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a := tt.give
			a.Time, a.ResourceID, a.Action, a.ApprovalID, a.Risk = sat, "i-1", safety.ActionStop, "ap-1", safety.RiskHigh
			e := monitor.FromAudit(a)
			require.NoError(t, e.Validate())
			assert.Equal(t, tt.kind, e.Kind)
			assert.Equal(t, tt.source, e.Source)
			assert.Equal(t, tt.outcome, e.Outcome)
			assert.Equal(t, "i-1", e.ResourceID)
			assert.Equal(t, "ap-1", e.ApprovalID)
			assert.Equal(t, a.Actor, e.Actor)
			assert.Equal(t, a.Rules, e.Rules)
			assert.Equal(t, sat, e.Time)
		})
	}
}

func TestImportAudit(t *testing.T) {
	t.Parallel()
	var trail safety.AuditLog
	for i, k := range []safety.AuditKind{safety.AuditDecision, safety.AuditApprovalRequested, safety.AuditApprovalApproved} {
		require.NoError(t, trail.Record(t.Context(), safety.AuditEvent{Time: sat.Add(time.Duration(i) * time.Minute), Kind: k,
			Actor: "reaper", ResourceID: "i-1", Action: safety.ActionStop, Outcome: safety.RequireApproval, To: "pending"}))
	}
	src := monitor.AuditSourceFunc(func(_ context.Context, since time.Time) ([]safety.AuditEvent, error) {
		var out []safety.AuditEvent
		for _, e := range trail.Events() {
			if !e.Time.Before(since) {
				out = append(out, e)
			}
		}
		return out, nil
	})
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	n, newest, err := monitor.ImportAudit(t.Context(), l, src, time.Time{})
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.Equal(t, sat.Add(2*time.Minute), newest)
	got, _ := l.Query(monitor.Query{})
	require.Len(t, got, 3)
	assert.Equal(t, monitor.KindDecision, got[0].Kind)
	assert.Equal(t, monitor.KindApproval, got[2].Kind)

	n, _, err = monitor.ImportAudit(t.Context(), l, src, newest)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "since is inclusive")

	boom := errors.New("etcd down")
	_, newest2, err := monitor.ImportAudit(t.Context(), l, monitor.AuditSourceFunc(func(context.Context, time.Time) ([]safety.AuditEvent, error) {
		return nil, boom
	}), newest)
	require.ErrorIs(t, err, boom)
	assert.Equal(t, newest, newest2, "since is kept on failure")

	// A recorder refusing the events is reported.
	_, _, err = monitor.ImportAudit(t.Context(), monitor.RecorderFunc(func(context.Context, ...monitor.Event) error { return boom }), src, time.Time{})
	require.ErrorIs(t, err, boom)
}

// An audit event the log refuses (an action this version does not know,
// written by a newer replica) is reported by its place, and the others of
// the batch are recorded and counted: the whole batch was refused, the
// count said all of it was recorded, and a host passing newest on as
// since (as the doc says) lost the valid events for good.
func TestImportAuditRecordsTheValidEventsOfABatch(t *testing.T) {
	t.Parallel()
	trail := []safety.AuditEvent{
		{Time: sat, Kind: safety.AuditDecision, ResourceID: "i-1", Action: safety.ActionStop, Outcome: safety.Pass},
		{Time: sat.Add(time.Minute), Kind: safety.AuditDecision, ResourceID: "i-2", Action: "hibernate", Outcome: safety.Pass},
		{Time: sat.Add(2 * time.Minute), Kind: safety.AuditDecision, ResourceID: "i-3", Action: safety.ActionStop, Outcome: safety.Block},
	}
	src := monitor.AuditSourceFunc(func(context.Context, time.Time) ([]safety.AuditEvent, error) { return trail, nil })
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	n, newest, err := monitor.ImportAudit(t.Context(), l, src, time.Time{})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "events[1].action", ie.Field)
	assert.Equal(t, 2, n, "the two valid events were recorded")
	assert.Equal(t, sat.Add(2*time.Minute), newest, "past the refused one, which no retry would record")
	got, _ := l.Query(monitor.Query{})
	require.Len(t, got, 2)
	assert.Equal(t, "i-1", got[0].ResourceID)
	assert.Equal(t, "i-3", got[1].ResourceID)
}

// An Auditor or ImportAudit without a recorder (nil, or a nil *Log)
// returns an error saying so, as the observers do, so that the engine
// fails closed; it panicked on a nil dereference inside the safety
// engine's decision.
func TestAuditWithoutARecorder(t *testing.T) {
	t.Parallel()
	ev := safety.AuditEvent{Time: sat, Kind: safety.AuditDecision, ResourceID: "i-1", Action: safety.ActionStop, Outcome: safety.Pass}
	var nilLog *monitor.Log
	src := monitor.AuditSourceFunc(func(context.Context, time.Time) ([]safety.AuditEvent, error) { return []safety.AuditEvent{ev}, nil })
	for name, r := range map[string]monitor.Recorder{"nil": nil, "nil *Log": nilLog} {
		require.NotPanics(t, func() {
			require.Error(t, monitor.Auditor(r).Record(t.Context(), ev), name)
			n, newest, err := monitor.ImportAudit(t.Context(), r, src, time.Time{})
			require.Error(t, err, name)
			assert.Zero(t, n, name)
			assert.True(t, newest.IsZero(), "%s: since is kept: nothing was recorded", name)
		}, name)
	}
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	_, _, err = monitor.ImportAudit(t.Context(), l, nil, time.Time{})
	require.Error(t, err, "no audit source")
}

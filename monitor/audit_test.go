package monitor_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
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

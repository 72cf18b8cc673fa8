package monitor_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
	"github.com/idlescale/idlescale/safety/etcdaudit"
)

var _ monitor.AuditSource = (*etcdaudit.Log)(nil)

// The audit trail that every replica shares on etcd (a real embedded
// member) is read into the event log: an approval's whole life, recorded
// by the approval manager, becomes approval events.
func TestImportAuditFromEtcd(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.New(t, etcdtest.Options{NoFsync: true})
	trail, err := etcdaudit.New(etcdaudit.Config{Prefix: etcdtest.KeyPrefix(t), Retention: time.Hour}, cluster.Dial(t))
	require.NoError(t, err)
	clk := stepclock.New(sat)
	cloud := idleCloud(t, clk, map[string]float64{"i-1": 0.01})
	approvals, err := approval.New(approval.Config{}, approval.NewMemoryStore(), approval.WithAuditor(trail))
	require.NoError(t, err)
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: cloud, History: &safety.MemoryHistory{}})
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, rules, safety.WithApprovals(approvals), safety.WithAuditor(trail))
	require.NoError(t, err)
	res, err := cloud.Get(t.Context(), "i-1")
	require.NoError(t, err)
	p := safety.Proposal{Action: safety.ActionTerminate, Resource: res, Requester: "reaper", Now: sat}
	d, err := eng.Check(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrBlocked, "no backup for i-1 yet: blocked")
	assert.Equal(t, safety.Block, d.Outcome)

	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	n, newest, err := monitor.ImportAudit(t.Context(), l, trail, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.True(t, newest.Equal(sat))
	got, err := l.Query(monitor.Query{Kinds: []monitor.Kind{monitor.KindBlocked}, ResourceID: "i-1"})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, monitor.SourceSafety, got[0].Source)
	assert.Contains(t, got[0].Rules, "backup")
	assert.Equal(t, safety.ActionTerminate, got[0].Action)
}

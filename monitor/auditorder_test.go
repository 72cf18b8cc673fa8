package monitor_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/etcdaudit"
)

var _ monitor.AuditRevisions = (*etcdaudit.Log)(nil)

// TestImportAuditMissesNoLateEvent: two replicas record in one etcd audit
// trail; A's event is stamped t0+2m, and B's, committed after the
// dashboard imported A's, is stamped t0+1m (its reaper run started
// then, or its clock is behind). Importing again from the newest time
// ImportAudit returned missed B's block for good. ImportAuditAfter reads
// on from the revision of the last import, in commit order: B's event is
// imported, and nothing twice.
func TestImportAuditMissesNoLateEvent(t *testing.T) {
	t.Parallel()
	cluster := etcdtest.New(t, etcdtest.Options{NoFsync: true})
	pfx := etcdtest.KeyPrefix(t)
	a, err := etcdaudit.New(etcdaudit.Config{Prefix: pfx, Retention: time.Hour}, cluster.Dial(t))
	require.NoError(t, err)
	b, err := etcdaudit.New(etcdaudit.Config{Prefix: pfx, Retention: time.Hour}, cluster.Dial(t))
	require.NoError(t, err)
	ev := func(at time.Time, id string) safety.AuditEvent {
		return safety.AuditEvent{Time: at, Kind: safety.AuditDecision, Actor: "reaper", ResourceID: id,
			Action: safety.ActionStop, Outcome: safety.Block, Reason: "blocked: backup", Rules: []string{"backup"}}
	}
	ctx := t.Context()
	require.NoError(t, a.Record(ctx, ev(sat.Add(2*time.Minute), "i-a")))

	// The time cursor: B's later event, stamped earlier, is never read.
	byTime, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	n, newest, err := monitor.ImportAudit(ctx, byTime, a, time.Time{})
	require.NoError(t, err)
	require.Equal(t, 1, n)

	// The revision cursor.
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	n, rev, err := monitor.ImportAuditAfter(ctx, l, a, 0)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.Positive(t, rev)

	require.NoError(t, b.Record(ctx, ev(sat.Add(time.Minute), "i-b")))
	n, _, err = monitor.ImportAudit(ctx, byTime, a, newest)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "only A's event again (at exactly newest): B's is before it")

	n, rev2, err := monitor.ImportAuditAfter(ctx, l, b, rev)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "B's event, committed after the last import")
	assert.Greater(t, rev2, rev)
	got, err := l.Query(monitor.Query{Kinds: []monitor.Kind{monitor.KindBlocked}})
	require.NoError(t, err)
	require.Len(t, got, 2)
	ids := []string{got[0].ResourceID, got[1].ResourceID}
	assert.ElementsMatch(t, []string{"i-a", "i-b"}, ids)

	n, rev3, err := monitor.ImportAuditAfter(ctx, l, a, rev2)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing new")
	assert.GreaterOrEqual(t, rev3, rev2)

	_, _, err = monitor.ImportAuditAfter(ctx, l, a, -1)
	require.Error(t, err, "a negative revision")
	_, _, err = a.EventsAfter(ctx, -1)
	require.Error(t, err)
}

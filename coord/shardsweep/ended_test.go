package shardsweep_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/coord/shardsweep"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/detector/etcdstore"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
)

// TestEndedKeepsAFenceRefusal: a pass that stopped on a refused fenced
// write (an error matching coord.ErrFenced, here a refused state save)
// reports that error as it is, its cause still wrapped, also when the
// leader's session has ended meanwhile; any other error of a pass whose
// session ended is replaced by one matching coord.ErrFenced, which does
// not wrap it (the symptom of the ended context, not an etcd failure).
func TestEndedKeepsAFenceRefusal(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Dial(t, cluster.Endpoints()...)
	el, err := coord.NewElector(coord.ElectorConfig{Scope: "ended", ID: "a", Prefix: etcdtest.KeyPrefix(t)}, cli)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // a safety net
	defer cancel()
	l, err := el.Campaign(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = l.Resign(context.Background()) })
	_, err = cli.Revoke(ctx, l.Lease())
	require.NoError(t, err)
	select {
	case <-l.Done():
	case <-ctx.Done():
		t.Fatal("the session did not end once its lease was revoked")
	}

	refused := fmt.Errorf("shardsweep: shard 3: %w: %w", coord.ErrFenced, etcdstore.ErrGuard)
	got := shardsweep.Ended(3, l, refused)
	assert.Equal(t, refused, got, "a fence refusal is reported as it is")
	require.ErrorIs(t, got, etcdstore.ErrGuard)

	other := shardsweep.Ended(3, l, context.Canceled)
	require.ErrorIs(t, other, coord.ErrFenced)
	require.NotErrorIs(t, other, context.Canceled, "the ended context is the symptom")
	assert.Contains(t, other.Error(), "lease is gone")
}

// TestStoppingDuringAPassIsNotAnEtcdFailure: a replica stopped while it
// acts (its context ends during an Act, which runs on) ends its pass
// with its context's error, as a pass stopped between two acts does: the
// requests that followed failed because the context had ended, and the
// report said etcd failed (coord.ErrStore), which a host's alert on
// etcd failures paged on at every deploy.
func TestStoppingDuringAPassIsNotAnEtcdFailure(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(1, t0.Add(-90*24*time.Hour)) // i-0000, idle
	g := newRig(t, 1, f, t0.Add(5*time.Minute))
	acting, release := make(chan struct{}), make(chan struct{})
	g.rec.setAct(func(context.Context, shardsweep.Decision) error {
		close(acting)
		<-release
		return nil
	})
	a := g.start("replica-a")
	select {
	case <-acting:
	case <-time.After(60 * time.Second):
		t.Fatal("the idle resource was not acted on")
	}
	a.cancel()
	close(release)
	g.stop(a)

	reps := g.rec.all()
	require.Len(t, reps, 1)
	rep := reps[0]
	assert.Equal(t, []string{"i-0000"}, rep.Acted)
	require.Error(t, rep.Err)
	assert.False(t, rep.Done)
	require.ErrorIs(t, rep.Err, context.Canceled)
	require.NotErrorIs(t, rep.Err, coord.ErrStore, "etcd did not fail: %v", rep.Err)
}

// stuckRecheck is an activity source whose reads after t0 (the reads
// again before a claim) wait for their context to end; it closes entered
// at the first.
type stuckRecheck struct {
	t0      time.Time
	entered chan struct{}
	once    sync.Once
}

func (s *stuckRecheck) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	if q.End.After(s.t0) {
		s.once.Do(func() { close(s.entered) })
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return []provider.ActivityCount{{Kind: provider.ActivityLogins}}, nil
}

// TestStoppingDuringARecheckIsNotAFailedRead: a replica stopped while it
// reads a resource's activity again before its claim ends its pass with
// its context's error; the read that the stop cut short is not a failed
// read: the resource was listed in Report.Unchecked and its verdict went
// to the VerdictObserver with the "recheck" signal's read_failed reason,
// as if the activity source had failed (a dashboard of unreadable
// activity showed one at every deploy).
func TestStoppingDuringARecheckIsNotAFailedRead(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	f := newFleet(1, t0.Add(-90*24*time.Hour)) // i-0000, idle
	src := &stuckRecheck{t0: t0, entered: make(chan struct{})}
	f.activity = src
	g := newRig(t, 1, f, t0.Add(5*time.Minute))
	log := &verdictLog{}
	g.opts = append(g.opts, shardsweep.WithVerdicts(log))
	a := g.start("replica-a")
	select {
	case <-src.entered:
	case <-time.After(60 * time.Second):
		t.Fatal("the activity of the idle resource was not read again")
	}
	g.stop(a)

	reps := g.rec.all()
	require.Len(t, reps, 1)
	rep := reps[0]
	assert.Empty(t, rep.Acted)
	assert.Empty(t, rep.Unchecked, "the read was cut short by the stop; it did not fail")
	assert.False(t, rep.Done)
	require.ErrorIs(t, rep.Err, context.Canceled)
	require.NotErrorIs(t, rep.Err, coord.ErrStore)
	v, ok := log.all()["i-0000"]
	require.True(t, ok, "the verdict reaches the VerdictObserver")
	for _, r := range v.Reasons {
		assert.NotEqual(t, detector.ReasonReadFailed, r.Code, "%s: %v", v.ResourceID, v.Explain())
	}
	assert.Empty(t, g.rec.actsFor(t0))
}

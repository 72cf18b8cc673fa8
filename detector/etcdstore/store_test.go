package etcdstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/detector/etcdstore"
	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/provider"
)

// cluster is one embedded etcd member shared by the package's tests; each
// test uses its own key prefix.
var cluster *etcdtest.Cluster

func TestMain(m *testing.M) {
	etcdtest.RunShared(m, "detector-etcdstore-test", etcdtest.Options{NoFsync: true}, &cluster)
}

// newStore returns a store on the shared cluster, under the test's own
// prefix unless cfg sets one, and with requests of 10s unless cfg sets
// them: the default 500ms, five attempts, failed a guarded save on a
// loaded two-core machine ("gave up after 5 attempts of 500ms each").
func newStore(t *testing.T, cfg etcdstore.Config) *etcdstore.Store {
	t.Helper()
	if cfg.Prefix == "" {
		cfg.Prefix = etcdtest.KeyPrefix(t)
	}
	if cfg.RequestTimeout == 0 {
		cfg.RequestTimeout = 10 * time.Second
	}
	s, err := etcdstore.New(cfg, etcdtest.Dial(t, cluster.Endpoints()...))
	require.NoError(t, err)
	return s
}

func TestStore(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := newStore(t, etcdstore.Config{})
	_, err := s.Load(ctx, "i-1")
	require.ErrorIs(t, err, detector.ErrNoState)
	state := []byte{0, 1, 2, 0xff, 'x'}
	require.NoError(t, s.Save(ctx, "i-1", state))
	require.NoError(t, s.Save(ctx, "a/b c", []byte("two")))
	got, err := s.Load(ctx, "i-1")
	require.NoError(t, err)
	assert.Equal(t, state, got, "bytes, not text")
	two, err := s.Load(ctx, "a/b c")
	require.NoError(t, err)
	assert.Equal(t, "two", string(two))
	assert.Equal(t, etcdtest.KeyPrefix(t)+"a%2Fb%20c", s.Key("a/b c"))
	require.NoError(t, s.Delete(ctx, "i-1"))
	_, err = s.Load(ctx, "i-1")
	require.ErrorIs(t, err, detector.ErrNoState)
	require.NoError(t, s.Delete(ctx, "i-1"), "deleting a missing state succeeds")
}

func TestNewRejects(t *testing.T) {
	t.Parallel()
	_, err := etcdstore.New(etcdstore.Config{}, nil)
	require.ErrorIs(t, err, provider.ErrInvalid)
	_, err = etcdstore.New(etcdstore.Config{RequestTimeout: -time.Second}, etcdtest.Dial(t, cluster.Endpoints()...))
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// TestUnreachable: with etcd unreachable Load and Save fail with ErrStore
// after the retries, and a Tracker on the store reads in full and reports
// the store's error instead of failing or calling anything idle.
func TestUnreachable(t *testing.T) {
	t.Parallel()
	cli := etcdtest.Dial(t, "http://127.0.0.1:1") // nothing listens there
	s, err := etcdstore.New(etcdstore.Config{RequestTimeout: 50 * time.Millisecond, MaxRetries: 1, Prefix: etcdtest.KeyPrefix(t)}, cli)
	require.NoError(t, err)
	_, err = s.Load(t.Context(), "i-1")
	require.ErrorIs(t, err, etcdstore.ErrStore)
	require.ErrorIs(t, s.Save(t.Context(), "i-1", []byte("x")), etcdstore.ErrStore)

	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, s)
	require.NoError(t, err)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	v, read, err := tr.Detect(t.Context(), flatCPU(0.03), nil, provider.Resource{ID: "i-1", Kind: provider.KindInstance}, now)
	require.NoError(t, err)
	assert.True(t, read.Full)
	assert.Equal(t, detector.FullStoreError, read.Why)
	require.Len(t, read.Errors, 2, "the load and the save")
	require.ErrorIs(t, read.Errors[0], etcdstore.ErrStore)
	assert.Equal(t, detector.Idle, v.State, "the full read decides")
}

// TestTrackerResumes: a second Tracker (another replica) on the same etcd
// prefix resumes from the state the first saved.
func TestTrackerResumes(t *testing.T) {
	t.Parallel()
	prefix := etcdtest.KeyPrefix(t)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	r := provider.Resource{ID: "i-1", Kind: provider.KindInstance}
	var reads []detector.Read
	for i := range 2 {
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, newStore(t, etcdstore.Config{Prefix: prefix}))
		require.NoError(t, err)
		v, read, err := tr.Detect(t.Context(), flatCPU(0.03), nil, r, now.Add(time.Duration(i)*time.Hour))
		require.NoError(t, err)
		require.Empty(t, read.Errors)
		assert.Equal(t, detector.Idle, v.State)
		reads = append(reads, read)
	}
	assert.True(t, reads[0].Full)
	assert.False(t, reads[1].Full, "the second replica resumes")
	assert.Equal(t, 96, reads[1].Points, "an hour of 8 metrics")
}

// flatCPU is a source of a constant cpu utilization; other metrics are
// not available.
func flatCPU(x float64) provider.MetricsSource {
	return provider.MetricsSourceFunc(func(_ context.Context, q provider.Query) (provider.Series, error) {
		if q.Metric != provider.MetricCPU {
			return provider.Series{}, provider.ErrUnsupported
		}
		s := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, q.Steps())}
		for i := range s.Values {
			s.Values[i] = x
		}
		return s, nil
	})
}

// TestGuardedSave: a shard leader's saves are fenced by its term: after it
// resigns (or its lease is lost) its Save fails with ErrGuard and leaves
// the state the next leader wrote.
func TestGuardedSave(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	prefix := etcdtest.KeyPrefix(t)
	store := newStore(t, etcdstore.Config{Prefix: prefix + "state/"})
	scope, err := coord.ShardScope("i-1", 16)
	require.NoError(t, err)
	elect := func(id string) *coord.Leadership {
		el, err := coord.NewElector(coord.ElectorConfig{Scope: scope, ID: id, Prefix: prefix + "election/", SessionTTL: 2 * time.Second}, etcdtest.Dial(t, cluster.Endpoints()...))
		require.NoError(t, err)
		l, err := el.Campaign(ctx)
		require.NoError(t, err)
		return l
	}
	first := elect("replica-1")
	old := store.Guarded(first.Fence().Cmp())
	require.NoError(t, old.Save(ctx, "i-1", []byte("from replica-1")))
	require.NoError(t, first.Resign(ctx))
	second := elect("replica-2")
	defer func() { _ = second.Resign(context.WithoutCancel(ctx)) }()
	require.NoError(t, store.Guarded(second.Fence().Cmp()).Save(ctx, "i-1", []byte("from replica-2")))
	err = old.Save(ctx, "i-1", []byte("late write of replica-1"))
	require.ErrorIs(t, err, etcdstore.ErrGuard)
	got, err := old.Load(ctx, "i-1")
	require.NoError(t, err)
	assert.Equal(t, "from replica-2", string(got))
}

// The guarded view has the Delete its documentation promises ("Load and
// Delete are s's"): unguarded, so that a resource that is gone loses its
// state whoever leads. It had only Load and Save.
func TestGuardedDelete(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	prefix := etcdtest.KeyPrefix(t)
	store := newStore(t, etcdstore.Config{Prefix: prefix + "state/"})
	// A condition that does not hold: no key has this create revision.
	g := store.Guarded(clientv3.Compare(clientv3.CreateRevision(prefix+"no-leader"), "=", 1))
	require.NoError(t, store.Save(ctx, "i-1", []byte("state")))
	require.ErrorIs(t, g.Save(ctx, "i-1", []byte("refused")), etcdstore.ErrGuard)
	require.NoError(t, g.Delete(ctx, "i-1"))
	_, err := g.Load(ctx, "i-1")
	require.ErrorIs(t, err, detector.ErrNoState)
	require.NoError(t, g.Delete(ctx, "i-1"), "deleting a missing state succeeds")
}

package detector_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

func TestNewTrackerRejects(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	custom, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("mine", 0.1, ens))
	require.NoError(t, err)
	with := func(cfg detector.EnsembleConfig) *detector.Ensemble {
		e, err := detector.NewEnsemble(cfg)
		require.NoError(t, err)
		return e
	}
	store := &detector.MemoryStateStore{}
	tests := []struct {
		name  string
		e     *detector.Ensemble
		cfg   detector.TrackerConfig
		store detector.StateStore
		field string
	}{
		{"nil ensemble", nil, detector.TrackerConfig{}, store, "tracker.ensemble"},
		{"zero ensemble", &detector.Ensemble{}, detector.TrackerConfig{}, store, "tracker.ensemble"},
		{"nil store", ens, detector.TrackerConfig{}, nil, "tracker.store"},
		{"step not dividing an hour", ens, detector.TrackerConfig{Step: 7 * time.Minute}, store, "tracker.step"},
		{"step too short", ens, detector.TrackerConfig{Step: 10 * time.Second}, store, "tracker.step"},
		{"negative step", ens, detector.TrackerConfig{Step: -time.Minute}, store, "tracker.step"},
		{"custom signal", custom, detector.TrackerConfig{}, store, "tracker.ensemble"},
		{"window off the hour", with(detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Window: 90 * time.Minute}}), detector.TrackerConfig{}, store, "utilization.window"},
		{"hold off the hour", with(detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Hold: 30 * time.Minute}}), detector.TrackerConfig{}, store, "utilization.hold"},
		{"percentile statistic", with(detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Statistics: map[provider.Metric]provider.Statistic{provider.MetricCPU: provider.Percentile(95)}}}), detector.TrackerConfig{}, store, "utilization.statistics.cpu"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := detector.NewTracker(tt.e, tt.cfg, tt.store)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	_, err = detector.NewTracker(ens, detector.TrackerConfig{Step: time.Minute}, store)
	require.NoError(t, err, "a step of a minute divides the hour")
	_, err = detector.NewTracker(ens, detector.TrackerConfig{Step: 15 * time.Second, Statistic: provider.StatMax}, store)
	require.NoError(t, err, "15 s is the shortest step")
	require.NoError(t, detector.TrackerConfig{Step: 15 * time.Second}.Validate())
	var ie *provider.InvalidError
	require.ErrorAs(t, detector.TrackerConfig{Statistic: "median"}.Validate(), &ie)
	assert.Equal(t, "tracker.statistic", ie.Field)
}

// stateStores returns a memory and a file store.
func stateStores(t *testing.T) map[string]detector.StateStore {
	t.Helper()
	fs, err := detector.NewFileStateStore(t.TempDir())
	require.NoError(t, err)
	return map[string]detector.StateStore{"memory": &detector.MemoryStateStore{}, "file": fs}
}

func TestStateStores(t *testing.T) {
	t.Parallel()
	for name, s := range stateStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			_, err := s.Load(ctx, "i-1")
			require.ErrorIs(t, err, detector.ErrNoState)
			state := []byte("state of i-1")
			require.NoError(t, s.Save(ctx, "i-1", state))
			state[0] = 'X' // the store keeps its own copy
			require.NoError(t, s.Save(ctx, "../i/2", []byte("two")))
			got, err := s.Load(ctx, "i-1")
			require.NoError(t, err)
			assert.Equal(t, "state of i-1", string(got))
			got[0] = 'Y'
			again, err := s.Load(ctx, "i-1")
			require.NoError(t, err)
			assert.Equal(t, "state of i-1", string(again), "a loaded slice is the caller's")
			two, err := s.Load(ctx, "../i/2")
			require.NoError(t, err)
			assert.Equal(t, "two", string(two))
			require.NoError(t, s.Save(ctx, "i-1", []byte("new")))
			got, err = s.Load(ctx, "i-1")
			require.NoError(t, err)
			assert.Equal(t, "new", string(got))
			done, cancel := context.WithCancel(ctx)
			cancel()
			require.ErrorIs(t, s.Save(done, "i-1", nil), context.Canceled)
			_, err = s.Load(done, "i-1")
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}

// Every ID the provider package allows (up to MaxIDLength bytes) has its
// own state, in a file store too: a Kubernetes Deployment's ID
// ("namespace/deployment/name", a name of up to 253 bytes) hex-encoded was
// a file name longer than a file system takes (255 bytes), so its state
// was never saved (ENAMETOOLONG) and every sweep read its whole history
// again.
func TestStateStoresKeepLongIDs(t *testing.T) {
	t.Parallel()
	for name, s := range stateStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			deploy := "shop/deployment/" + strings.Repeat("a", 253)
			longest := strings.Repeat("b", provider.MaxIDLength)
			ids := []string{deploy, deploy[:len(deploy)-1] + "b", longest, longest[:len(longest)-1] + "c"}
			for _, id := range ids {
				require.NoError(t, provider.ValidateID(id))
				require.NoError(t, s.Save(ctx, id, []byte("state of "+id[len(id)-1:])), "%d bytes", len(id))
			}
			for _, id := range ids {
				got, err := s.Load(ctx, id)
				require.NoError(t, err, "%d bytes", len(id))
				assert.Equal(t, "state of "+id[len(id)-1:], string(got), "%d bytes", len(id))
			}
		})
	}
}

func TestNewFileStateStoreRejects(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := detector.NewFileStateStore(filepath.Join(dir, "missing"))
	require.ErrorIs(t, err, os.ErrNotExist)
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = detector.NewFileStateStore(file)
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// faultyStore fails Load and Save with the errors set.
type faultyStore struct {
	detector.MemoryStateStore
	load, save error
}

func (s *faultyStore) Load(ctx context.Context, id string) ([]byte, error) {
	if s.load != nil {
		return nil, s.load
	}
	return s.MemoryStateStore.Load(ctx, id)
}

func (s *faultyStore) Save(ctx context.Context, id string, b []byte) error {
	if s.save != nil {
		return s.save
	}
	return s.MemoryStateStore.Save(ctx, id, b)
}

// faultySource wraps a source: it fails the queries of fail, and answers
// on a 10-minute grid when coarse is set.
type faultySource struct {
	src    provider.MetricsSource
	fail   error
	coarse bool
}

func (f *faultySource) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if f.fail != nil {
		return provider.Series{}, f.fail
	}
	if f.coarse {
		q.Step = 10 * time.Minute
	}
	return f.src.QueryMetric(ctx, q)
}

// TestTrackerFaults: a store that fails, a state from other settings, a
// clock that goes back, a long pause, a source that changes its grid or
// fails: each makes a full read (or keeps no state), says why, and the
// verdict is Scan's.
func TestTrackerFaults(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	f := traceFleet(t, start)
	r := f.resources[0]
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	t0 := start.Add(30 * 24 * time.Hour)
	scan := func(ms provider.MetricsSource, now time.Time) detector.Verdict {
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: &gridFleet{resources: []provider.Resource{r}}, Metrics: ms}, ens, detector.ScanConfig{Now: now})
		require.NoError(t, err)
		require.Len(t, rep.Verdicts, 1)
		return rep.Verdicts[0]
	}
	check := func(t *testing.T, tr *detector.Tracker, ms provider.MetricsSource, now time.Time, full bool, why detector.FullRead) detector.Read {
		t.Helper()
		v, read, err := tr.Detect(t.Context(), ms, nil, r, now)
		require.NoError(t, err)
		assert.Equal(t, full, read.Full, "full read")
		assert.Equal(t, why, read.Why)
		require.Equal(t, comparable(scan(ms, now)), comparable(v))
		return read
	}
	boom := errors.New("boom")
	t.Run("store load fails", func(t *testing.T) {
		t.Parallel()
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &faultyStore{load: boom})
		require.NoError(t, err)
		read := check(t, tr, f, t0, true, detector.FullStoreError)
		require.Len(t, read.Errors, 1)
		assert.Equal(t, "state load", read.Errors[0].Op)
		require.ErrorIs(t, read.Errors[0], boom)
		assert.Positive(t, read.StateBytes, "the state is saved again")
	})
	t.Run("store save fails", func(t *testing.T) {
		t.Parallel()
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &faultyStore{save: boom})
		require.NoError(t, err)
		read := check(t, tr, f, t0, true, detector.FullNewResource)
		require.Len(t, read.Errors, 1)
		assert.Equal(t, "state save", read.Errors[0].Op)
		require.ErrorIs(t, read.Errors[0], boom)
		assert.Zero(t, read.StateBytes)
	})
	t.Run("state over time", func(t *testing.T) {
		t.Parallel()
		store := &detector.MemoryStateStore{}
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, store)
		require.NoError(t, err)
		check(t, tr, f, t0, true, detector.FullNewResource)
		read := check(t, tr, f, t0.Add(3*time.Hour), false, "")
		assert.Equal(t, 8*3*12, read.Points, "three hours of eight metrics (the four of the utilization thresholds, network in and out, disk read and write)")
		assert.Equal(t, 8, read.Queries)
		read = check(t, tr, f, t0.Add(3*time.Hour), false, "")
		assert.Zero(t, read.Points, "nothing new: nothing read")
		check(t, tr, f, t0.Add(2*time.Hour), true, detector.FullClockSkew)
		check(t, tr, f, t0.Add(2*time.Hour+28*24*time.Hour), true, detector.FullStaleState)
		check(t, tr, &faultySource{src: f, coarse: true}, t0.Add(2*time.Hour+29*24*time.Hour), true, detector.FullGridChanged)
		// A full read on another grid saves no state: the one before it
		// is brought forward.
		check(t, tr, f, t0.Add(2*time.Hour+30*24*time.Hour), false, "")
		other, err := detector.NewEnsemble(detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: 0.2}}})
		require.NoError(t, err)
		tr2, err := detector.NewTracker(other, detector.TrackerConfig{}, store)
		require.NoError(t, err)
		_, read, err = tr2.Detect(t.Context(), f, nil, r, t0.Add(2*time.Hour+30*24*time.Hour+2*time.Hour))
		require.NoError(t, err)
		assert.Equal(t, detector.FullSettings, read.Why)
	})
	t.Run("metric error", func(t *testing.T) {
		t.Parallel()
		store := &detector.MemoryStateStore{}
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, store)
		require.NoError(t, err)
		check(t, tr, f, t0, true, detector.FullNewResource)
		src := &faultySource{src: f, fail: boom}
		read := check(t, tr, src, t0.Add(time.Hour), true, detector.FullMetricError)
		require.NotEmpty(t, read.Errors)
		require.ErrorIs(t, read.Errors[0], boom)
		assert.Zero(t, read.StateBytes, "no state from a read with errors")
		check(t, tr, f, t0.Add(2*time.Hour), false, "")
	})
	t.Run("bad arguments", func(t *testing.T) {
		t.Parallel()
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
		require.NoError(t, err)
		_, _, err = tr.Detect(t.Context(), nil, nil, r, t0)
		require.ErrorIs(t, err, provider.ErrInvalid)
		_, _, err = tr.Detect(t.Context(), f, nil, r, time.Time{})
		require.ErrorIs(t, err, provider.ErrInvalid)
		bad := r
		bad.Kind = ""
		_, _, err = tr.Detect(t.Context(), f, nil, bad, t0)
		require.ErrorIs(t, err, provider.ErrInvalid)
	})
}

func TestFullReadText(t *testing.T) {
	t.Parallel()
	for _, f := range []detector.FullRead{detector.FullNewResource, detector.FullStoreError, detector.FullCorruptState, detector.FullSettings,
		detector.FullClockSkew, detector.FullStaleState, detector.FullOffTheHour, detector.FullGridChanged, detector.FullMetricError,
		detector.FullSuspectZeros, detector.FullLaunchChanged, detector.FullZoneOffHour, detector.FullCanceled} {
		require.NoError(t, f.Validate())
		b, err := f.MarshalText()
		require.NoError(t, err)
		var back detector.FullRead
		require.NoError(t, back.UnmarshalText(b))
		assert.Equal(t, f, back)
		assert.Equal(t, string(b), f.String())
	}
	var f detector.FullRead
	require.ErrorIs(t, f.UnmarshalText([]byte("because")), provider.ErrInvalid)
	_, err := detector.FullRead("because").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	require.NoError(t, f.UnmarshalText(nil), "empty is the zero value")
}

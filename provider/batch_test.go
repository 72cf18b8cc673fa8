package provider_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// plainDriver implements Inventory, Scaler and MetricsSource with no batch
// capability, counting its calls. Its cancel, when set, is called at the
// call numbered cancelAt (from 1), to end the caller's context midway.
type plainDriver struct {
	calls    int
	cancelAt int
	cancel   context.CancelFunc
}

func (d *plainDriver) call() {
	d.calls++
	if d.cancel != nil && d.calls == d.cancelAt {
		d.cancel()
	}
}

func (d *plainDriver) List(context.Context, provider.Filter) ([]provider.Resource, error) {
	return nil, errors.New("not used")
}

func (d *plainDriver) Get(_ context.Context, id string) (provider.Resource, error) {
	d.call()
	if id == "missing" {
		return provider.Resource{}, fmt.Errorf("get %q: %w", id, provider.ErrNotFound)
	}
	return provider.Resource{ID: id, Kind: provider.KindGroup}, nil
}

func (d *plainDriver) Capacity(_ context.Context, id string) (provider.Capacity, error) {
	d.call()
	if id == "missing" {
		return provider.Capacity{}, fmt.Errorf("capacity %q: %w", id, provider.ErrNotFound)
	}
	return provider.Capacity{CapacitySpec: provider.CapacitySpec{Min: 1, Max: 9, Desired: len(id)}}, nil
}

func (d *plainDriver) SetCapacity(context.Context, string, provider.CapacitySpec) error {
	return errors.New("not used")
}

func (d *plainDriver) QueryMetric(_ context.Context, q provider.Query) (provider.Series, error) {
	d.call()
	if q.ResourceID == "missing" {
		return provider.Series{}, fmt.Errorf("query %q: %w", q.ResourceID, provider.ErrNotFound)
	}
	return provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: []float64{float64(len(q.ResourceID))}}, nil
}

func (d *plainDriver) Activity(_ context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	d.call()
	if q.ResourceID == "missing" {
		return nil, fmt.Errorf("activity %q: %w", q.ResourceID, provider.ErrNotFound)
	}
	return []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: float64(len(q.ResourceID))}}, nil
}

// batchDriver is a plainDriver with the four batch capabilities, each
// answering every read with a marker so that a test sees the batch was
// used.
type batchDriver struct {
	plainDriver
	batches int
}

func (d *batchDriver) GetResources(_ context.Context, reads []provider.ResourceRead) error {
	d.batches++
	for i := range reads {
		reads[i].Resource, reads[i].Err = provider.Resource{ID: reads[i].ID, Owner: "batch"}, nil
	}
	return nil
}

func (d *batchDriver) GetCapacities(_ context.Context, reads []provider.CapacityRead) error {
	d.batches++
	for i := range reads {
		reads[i].Capacity, reads[i].Err = provider.Capacity{Current: 42}, nil
	}
	return nil
}

func (d *batchDriver) QueryMetrics(_ context.Context, reads []provider.MetricRead) error {
	d.batches++
	for i := range reads {
		reads[i].Series, reads[i].Err = provider.Series{Values: append(reads[i].Series.Values[:0], 42)}, nil
	}
	return nil
}

func (d *batchDriver) Activities(_ context.Context, reads []provider.ActivityRead) error {
	d.batches++
	for i := range reads {
		reads[i].Counts, reads[i].Err = []provider.ActivityCount{{Kind: provider.ActivityDBQueries, Count: 42}}, nil
	}
	return nil
}

var (
	_ provider.ResourceBatcher = (*batchDriver)(nil)
	_ provider.CapacityBatcher = (*batchDriver)(nil)
	_ provider.MetricsBatcher  = (*batchDriver)(nil)
	_ provider.ActivityBatcher = (*batchDriver)(nil)
)

func TestBatchReadsWithoutBatcher(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := &plainDriver{}
	stale := errors.New("stale")

	rr := []provider.ResourceRead{{ID: "a", Err: stale}, {ID: "missing"}, {ID: "a"}}
	require.NoError(t, provider.GetResources(ctx, d, rr))
	assert.Equal(t, 3, d.calls, "one Get per read")
	require.NoError(t, rr[0].Err)
	assert.Equal(t, "a", rr[0].Resource.ID)
	require.ErrorIs(t, rr[1].Err, provider.ErrNotFound)
	assert.Equal(t, provider.Resource{}, rr[1].Resource)
	assert.Equal(t, "a", rr[2].Resource.ID)

	d.calls = 0
	cr := []provider.CapacityRead{{ID: "ab"}, {ID: "missing", Err: stale}, {ID: "abc"}}
	require.NoError(t, provider.GetCapacities(ctx, d, cr))
	assert.Equal(t, 3, d.calls, "one Capacity per read")
	assert.Equal(t, 2, cr[0].Capacity.Desired)
	require.ErrorIs(t, cr[1].Err, provider.ErrNotFound)
	assert.Equal(t, 3, cr[2].Capacity.Desired)
	require.NoError(t, cr[2].Err)

	d.calls = 0
	q := provider.Query{Metric: provider.MetricCPU, Start: time.Unix(0, 0), End: time.Unix(60, 0), Step: time.Minute}
	mr := make([]provider.MetricRead, 3)
	for i, id := range []string{"abcd", "missing", "ab"} {
		mr[i].Query = q
		mr[i].Query.ResourceID = id
	}
	require.NoError(t, provider.QueryMetrics(ctx, d, mr))
	assert.Equal(t, 3, d.calls, "one QueryMetric per read")
	assert.Equal(t, []float64{4}, mr[0].Series.Values)
	require.ErrorIs(t, mr[1].Err, provider.ErrNotFound)
	assert.Equal(t, []float64{2}, mr[2].Series.Values)

	d.calls = 0
	ar := make([]provider.ActivityRead, 3)
	for i, id := range []string{"abc", "missing", "abcde"} {
		ar[i].Query = provider.ActivityQuery{ResourceID: id, Start: time.Unix(0, 0), End: time.Unix(60, 0)}
	}
	ar[1].Counts = []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 9}}
	require.NoError(t, provider.Activities(ctx, d, ar))
	assert.Equal(t, 3, d.calls, "one Activity per read")
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 3}}, ar[0].Counts)
	require.ErrorIs(t, ar[1].Err, provider.ErrNotFound)
	assert.Nil(t, ar[1].Counts, "a failed read keeps no counts of an earlier answer")
	assert.Equal(t, []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 5}}, ar[2].Counts)
	require.NoError(t, ar[2].Err)

	d.calls = 0
	require.NoError(t, provider.GetResources(ctx, d, nil))
	require.NoError(t, provider.GetCapacities(ctx, d, nil))
	require.NoError(t, provider.QueryMetrics(ctx, d, nil))
	require.NoError(t, provider.Activities(ctx, d, nil))
	assert.Zero(t, d.calls, "an empty batch is no call")
}

// TestBatchReadsContextEnds ends the context during the second read of
// three: the third is not made and carries the context's error, as does
// the call.
func TestBatchReadsContextEnds(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		read func(ctx context.Context, d *plainDriver) ([]error, error)
	}{
		{"resources", func(ctx context.Context, d *plainDriver) ([]error, error) {
			reads := []provider.ResourceRead{{ID: "a"}, {ID: "b"}, {ID: "c", Resource: provider.Resource{ID: "old"}}}
			err := provider.GetResources(ctx, d, reads)
			return []error{reads[0].Err, reads[1].Err, reads[2].Err}, err
		}},
		{"capacities", func(ctx context.Context, d *plainDriver) ([]error, error) {
			reads := []provider.CapacityRead{{ID: "a"}, {ID: "b"}, {ID: "c", Capacity: provider.Capacity{Current: 7}}}
			err := provider.GetCapacities(ctx, d, reads)
			return []error{reads[0].Err, reads[1].Err, reads[2].Err}, err
		}},
		{"metrics", func(ctx context.Context, d *plainDriver) ([]error, error) {
			reads := []provider.MetricRead{{}, {}, {Series: provider.Series{Values: []float64{7}}}}
			err := provider.QueryMetrics(ctx, d, reads)
			if len(reads[2].Series.Values) != 0 {
				return nil, errors.New("the unanswered read kept its old values")
			}
			return []error{reads[0].Err, reads[1].Err, reads[2].Err}, err
		}},
		{"activity", func(ctx context.Context, d *plainDriver) ([]error, error) {
			q := provider.ActivityQuery{ResourceID: "a", Start: time.Unix(0, 0), End: time.Unix(60, 0)}
			reads := []provider.ActivityRead{{Query: q}, {Query: q}, {Query: q, Counts: []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 7}}}}
			err := provider.Activities(ctx, d, reads)
			if reads[2].Counts != nil {
				return nil, errors.New("the unanswered read kept its old counts")
			}
			return []error{reads[0].Err, reads[1].Err, reads[2].Err}, err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			d := &plainDriver{cancel: cancel, cancelAt: 2}
			errs, err := tt.read(ctx, d)
			require.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, 2, d.calls, "no read after the context ended")
			require.Len(t, errs, 3)
			require.NotErrorIs(t, errs[0], context.Canceled, "the read made before the context ended keeps its answer")
			require.ErrorIs(t, errs[2], context.Canceled)
		})
	}
}

func TestBatchReadsUseBatcher(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	d := &batchDriver{}
	rr := []provider.ResourceRead{{ID: "a"}, {ID: "b"}}
	require.NoError(t, provider.GetResources(ctx, d, rr))
	cr := []provider.CapacityRead{{ID: "a"}}
	require.NoError(t, provider.GetCapacities(ctx, d, cr))
	mr := []provider.MetricRead{{}, {}}
	require.NoError(t, provider.QueryMetrics(ctx, d, mr))
	ar := []provider.ActivityRead{{}, {}}
	require.NoError(t, provider.Activities(ctx, d, ar))
	assert.Equal(t, 4, d.batches, "one batch call per kind of read")
	assert.Zero(t, d.calls, "no per-resource call when the driver batches")
	assert.Equal(t, "batch", rr[1].Resource.Owner)
	assert.Equal(t, 42, cr[0].Capacity.Current)
	assert.Equal(t, []float64{42}, mr[1].Series.Values)
	assert.InDelta(t, 42.0, ar[1].Counts[0].Count, 0)
	require.NoError(t, provider.GetResources(ctx, d, nil))
	require.NoError(t, provider.Activities(ctx, d, nil))
	assert.Equal(t, 4, d.batches, "an empty batch is no call")
}

// TestBatchConcurrency: the bound a context carries for a batch's calls,
// the default without one, and at least 1.
func TestBatchConcurrency(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	assert.Equal(t, 8, provider.BatchConcurrency(ctx, 8), "none set: the default")
	assert.Equal(t, 2, provider.BatchConcurrency(provider.WithBatchConcurrency(ctx, 2), 8))
	assert.Equal(t, 1, provider.BatchConcurrency(provider.WithBatchConcurrency(ctx, 0), 8), "0 is 1")
	assert.Equal(t, 1, provider.BatchConcurrency(provider.WithBatchConcurrency(ctx, -3), 8), "negative is 1")
	inner := provider.WithBatchConcurrency(provider.WithBatchConcurrency(ctx, 2), 5)
	assert.Equal(t, 5, provider.BatchConcurrency(inner, 8), "the innermost")
}

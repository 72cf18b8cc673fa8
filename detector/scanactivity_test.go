package detector_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/benbjohnson/clock"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// activityOnly hides a source's batch reads of activity: Scan reads each
// resource's on its own.
type activityOnly struct{ provider.ActivitySource }

// countingActivity counts a memory cloud's activity reads, single and in
// batches; fail, when set, makes every batch call fail as a whole
// without answering its reads.
type countingActivity struct {
	cloud          *memory.Cloud
	single, batch  atomic.Int32
	fail           error
	answeredBefore int          // reads a failing batch answers before it fails
	bound          atomic.Int32 // the batch concurrency the last batch's ctx carried (-1: none)
}

func (c *countingActivity) Activity(ctx context.Context, q provider.ActivityQuery) ([]provider.ActivityCount, error) {
	c.single.Add(1)
	return c.cloud.Activity(ctx, q)
}

func (c *countingActivity) Activities(ctx context.Context, reads []provider.ActivityRead) error {
	c.batch.Add(1)
	c.bound.Store(int32(provider.BatchConcurrency(ctx, -1)))
	if c.fail != nil {
		if err := c.cloud.Activities(ctx, reads[:min(c.answeredBefore, len(reads))]); err != nil {
			return err
		}
		return c.fail
	}
	return c.cloud.Activities(ctx, reads)
}

// activityFleet is a memory cloud of n instances, each replaying one of
// the NAB EC2 CPU traces' shapes (testdata/nab, Numenta Inc., MIT
// licence) and tracking logins and API calls; every seventh had a login
// ten minutes before now.
func activityFleet(t *testing.T, now time.Time, n int) *memory.Cloud {
	t.Helper()
	mock := clock.NewMock()
	mock.Set(now.Add(-30 * 24 * time.Hour))
	cloud, err := memory.New(memory.Config{}, memory.WithClock(mock))
	require.NoError(t, err)
	shapes := []string{"c6585a", "24ae8d", "825cc2", "5f5533"}
	for i := range n {
		id := fmt.Sprintf("i-%03d", i)
		require.NoError(t, cloud.Add(provider.Resource{ID: id, Kind: provider.KindInstance, HourlyCost: 0.096}))
		require.NoError(t, cloud.Replay(id, provider.MetricCPU, nabCPU(t, shapes[i%len(shapes)]).Samples(), now.Add(-time.Minute)))
		require.NoError(t, cloud.TrackActivity(id, provider.ActivityLogins, provider.ActivityAPICalls))
		if i%7 == 0 {
			require.NoError(t, cloud.RecordActivity(id, provider.ActivityLogins, now.Add(-10*time.Minute), 1))
		}
	}
	mock.Set(now)
	return cloud
}

// TestScanActivityBatchedEqualsPerRead scans 130 instances whose activity
// source is a provider.ActivityBatcher: their activity is read in one
// Activities call per ScanChunk resources, none one by one, and the
// verdicts are those of a scan that reads each resource's activity on its
// own, the logins ten minutes ago keeping those instances from a stop.
func TestScanActivityBatchedEqualsPerRead(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := activityFleet(t, now, 130)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	cfg := detector.ScanConfig{Now: now}
	src := &countingActivity{cloud: cloud}
	got, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: perRead{cloud}, Activity: src}, ens, cfg)
	require.NoError(t, err)
	assert.Equal(t, int32(2), src.batch.Load(), "130 resources in chunks of %d", detector.ScanChunk)
	assert.Zero(t, src.single.Load(), "no activity read one by one")
	want, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: perRead{cloud}, Activity: activityOnly{cloud}}, ens, cfg)
	require.NoError(t, err)
	require.Len(t, got.Verdicts, 130)
	require.Len(t, want.Verdicts, 130)
	stops := 0
	for i := range want.Verdicts {
		require.Equal(t, comparable(want.Verdicts[i]), comparable(got.Verdicts[i]), want.Verdicts[i].ResourceID)
		v := got.Verdicts[i]
		if v.Action == detector.ActionStop {
			stops++
			var n int
			_, err := fmt.Sscanf(v.ResourceID, "i-%d", &n)
			require.NoError(t, err)
			assert.NotZero(t, n%7, "%s had a login ten minutes ago and is recommended a stop: %v", v.ResourceID, v.Explain())
		}
	}
	assert.Positive(t, stops, "some are recommended a stop: the logins make the difference")
	assert.Empty(t, got.Errors)

	// The memory cloud is both batchers: one Scan through it reads each
	// chunk's metrics and activity in one call each.
	both, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, ens, cfg)
	require.NoError(t, err)
	require.Len(t, both.Verdicts, 130)
	for i := range want.Verdicts {
		require.Equal(t, comparable(want.Verdicts[i]), comparable(both.Verdicts[i]), want.Verdicts[i].ResourceID)
	}
}

// TestScanActivityBatchThatFails: an Activities call that fails as a
// whole, leaving reads unanswered (against the batch contract), fails the
// activity of each resource it left with the call's error: none is
// judged on "no activity", and none of them is recommended a stop. The
// reads it answered before failing are judged on their answer.
func TestScanActivityBatchThatFails(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := activityFleet(t, now, 12)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	down := errors.New("activity backend unreachable")
	src := &countingActivity{cloud: cloud, fail: down, answeredBefore: 4}
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: perRead{cloud}, Activity: src}, ens, detector.ScanConfig{Now: now})
	require.NoError(t, err)
	failed := map[string]bool{}
	for _, e := range rep.Errors {
		if e.Op == "activity" {
			require.ErrorIs(t, e, down, e.ResourceID)
			failed[e.ResourceID] = true
		}
	}
	assert.Len(t, failed, 8, "the 8 reads the call left unanswered")
	answeredStop := 0
	for _, v := range rep.Verdicts {
		if failed[v.ResourceID] {
			assert.NotEqual(t, detector.ActionStop, v.Action, "%s: its activity is unknown: %v", v.ResourceID, v.Explain())
		} else if v.Action == detector.ActionStop {
			answeredStop++
		}
	}
	assert.Positive(t, answeredStop, "the answered reads are judged: some of them are recommended a stop")
}

// TestScanPassesItsConcurrencyToBatches: a batch read made by a Scan
// carries its Concurrency (provider.WithBatchConcurrency), so that a
// driver answering a batch one read at a time (the Kubernetes driver's
// workloads) makes no more calls at once than the scan would have.
func TestScanPassesItsConcurrencyToBatches(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	cloud := activityFleet(t, now, 3)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	for _, tt := range []struct{ give, want int }{{0, 8}, {1, 1}, {3, 3}} {
		src := &countingActivity{cloud: cloud}
		_, err := detector.Scan(t.Context(), detector.Fleet{Inventory: cloud, Metrics: perRead{cloud}, Activity: src}, ens, detector.ScanConfig{Now: now, Concurrency: tt.give})
		require.NoError(t, err)
		assert.Equal(t, int32(tt.want), src.bound.Load(), "Concurrency %d", tt.give)
	}
}

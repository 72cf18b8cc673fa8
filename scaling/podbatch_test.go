package scaling_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/scaling"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// podObservation is what the test's pod sources observe of target at now:
// four pods at a CPU that depends on the target (so that each target
// decides its own way).
func podObservation(target string, now time.Time) scaling.PodObservation {
	started := now.Add(-time.Hour)
	use := int64(100 * (1 + len(target)%7))
	obs := scaling.PodObservation{StatusReplicas: 4, Metrics: []hpa.MetricValues{{}}}
	for _, name := range []string{"a", "b", "c", "d"} {
		obs.Pods = append(obs.Pods, hpa.Pod{Name: name, Phase: hpa.PhaseRunning, Ready: hpa.ConditionTrue, StartTime: started, ReadyTransition: started,
			Containers: []hpa.Container{{Name: "app", Requests: hpa.ResourceList{hpa.ResourceCPU: 1000}}}})
		obs.Metrics[0].Samples = append(obs.Metrics[0].Samples, hpa.Sample{Pod: name, Value: use, Timestamp: now, Window: time.Minute})
	}
	return obs
}

// batchPods is a PodBatcher that answers from podObservation, failing the
// targets in fail, and counts its calls; ObservePods must not be called.
type batchPods struct {
	mu      sync.Mutex
	batches [][]string
	single  int
	fail    map[string]error
	whole   error
}

func (p *batchPods) ObservePods(_ context.Context, target provider.Resource, _ []hpa.MetricSpec, now time.Time) (scaling.PodObservation, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.single++
	return podObservation(target.ID, now), nil
}

func (p *batchPods) ObservePodsBatch(_ context.Context, reads []scaling.PodRead) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var ids []string
	for i := range reads {
		r := &reads[i]
		ids = append(ids, r.Target.ID)
		if p.whole != nil {
			r.Err = p.whole
			continue
		}
		r.Observation, r.Err = podObservation(r.Target.ID, r.Now), p.fail[r.Target.ID]
	}
	p.batches = append(p.batches, ids)
	return p.whole
}

// TestAutoscalerBatchesPods: with a PodBatcher, a pass observes the pods
// of a batch's HPA targets in one call (never one per target), decides
// exactly as with the same observations one target at a time, fails the
// one target whose read failed (with its cause) and not the others, and
// fails every HPA target of a call that failed as a whole.
func TestAutoscalerBatchesPods(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		c, err := memory.New(memory.Config{})
		require.NoError(t, err)
		cpu := hpa.MetricSpec{Type: hpa.SourceResource, Resource: &hpa.ResourceMetricSource{Name: hpa.ResourceCPU,
			Target: hpa.MetricTarget{Type: hpa.TargetUtilization, AverageUtilization: 60}}}
		var targets []scaling.TargetConfig
		for i := range 10 {
			id := fmt.Sprintf("web-%d%s", i, "xxxxxxx"[:i%7])
			require.NoError(t, c.AddGroup(provider.Resource{ID: id, Kind: provider.KindGroup}, provider.CapacitySpec{Min: 0, Max: 50, Desired: 4}))
			setCPU(t, c, id, 0.5)
			targets = append(targets, scaling.TargetConfig{ID: id, Strategies: []scaling.StrategySpec{{Type: scaling.StrategyHPA, HPA: &scaling.HPAConfig{Metrics: []hpa.MetricSpec{cpu}}}}})
		}
		targets = append(targets, scaling.TargetConfig{ID: "plain", Resource: "web-0", Strategies: []scaling.StrategySpec{{Type: scaling.StrategyThreshold}}})
		autoscaler := func(pods scaling.PodSource) *scaling.Autoscaler {
			e, err := scaling.NewEngine(scaling.EngineConfig{}, scaling.Cloud{Scaler: c, Metrics: c}, allowAll{})
			require.NoError(t, err)
			a, err := scaling.NewAutoscaler(scaling.Config{Targets: targets, Concurrency: 1}, e, scaling.Fleet{Inventory: c, Metrics: c, Pods: pods})
			require.NoError(t, err)
			return a
		}
		one := scaling.PodSourceFunc(func(_ context.Context, target provider.Resource, _ []hpa.MetricSpec, now time.Time) (scaling.PodObservation, error) {
			return podObservation(target.ID, now), nil
		})
		batch := &batchPods{fail: map[string]error{}}
		now := time.Now()
		want, got := autoscaler(one).Evaluate(t.Context(), now), autoscaler(batch).Evaluate(t.Context(), now)
		require.NoError(t, want.Err())
		require.NoError(t, got.Err())
		require.Len(t, got.Targets, len(targets))
		for i := range want.Targets {
			require.NotNil(t, got.Targets[i].Decision, got.Targets[i].Target)
			assert.Equal(t, want.Targets[i].Decision.Chosen, got.Targets[i].Decision.Chosen, want.Targets[i].Target)
		}
		assert.Zero(t, batch.single, "no pod read one target at a time")
		// 11 targets on one worker are read 2 at a time (a quarter of the
		// targets per worker): one call per batch with an HPA target, each
		// HPA target in one of them, the plain one in none.
		assert.Len(t, batch.batches, 5, "one call for each batch: %v", batch.batches)
		seen := map[string]int{}
		for _, ids := range batch.batches {
			for _, id := range ids {
				seen[id]++
			}
		}
		assert.Len(t, seen, 10, "the HPA targets, not the plain one")
		for id, n := range seen {
			assert.Equal(t, 1, n, id)
		}

		// One read fails: its target fails with the cause, the others decide.
		cause := errors.New("pods forbidden")
		batch.fail["web-3xxx"] = cause
		rep := autoscaler(batch).Evaluate(t.Context(), now)
		for _, tr := range rep.Targets {
			if tr.Target == "web-3xxx" {
				require.ErrorIs(t, tr.Err, cause)
				assert.Contains(t, tr.Err.Error(), "scaling: target web-3xxx: pods: ")
				assert.Nil(t, tr.Decision)
				continue
			}
			require.NoError(t, tr.Err, tr.Target)
			assert.NotNil(t, tr.Decision, tr.Target)
		}

		// The call fails as a whole: every HPA target fails, the plain one decides.
		batch.whole = errors.New("metrics API down")
		rep = autoscaler(batch).Evaluate(t.Context(), now)
		for _, tr := range rep.Targets {
			if tr.Target == "plain" {
				require.NoError(t, tr.Err)
				continue
			}
			require.ErrorIs(t, tr.Err, batch.whole, tr.Target)
		}
	})
}

// TestObservePodsBatchOneByOne: without a PodBatcher, every read is
// answered by ObservePods; a ctx that ended fails the reads left with
// its error.
func TestObservePodsBatchOneByOne(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	var seen []string
	src := scaling.PodSourceFunc(func(_ context.Context, target provider.Resource, metrics []hpa.MetricSpec, at time.Time) (scaling.PodObservation, error) {
		seen = append(seen, target.ID)
		assert.Len(t, metrics, 1)
		if target.ID == "b" {
			return scaling.PodObservation{}, provider.ErrNotFound
		}
		return podObservation(target.ID, at), nil
	})
	reads := []scaling.PodRead{{Target: provider.Resource{ID: "a"}, Metrics: make([]hpa.MetricSpec, 1), Now: now}, {Target: provider.Resource{ID: "b"}, Metrics: make([]hpa.MetricSpec, 1), Now: now}}
	require.NoError(t, scaling.ObservePodsBatch(t.Context(), src, reads))
	assert.Equal(t, []string{"a", "b"}, seen)
	require.NoError(t, reads[0].Err)
	assert.Equal(t, podObservation("a", now), reads[0].Observation)
	require.ErrorIs(t, reads[1].Err, provider.ErrNotFound)

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	seen = nil
	require.ErrorIs(t, scaling.ObservePodsBatch(ctx, src, reads), context.Canceled)
	assert.Empty(t, seen)
	for _, r := range reads {
		require.ErrorIs(t, r.Err, context.Canceled)
		assert.Empty(t, r.Observation.Pods)
	}
	require.NoError(t, scaling.ObservePodsBatch(ctx, src, nil), "nothing to read")
}

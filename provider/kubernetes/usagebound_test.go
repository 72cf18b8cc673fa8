package kubernetes_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/kubernetes"
)

// overlapProbe is a usage source that reports the most calls it saw at
// once. Each call waits until more than bound calls are in flight (the
// bound broken: it returns at once) or for a while, so that calls a
// driver makes at once do overlap even on a loaded machine.
type overlapProbe struct {
	bound int
	wait  time.Duration

	mu       sync.Mutex
	inFlight int
	most     int
	calls    int
	broken   chan struct{}
}

func newOverlapProbe(bound int, wait time.Duration) *overlapProbe {
	return &overlapProbe{bound: bound, wait: wait, broken: make(chan struct{})}
}

func (p *overlapProbe) PodUsage(ctx context.Context, _, _ string, q provider.Query) (provider.Series, error) {
	p.mu.Lock()
	p.inFlight++
	p.calls++
	p.most = max(p.most, p.inFlight)
	if p.inFlight > p.bound {
		select {
		case <-p.broken:
		default:
			close(p.broken)
		}
	}
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.inFlight--
		p.mu.Unlock()
	}()
	t := time.NewTimer(p.wait)
	defer t.Stop()
	select {
	case <-p.broken:
	case <-t.C:
	case <-ctx.Done():
		return provider.Series{}, ctx.Err()
	}
	return provider.Resample(q, []provider.Sample{{Time: q.Start, Value: 0.1}})
}

func (p *overlapProbe) result() (most, calls int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.most, p.calls
}

// TestBatchUsageQueriesBoundedByTheContext: the per-pod queries of a usage
// source (a Prometheus server, through PrometheusUsage) that a QueryMetrics
// batch makes are bounded by provider.WithBatchConcurrency, as its
// workload reads are: the scaling Autoscaler passes 1 (its workers are its
// concurrency) and a detector Scan its Concurrency, where each workload
// read fanned out to Config.Concurrency (4) pod queries of its own.
func TestBatchUsageQueriesBoundedByTheContext(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cs := []corev1.Container{container("app", "250m", "128Mi", false)}
	now := time.Now().Truncate(time.Minute)
	var reads []provider.MetricRead
	for i := range 2 {
		name := "web-" + strconv.Itoa(i)
		f.deployment(name, 2, cs)
		for k := range 2 {
			f.pod(name+"-"+strconv.Itoa(k), map[string]string{"app": name}, cs, running(now.Add(-time.Hour)))
		}
		reads = append(reads, provider.MetricRead{Query: provider.Query{ResourceID: f.id(kubernetes.ObjectDeployment, name),
			Metric: provider.MetricCPU, Start: now.Add(-5 * time.Minute), End: now, Step: time.Minute}})
	}
	probe := newOverlapProbe(1, 500*time.Millisecond)
	d := f.driver(kubernetes.Config{}, kubernetes.WithUsageSource(probe))
	require.NoError(t, d.QueryMetrics(provider.WithBatchConcurrency(f.ctx, 1), reads))
	for i, r := range reads {
		require.NoError(t, r.Err, "read %d", i)
		assert.InDelta(t, 0.1*2/0.5, r.Series.Values[0], 1e-9, "read %d: two pods of 0.1 cores over 0.5 requested", i)
	}
	most, calls := probe.result()
	assert.Equal(t, 4, calls, "one query per pod")
	assert.Equal(t, 1, most, "one query at a time")
}

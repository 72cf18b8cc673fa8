package reaper_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// mixedUpBatcher is a host's metrics driver with a batching bug: it
// answers each read of a batch with the series of another resource (as a
// driver that pairs GetMetricData's results with its queries by position
// does when the results come back in another order). Every series it
// returns names the resource it belongs to, as every driver's does.
type mixedUpBatcher struct {
	*memory.Cloud
	swap map[string]string // resource ID → the one whose series answers it
}

func (b mixedUpBatcher) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	for i := range reads {
		q := reads[i].Query
		if other, ok := b.swap[q.ResourceID]; ok {
			q.ResourceID = other
		}
		reads[i].Series, reads[i].Err = b.QueryMetric(ctx, q)
	}
	return nil
}

// TestMixedUpBatchAnswerNotActedOn: a busy build agent (CPU at 60 %) and
// an idle instance are read through a host's batching driver that answers
// each one's reads with the other's series. The series say whose they
// are; a verdict made on another resource's series must not stop the
// busy machine: the read is inconsistent, named, and nothing is acted on.
// (A review found Scan took each answer for its read's resource: the busy
// agent was stopped on the idle one's data.)
func TestMixedUpBatchAnswerNotActedOn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	e.add(t, vm{id: "i-busy", cpu: 0.6}, vm{id: "i-idle", cpu: 0.01})
	src := mixedUpBatcher{Cloud: e.cloud, swap: map[string]string{"i-busy": "i-idle", "i-idle": "i-busy"}}
	r, err := reaper.New(reaper.Config{Execute: true},
		reaper.Fleet{Inventory: e.cloud, Metrics: src, Actuator: e.cloud},
		e.ensemble, e.engine, reaper.WithClock(e.clock), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
	require.NoError(t, err)
	rep, err := e.run(t.Context(), t, r, t0)
	require.NoError(t, err)
	assert.Empty(t, e.actions(), "nothing stopped on another resource's series")
	busy := record(t, rep, "i-busy")
	assert.NotEqual(t, reaper.OutcomeActed, busy.Outcome, busy.String())
	msgs := strings.Join(busy.ErrorMessages, "\n")
	assert.Contains(t, msgs, "i-idle", "the error names the resource the series was for")
	assert.Contains(t, msgs, "i-busy")
}

package scaling_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// TestAHostStrategyThatReadsItsOwnDataRecoversByName: a host's strategy
// that reads its data itself (no MetricNeeder) and once said NoData is
// one that reads metrics from then on: its recovery names it, where the
// event said no strategy that reads metrics was left, and while it sees,
// another strategy without data does not make the target blind (it is
// scaled on the host's data).
func TestAHostStrategyThatReadsItsOwnDataRecoversByName(t *testing.T) {
	t.Parallel()
	e, rec, target := observedEngine(t, scaling.EngineConfig{NoDataAfter: -1})
	hostData, aData := false, false
	host := scaling.StrategyFunc(func(_ context.Context, s scaling.State) (scaling.Recommendation, error) {
		if hostData {
			return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired, Reason: "host sees", Fitness: 0.5}, nil
		}
		return scaling.Recommendation{Capacity: s.Target.Capacity.CapacitySpec, Proposal: s.Target.Capacity.Desired, Reason: "host has no queue depth", NoData: true}, nil
	})
	cands := []scaling.Candidate{{Name: "host", Strategy: host}, {Name: "a", Strategy: lacking{"a", &aData}}}
	decide := func(at time.Duration, cands ...scaling.Candidate) {
		t.Helper()
		_, err := e.Decide(t.Context(), scaling.State{Now: t0.Add(at), Target: target}, cands, "")
		require.NoError(t, err)
	}
	decide(0, cands[:1]...)
	require.Equal(t, 1, rec.count(scaling.EventNoData))
	hostData = true
	decide(time.Minute, cands[:1]...)
	require.Equal(t, 1, rec.count(scaling.EventDataRecovered))
	last := rec.events[len(rec.events)-1]
	assert.Equal(t, "host", last.Strategy)
	assert.Equal(t, "host lacks no data: host sees", last.Reason)

	decide(2*time.Minute, cands...)
	assert.Equal(t, 1, rec.count(scaling.EventNoData), "the host's strategy sees, a alone lacks")
}

package metrics

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
)

// The de-duplication key of a resource's decisions is dropped when the
// resource is terminated (an executed terminate, not in a dry run): it
// was kept for good, one per decision kind and action of every resource
// ever decided on, so a host whose fleet churns grew without bound. A
// decision recorded twice before the terminate is still counted once, and
// a resource that is not gone keeps its key.
func TestTerminatedResourceLeavesTheDecisionKeys(t *testing.T) {
	t.Parallel()
	c, err := New(Config{})
	require.NoError(t, err)
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	decide := func(id string, src string) monitor.Event {
		return monitor.Event{Time: at, Kind: monitor.KindDecision, Source: src, ResourceID: id,
			Action: safety.ActionTerminate, Outcome: string(safety.Pass)}
	}
	done := monitor.Event{Time: at.Add(time.Minute), Kind: monitor.KindAction, Source: monitor.SourceReaper,
		ResourceID: "i-gone", Action: safety.ActionTerminate, Outcome: monitor.OutcomeDone}
	require.NoError(t, c.Write(t.Context(), []monitor.Event{decide("i-gone", monitor.SourceSafety), decide("i-kept", monitor.SourceSafety)}))
	require.NoError(t, c.Write(t.Context(), []monitor.Event{decide("i-gone", monitor.SourceReaper), done, decide("i-kept", monitor.SourceReaper)}))
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Len(t, c.lastSeen, 1, "only the resource that is not gone keeps its key: %v", c.lastSeen)
	assert.Contains(t, c.lastSeen, "i-kept")
	assert.InDelta(t, 2, testutil.ToFloat64(c.decisions.WithLabelValues(string(safety.Pass))), 0, "each decision counted once")
}

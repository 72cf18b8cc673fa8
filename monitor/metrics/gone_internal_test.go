package metrics

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
)

// The collector remembers when the resources it saw terminated went (so
// that a late verdict, older than the terminate, does not count them
// again) for at most minGoneMemory of them, forgetting the oldest first:
// it kept one time for every resource ever terminated, so a host whose
// fleet churns grew without bound. The latest verdicts of live resources
// are all kept.
func TestTerminatedResourcesAreRememberedBounded(t *testing.T) {
	t.Parallel()
	c, err := New(Config{})
	require.NoError(t, err)
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	n := 3 * minGoneMemory
	for i := range n {
		id := fmt.Sprintf("i-%d", i)
		require.NoError(t, c.Write(t.Context(), []monitor.Event{
			{Time: at, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: id, Outcome: string(detector.Idle)},
			{Time: at.Add(time.Duration(i+1) * time.Second), Kind: monitor.KindAction, Source: monitor.SourceReaper, ResourceID: id,
				Action: safety.ActionTerminate, Outcome: monitor.OutcomeDone},
		}))
	}
	require.NoError(t, c.Write(t.Context(), []monitor.Event{
		{Time: at, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: "live", Outcome: string(detector.Idle)},
		// A late verdict of the newest resource terminated: still known gone.
		{Time: at, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: fmt.Sprintf("i-%d", n-1), Outcome: string(detector.Idle)},
	}))
	c.mu.Lock()
	defer c.mu.Unlock()
	assert.LessOrEqual(t, len(c.verdictAt)+len(c.gone), minGoneMemory+1, "bounded, not one per resource ever terminated")
	assert.Equal(t, map[string]string{"live": string(detector.Idle)}, c.verdicts)
}

package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/metrics"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// A block that names no rule (a scaling step refused by a host's own
// scaling.Gate, which has no auditor, or a reaper record blocked before
// the safety gate was asked: its approval denied) is counted in
// idlescale_blocks_total under rule="unnamed" (metrics.UnnamedRule): it
// was counted in decisions_total{outcome="block"} but in no blocks_total
// series, so the two disagreed and an alert on blocks_total missed it.
// A block that names its rules is counted under each, not as unnamed.
func TestBlockWithoutRulesIsCountedUnnamed(t *testing.T) {
	t.Parallel()
	col, err := metrics.New(metrics.Config{})
	require.NoError(t, err)
	step := monitor.ScalingEvents(scaling.Event{Time: t0, Kind: scaling.EventStepBlocked, Target: "web", PlanID: "p1", Step: 1,
		From: provider.CapacitySpec{Min: 1, Max: 10, Desired: 4}, To: provider.CapacitySpec{Min: 1, Max: 10, Desired: 2},
		Reason: "blocked: change freeze"}, 0)
	require.Len(t, step, 1)
	require.Equal(t, monitor.KindBlocked, step[0].Kind)
	denied := ev(monitor.KindBlocked, monitor.SourceReaper, "i-1", safety.ActionStop, string(safety.Block), 0)
	denied.ApprovalID = "a-1"
	named := ev(monitor.KindBlocked, monitor.SourceReaper, "i-2", safety.ActionStop, string(safety.Block), 0)
	named.Rules = []string{"backup", "critical"}
	require.NoError(t, col.Write(t.Context(), append(step, denied, named)))

	want := `
# HELP idlescale_blocks_total Blocked proposals by blocking safety rule.
# TYPE idlescale_blocks_total counter
idlescale_blocks_total{rule="backup"} 1
idlescale_blocks_total{rule="critical"} 1
idlescale_blocks_total{rule="unnamed"} 2
`
	require.NoError(t, testutil.CollectAndCompare(col, strings.NewReader(want), "idlescale_blocks_total"))
	assert.Equal(t, "unnamed", metrics.UnnamedRule)
}

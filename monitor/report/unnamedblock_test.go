package report_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/safety"
)

// A block that names no rule (a scaling step a host's own gate refused,
// a reaper record whose approval was denied) is counted in Blocks under
// "unnamed", as idlescale_blocks_total counts it: it was counted in
// Totals.Blocked but in no rule, so "blocked by" added up to less than
// the blocks and did not say that the rest named none.
func TestBlockWithoutRulesIsCountedUnnamed(t *testing.T) {
	t.Parallel()
	blocked := func(id string, rules ...string) monitor.Event {
		return monitor.Event{Time: t0, Kind: monitor.KindBlocked, Source: monitor.SourceReaper, ResourceID: id,
			Action: safety.ActionStop, Outcome: string(safety.Block), Rules: rules}
	}
	rep, err := report.Build(report.Input{Now: t0, Events: []monitor.Event{
		blocked("i-1", "backup"), blocked("i-2"), blocked("i-3"),
	}})
	require.NoError(t, err)
	assert.Equal(t, 3, rep.Totals.Blocked)
	assert.Equal(t, []report.RuleCount{{Rule: "unnamed", Count: 2}, {Rule: "backup", Count: 1}}, rep.Blocks)
}

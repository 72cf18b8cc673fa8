package synth_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory/synth"
)

// TestDetectorsDecide: the default ensemble, scanning 400 resources of a
// generated fleet at midday UTC, stops the idle ones and only those, and
// finds the busy ones and the daily ones (busy at midday) not idle; the
// counts are logged (at this writing: idle stop 119, busy none 161, daily
// schedule 78, weekly idle-schedule 37 and none 5).
func TestDetectorsDecide(t *testing.T) {
	t.Parallel()
	now := start.Add(60*24*time.Hour + 12*time.Hour)
	f, _ := newFleet(t, 1_000_000, 1, now)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	ids := make([]string, 400)
	for i := range ids {
		ids[i] = f.ID(i * 2500)
	}
	rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f}, ens, detector.ScanConfig{Now: now, Filter: provider.Filter{IDs: ids}})
	require.NoError(t, err)
	require.Len(t, rep.Verdicts, 400)
	type key struct {
		class  synth.Class
		state  detector.State
		action detector.Action
	}
	got := map[key]int{}
	classes := map[synth.Class]int{}
	for _, v := range rep.Verdicts {
		i, ok := f.Index(v.ResourceID)
		require.True(t, ok)
		got[key{f.Class(i), v.State, v.Action}]++
		classes[f.Class(i)]++
	}
	for k, n := range got {
		t.Logf("%-6s %-8s %-8s %d", k.class, k.state, k.action, n)
	}
	assert.GreaterOrEqual(t, got[key{synth.ClassIdle, detector.Idle, detector.ActionStop}], classes[synth.ClassIdle]*9/10, "idle instances are stopped")
	for k, n := range got {
		if k.class == synth.ClassBusy || k.class == synth.ClassDaily { // the daily ones are busy at midday
			assert.Equal(t, detector.NotIdle, k.state, "%d %s instances", n, k.class)
		}
		if k.class != synth.ClassIdle {
			assert.NotEqual(t, detector.ActionStop, k.action, "%d %s instances stopped", n, k.class)
		}
	}
}

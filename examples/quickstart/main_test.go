package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/reaper"
)

func TestQuickstartRuns(t *testing.T) {
	t.Parallel()
	out := filepath.Join(t.TempDir(), "report.json")
	var buf bytes.Buffer
	require.NoError(t, run(t.Context(), &buf, defaultFleet(), repoRoot(), out, 14*24*time.Hour))
	text := buf.String()
	assert.Contains(t, text, "9 resources on the in-memory cloud")
	assert.Contains(t, text, "i-0c6585a")

	data, err := os.ReadFile(out)
	require.NoError(t, err)
	var rep Report
	require.NoError(t, json.Unmarshal(data, &rep))
	require.Len(t, rep.Resources, 9)
	byID := map[string]Row{}
	for _, r := range rep.Resources {
		byID[r.Resource.ID] = r
		assert.Greater(t, r.Coverage, 0.99, "%s: every trace covers the two weeks", r.Resource.ID)
	}
	// The real traces keep their character after the replay.
	assert.Less(t, byID["i-0c6585a"].CPUMax, 0.02, "c6585a is idle")
	assert.Greater(t, byID["db-0825cc2"].CPUMean, 0.8, "825cc2 is saturated")
	assert.Greater(t, byID["i-077c1ca"].CPUMax, 0.95, "77c1ca has its burst")
	require.NotNil(t, byID["asg-web"].Capacity)
	assert.Equal(t, 4, byID["asg-web"].Capacity.Desired)

	// The detector flags the truly idle instances and spares the busy ones.
	for _, id := range []string{"i-0c6585a", "i-024ae8d"} {
		v := byID[id].Verdict
		assert.Equal(t, detector.Idle, v.State, id)
		assert.Greater(t, v.Confidence, 0.8, id)
		assert.Equal(t, detector.ActionStop, v.Action, id)
		assert.Positive(t, v.MonthlySavings, id)
	}
	for _, id := range []string{"db-0825cc2", "i-05f5533", "i-0ac20cd", "asg-web"} {
		assert.Equal(t, detector.NotIdle, byID[id].Verdict.State, id)
	}
	var savings float64
	for _, v := range rep.Idle {
		savings += v.MonthlySavings
	}
	assert.InDelta(t, savings, rep.Savings, 1e-9)
	assert.Contains(t, text, "idle resources:")

	// The reaper ran dry: nothing changed, and every recommended stop went
	// through the safety engine.
	rr := rep.Reaper
	assert.True(t, rr.DryRun)
	assert.Zero(t, rr.Totals.Acted)
	assert.Len(t, rr.Records, 9)
	ftp, ok := rr.Record("i-024ae8d")
	require.True(t, ok)
	assert.Equal(t, reaper.OutcomeBlocked, ftp.Outcome, "legacy-ftp has no verified backup")
	assert.Contains(t, ftp.BlockedBy, "backup")
	relay, ok := rr.Record("i-053ea38")
	require.True(t, ok)
	require.NotNil(t, relay.Decision)
	assert.False(t, relay.Decision.Allowed, "a production monitoring instance is never stopped without approval")
	assert.True(t, relay.Decision.ApprovalRequired)
	db, ok := rr.Record("db-0825cc2")
	require.True(t, ok)
	assert.Empty(t, db.Action, "a busy database is not acted on")
	assert.Contains(t, text, "reaper dry run at")
}

func TestQuickstartBadFleet(t *testing.T) {
	t.Parallel()
	bad := filepath.Join(t.TempDir(), "fleet.yaml")
	require.NoError(t, os.WriteFile(bad, []byte("resources: [{id: x, kind: zeppelin}]\n"), 0o600))
	err := run(t.Context(), &bytes.Buffer{}, bad, "", "", time.Hour)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "zeppelin")
}

// A resource without CPU data has no mean, p95 or maximum: the table shows
// "-" and the JSON report leaves the fields out, instead of failing to
// encode NaN.
func TestQuickstartResourceWithoutData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	fleet := filepath.Join(dir, "fleet.yaml")
	require.NoError(t, os.WriteFile(fleet, []byte("resources:\n  - {id: i-quiet, kind: instance, name: no-agent}\n"), 0o600))
	out := filepath.Join(dir, "report.json")
	var buf bytes.Buffer
	require.NoError(t, run(t.Context(), &buf, fleet, "", out, 24*time.Hour))
	assert.Contains(t, buf.String(), "i-quiet")

	data, err := os.ReadFile(out)
	require.NoError(t, err)
	var raw struct {
		Resources []map[string]json.RawMessage `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(data, &raw))
	require.Len(t, raw.Resources, 1)
	for _, k := range []string{"cpu_mean", "cpu_p95", "cpu_max"} {
		assert.NotContains(t, raw.Resources[0], k, "no data, no %s", k)
	}
	assert.Contains(t, raw.Resources[0], "coverage")
	var rep Report
	require.NoError(t, json.Unmarshal(data, &rep))
	require.Len(t, rep.Resources, 1)
	assert.True(t, provider.IsGap(rep.Resources[0].CPUMax), "an absent statistic reads back as a gap, not 0")
}

// The built-in fleet's traces lie outside its directory: without a root
// that holds them the fleet is refused, and a root must hold the fleet.
func TestQuickstartFleetReadsOnlyItsRoot(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), &bytes.Buffer{}, defaultFleet(), "", "", time.Hour)
	require.ErrorIs(t, err, provider.ErrInvalid)
	err = run(t.Context(), &bytes.Buffer{}, defaultFleet(), t.TempDir(), "", time.Hour)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "not inside -root")
}

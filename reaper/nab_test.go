package reaper_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/trace"
)

// TestNABTraces replays two real EC2 CPU traces of the Numenta Anomaly
// Benchmark (see testdata/README.md) as the last two weeks of two
// instances: c6585a idles around 0.1 % CPU, 825cc2 runs saturated. The
// pipeline must stop the idle one, verify it, and leave the busy one alone.
func TestNABTraces(t *testing.T) {
	t.Parallel()
	e := newEnv(t, memory.Config{})
	traces := map[string]string{
		"i-c6585a": "ec2_cpu_utilization_c6585a.csv",
		"i-825cc2": "ec2_cpu_utilization_825cc2.csv",
	}
	for id, file := range traces {
		cpu, err := trace.ReadCSVFile(filepath.Join("..", "testdata", "nab", file), trace.CSVOptions{Scale: 0.01})
		require.NoError(t, err)
		require.NotEmpty(t, cpu)
		require.NoError(t, e.cloud.Add(provider.Resource{
			ID: id, Kind: provider.KindInstance, Environment: "staging", HourlyCost: 0.192,
			Size: provider.Size{InstanceType: "m5.xlarge"}, LaunchTime: t0.Add(-60 * 24 * time.Hour),
		}))
		require.NoError(t, e.cloud.Replay(id, provider.MetricCPU, cpu, t0))
		require.NoError(t, e.cloud.AddBackup(provider.Backup{
			ID: "snap-" + id, ResourceID: id, Time: t0.Add(-2 * time.Hour), Complete: true, Verified: true,
		}))
	}

	rep, err := e.run(t.Context(), t, e.reaper(t, reaper.Config{Execute: true}), t0)
	require.NoError(t, err)
	require.NoError(t, rep.Err())

	idle := record(t, rep, "i-c6585a")
	require.NotNil(t, idle.Verdict)
	assert.Equal(t, detector.Idle, idle.Verdict.State, idle.Verdict.Explain())
	assert.GreaterOrEqual(t, idle.Verdict.Confidence, 0.8)
	assert.Equal(t, reaper.OutcomeActed, idle.Outcome, idle.String())
	assert.True(t, idle.Verified)

	busy := record(t, rep, "i-825cc2")
	require.NotNil(t, busy.Verdict)
	assert.Equal(t, detector.NotIdle, busy.Verdict.State, busy.Verdict.Explain())
	assert.Equal(t, reaper.OutcomeSkipped, busy.Outcome)

	acts := e.actions()
	require.Len(t, acts, 1)
	assert.Equal(t, memory.OpStop, acts[0].Op)
	assert.Equal(t, "i-c6585a", acts[0].ResourceID)
	got, err := e.cloud.Get(t.Context(), "i-825cc2")
	require.NoError(t, err)
	assert.Equal(t, provider.StateRunning, got.State)
	assert.InDelta(t, 0.192*detector.HoursPerMonth, rep.Totals.RealisedMonthlySavings, 1e-9)
}

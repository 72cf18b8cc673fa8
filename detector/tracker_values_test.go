package detector_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestTrackerRefusesValuesAFullReadRefuses: a machine at 50 % CPU for a
// month whose source then reads one step as a large negative rate (a CPU
// counter that reset, read as a rate) or −∞. A full read refuses the
// input (Input.Validate: a utilization value must be in [0, 1], a value
// finite), so Scan gives no verdict, only the error. A Tracker whose
// state was built an hour before read the new step into its sums: the
// day's mean fell below the idle threshold, and the busy machine was
// reported idle. It now refuses it as the full read does.
func TestTrackerRefusesValuesAFullReadRefuses(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	t0 := start.Add(30 * 24 * time.Hour)
	for _, bad := range []float64{-1000, math.Inf(-1)} {
		cpu := synth("r-busy", start, 5*time.Minute, 31*24*12, func(int) float64 { return 0.5 })
		cpu.Values[30*24*12+5] = bad // in the hour after t0
		r := res("r-busy", start)
		f := &gridFleet{resources: []provider.Resource{r}, series: map[string]map[provider.Metric]provider.Series{r.ID: {provider.MetricCPU: cpu}}, quiet: map[string]bool{r.ID: true}}
		ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
		require.NoError(t, err)
		tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
		require.NoError(t, err)

		v, read, err := tr.Detect(t.Context(), f, nil, r, t0)
		require.NoError(t, err)
		require.True(t, read.Full)
		require.Equal(t, detector.NotIdle, v.State, "%v", v.Explain())

		now := t0.Add(time.Hour)
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: f, Metrics: f}, ens, detector.ScanConfig{Now: now})
		require.NoError(t, err)
		require.Empty(t, rep.Verdicts, "a full read refuses %v", bad)
		require.Len(t, rep.Errors, 1)
		require.ErrorIs(t, rep.Errors[0], provider.ErrInvalid)

		v, read, err = tr.Detect(t.Context(), f, nil, r, now)
		require.ErrorIs(t, err, provider.ErrInvalid, "%v: %s %.2f (full read %v): %v", bad, v.State, v.Confidence, read.Full, v.Explain())
		assert.Contains(t, err.Error(), "input.series[cpu].values[", "the error names the value, as the full read's does")
		assert.True(t, read.Full, "read in full, as Scan")
	}
}

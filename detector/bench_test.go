package detector_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// BenchmarkFleetScan scans 10,000 instances with one week of 5-minute CPU
// each (stored with SetSeries) on the memory provider with the default
// ensemble.
func BenchmarkFleetScan(b *testing.B) {
	const fleet, steps = 10_000, 7 * 288
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	mock := clock.NewMock()
	mock.Set(now.Add(-30 * 24 * time.Hour))
	cloud, err := memory.New(memory.Config{}, memory.WithClock(mock))
	require.NoError(b, err)
	traces := []provider.Series{nabCPU(b, "c6585a"), nabCPU(b, "825cc2"), nabCPU(b, "77c1ca"), nabCPU(b, "ac20cd")}
	for i := range fleet {
		id := fmt.Sprintf("i-%05d", i)
		require.NoError(b, cloud.Add(provider.Resource{ID: id, Kind: provider.KindInstance, HourlyCost: 0.1}))
		tr := traces[i%len(traces)]
		off := (i / len(traces)) % (len(tr.Values) - steps)
		require.NoError(b, cloud.SetSeries(provider.Series{ResourceID: id, Metric: provider.MetricCPU, Start: now.Add(-steps * 5 * time.Minute), Step: 5 * time.Minute, Values: tr.Values[off : off+steps]}))
	}
	mock.Set(now)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(b, err)
	cfg := detector.ScanConfig{Now: now, History: 7 * 24 * time.Hour, Metrics: []provider.Metric{provider.MetricCPU}}
	idle := 0
	for b.Loop() {
		rep, err := detector.Scan(b.Context(), detector.Fleet{Inventory: cloud, Metrics: cloud}, ens, cfg)
		if err != nil || len(rep.Verdicts) != fleet {
			b.Fatal(err, len(rep.Verdicts))
		}
		idle = len(rep.Idle())
	}
	b.ReportMetric(float64(fleet)*float64(b.N)/b.Elapsed().Seconds(), "resources/s")
	b.ReportMetric(float64(idle), "idle")
}

// BenchmarkEnsembleDetect produces one verdict from 14 days of 5-minute CPU
// and activity counts.
func BenchmarkEnsembleDetect(b *testing.B) {
	now := time.Date(2026, 3, 16, 12, 0, 0, 0, time.UTC)
	s := nabCPU(b, "c6585a")
	s.Start = now.Add(-time.Duration(len(s.Values)) * s.Step)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(b, err)
	in := detector.Input{
		Now:      now,
		Resource: provider.Resource{ID: "c6585a", Kind: provider.KindInstance, HourlyCost: 0.1},
		Series:   []provider.Series{s},
		Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}},
	}
	var v detector.Verdict
	for b.Loop() {
		v, err = ens.Detect(b.Context(), in)
		if err != nil {
			b.Fatal(err)
		}
	}
	if v.State != detector.Idle {
		b.Fatal(v.Explain())
	}
}

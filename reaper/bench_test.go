package reaper_test

import (
	"fmt"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
)

// BenchmarkRunOnce measures a dry run over 1,000 memory instances with 15
// days of 5-minute CPU samples each (a stop needs 14 days of evidence),
// half of them idle: detection over the whole fleet and a safety preview
// (backup, critical, business-hours, ... rules) of every idle one.
func BenchmarkRunOnce(b *testing.B) {
	const n = 1000
	clk := bclock.NewMock()
	clk.Set(t0)
	cloud, err := memory.New(memory.Config{}, memory.WithClock(clk))
	require.NoError(b, err)
	for i := range n {
		id := fmt.Sprintf("i-%04d", i)
		cpu := 0.02
		if i%2 == 1 {
			cpu = 0.6
		}
		require.NoError(b, cloud.Add(provider.Resource{
			ID: id, Kind: provider.KindInstance, HourlyCost: 0.096, LaunchTime: t0.Add(-30 * 24 * time.Hour),
		}))
		samples := make([]provider.Sample, 0, 15*288)
		for at := t0.Add(-15 * 24 * time.Hour); at.Before(t0); at = at.Add(5 * time.Minute) {
			samples = append(samples, provider.Sample{Time: at, Value: cpu})
		}
		require.NoError(b, cloud.AddSamples(id, provider.MetricCPU, samples...))
		require.NoError(b, cloud.AddBackup(provider.Backup{ID: "snap-" + id, ResourceID: id, Time: t0.Add(-time.Hour), Complete: true, Verified: true}))
	}
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: cloud, History: &safety.MemoryHistory{}})
	require.NoError(b, err)
	engine, err := safety.New(safety.Config{}, rules)
	require.NoError(b, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(b, err)
	r, err := reaper.New(reaper.Config{MaxActions: n}, reaper.Fleet{Inventory: cloud, Metrics: cloud}, ens, engine, reaper.WithClock(clk))
	require.NoError(b, err)

	ctx := b.Context()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rep, err := r.RunOnce(ctx, t0)
		if err != nil || rep.Totals.WouldAct != n/2 {
			b.Fatalf("run: %v, would act on %d", err, rep.Totals.WouldAct)
		}
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "resources/s")
}

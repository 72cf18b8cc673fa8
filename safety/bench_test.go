package safety_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// benchEngine is an engine with every built-in rule over in-memory
// sources: a backup catalog, a dependency graph, two health checks, a
// fleet history and a restorer.
func benchEngine(tb testing.TB, opts ...safety.Option) *safety.Engine {
	tb.Helper()
	backups := map[string][]provider.Backup{}
	deps := map[string][]safety.Dependent{}
	for i := range 100 {
		id := fmt.Sprintf("i-%03d", i)
		backups[id] = []provider.Backup{
			{ID: "snap-" + id, ResourceID: id, Time: t0.Add(-3 * time.Hour), Complete: true, Verified: true},
			{ID: "snap-old-" + id, ResourceID: id, Time: t0.Add(-20 * time.Hour), Complete: true, Verified: true},
		}
		deps[id] = []safety.Dependent{{ID: "lb-" + id, Relation: "load balancer target", Live: i%10 == 0}}
	}
	graph, err := safety.NewStaticGraph(deps)
	require.NoError(tb, err)
	hist := &safety.MemoryHistory{}
	require.NoError(tb, hist.Record("web", t0.Add(-20*time.Minute), 3))
	healthy := safety.HealthCheckerFunc(func(context.Context, safety.Proposal) error { return nil })
	rules, err := safety.Builtin(safety.BuiltinConfig{
		BusinessHours: safety.BusinessHoursConfig{TimeZone: "Europe/Berlin",
			Holidays: []safety.Holiday{{Date: "12-25", Name: "Christmas"}}},
	}, safety.BuiltinSources{
		Backups: provider.BackupCatalogFunc(func(_ context.Context, id string, since time.Time) ([]provider.Backup, error) {
			return backups[id], nil
		}),
		Graph:    graph,
		Health:   []safety.HealthCheck{{Name: "db", Checker: healthy}, {Name: "lb", Checker: healthy}},
		History:  hist,
		Restorer: safety.RestorerFunc(func(context.Context, safety.Proposal) error { return nil }),
	})
	require.NoError(tb, err)
	require.Len(tb, rules, 8)
	eng, err := safety.New(safety.Config{}, rules, opts...)
	require.NoError(tb, err)
	return eng
}

func benchProposal(i int) safety.Proposal {
	p := stop(fmt.Sprintf("i-%03d", i%100))
	p.Resource.TimeZone = "America/New_York"
	p.Fleet, p.FleetSize = "web", 100
	return p
}

// inMemory declares the rules over host functions non-blocking: in this
// setup every source is a map or a constant.
var inMemory = safety.WithInline("backup", "health", "rollback")

// BenchmarkEngineCheck checks one proposal (a stop that every rule
// examines and that is allowed) with all eight built-in rules over
// in-memory sources, all run on the calling goroutine.
func BenchmarkEngineCheck(b *testing.B) {
	benchCheck(b, benchEngine(b, inMemory))
}

// BenchmarkEngineCheckAsync is BenchmarkEngineCheck without WithInline:
// the three rules over host functions (backup, health, rollback) run on
// worker goroutines under the engine's timeout, as they would with a
// remote catalog.
func BenchmarkEngineCheckAsync(b *testing.B) {
	benchCheck(b, benchEngine(b))
}

func benchCheck(b *testing.B, eng *safety.Engine) {
	p := benchProposal(1)
	ctx := context.Background()
	d, err := eng.Check(ctx, p)
	require.NoError(b, err)
	require.True(b, d.Allowed)
	require.Len(b, d.Results, 8)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Check(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPreview10000 is a dry run over 10,000 proposals (one in ten
// blocked by a live dependent) with all built-in rules over in-memory
// sources; ns/op is the time for the whole batch.
func BenchmarkPreview10000(b *testing.B) {
	eng := benchEngine(b, inMemory)
	ps := make([]safety.Proposal, 10_000)
	for i := range ps {
		ps[i] = benchProposal(i)
	}
	ctx := context.Background()
	rep, err := eng.Preview(ctx, ps)
	require.NoError(b, err)
	require.Equal(b, 9_000, rep.Allowed)
	require.Equal(b, 1_000, rep.BlockedBy["dependencies"])
	b.ReportAllocs()
	for b.Loop() {
		if _, err := eng.Preview(ctx, ps); err != nil {
			b.Fatal(err)
		}
	}
}

package reaper_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// t0 is a Saturday at 03:00 UTC: the default business hours (Mon–Fri
// 09:00–18:00) are far away.
var t0 = time.Date(2026, time.March, 7, 3, 0, 0, 0, time.UTC)

// env is a memory cloud on a mock clock with a safety engine over it.
type env struct {
	clock     *bclock.Mock
	waits     chan time.Duration // the waits of reapers on waitClock, for run
	cloud     *memory.Cloud
	engine    *safety.Engine
	approvals *approval.Manager
	store     *approval.MemoryStore
	audit     *safety.AuditLog
	history   *safety.MemoryHistory
	ensemble  *detector.Ensemble
}

// failingAudit rebuilds e's approval manager and safety engine with an
// auditor that fails with sink on the events of kinds while the switch it
// returns is on (it starts off) and records every other event in e.audit;
// the engine audits through it too with engineToo, else through e.audit.
func (e *env) failingAudit(t testing.TB, sink error, engineToo bool, kinds ...safety.AuditKind) *atomic.Bool {
	t.Helper()
	failing := &atomic.Bool{}
	au := safety.AuditorFunc(func(ctx context.Context, ev safety.AuditEvent) error {
		if failing.Load() && slices.Contains(kinds, ev.Kind) {
			return sink
		}
		return e.audit.Record(ctx, ev)
	})
	var err error
	e.approvals, err = approval.New(approval.Config{}, e.store, approval.WithAuditor(au))
	require.NoError(t, err)
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: e.cloud, History: e.history})
	require.NoError(t, err)
	var engineAudit safety.Auditor = e.audit
	if engineToo {
		engineAudit = au
	}
	e.engine, err = safety.New(safety.Config{}, rules, safety.WithApprovals(e.approvals), safety.WithAuditor(engineAudit))
	require.NoError(t, err)
	return failing
}

func newEnv(t testing.TB, cfg memory.Config) *env {
	t.Helper()
	e := &env{clock: bclock.NewMock(), waits: make(chan time.Duration, 1024), store: approval.NewMemoryStore(), audit: &safety.AuditLog{}, history: &safety.MemoryHistory{}}
	e.clock.Set(t0)
	var err error
	e.cloud, err = memory.New(cfg, memory.WithClock(e.waitClock())) // its latencies are waits too
	require.NoError(t, err)
	e.approvals, err = approval.New(approval.Config{}, e.store, approval.WithAuditor(e.audit))
	require.NoError(t, err)
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: e.cloud, History: e.history})
	require.NoError(t, err)
	e.engine, err = safety.New(safety.Config{}, rules, safety.WithApprovals(e.approvals), safety.WithAuditor(e.audit))
	require.NoError(t, err)
	e.ensemble, err = detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	return e
}

func (e *env) fleet() reaper.Fleet {
	return reaper.Fleet{Inventory: e.cloud, Metrics: e.cloud, Actuator: e.cloud, Resizer: e.cloud}
}

func (e *env) reaper(t *testing.T, cfg reaper.Config, opts ...reaper.Option) *reaper.Reaper {
	t.Helper()
	opts = append([]reaper.Option{reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history)}, opts...)
	r, err := reaper.New(cfg, e.fleet(), e.ensemble, e.engine, opts...)
	require.NoError(t, err)
	return r
}

// vm describes a test instance.
type vm struct {
	id      string
	cpu     float64 // constant CPU utilization, a fraction
	env     string  // environment
	role    string  // Resource.Role
	noBack  bool    // no backup
	tags    map[string]string
	itype   string
	protect bool
}

// add adds an instance launched 30 days before t0 with 15 days of CPU
// samples every 5 minutes up to t0 (the detector stops only on 14 days of
// evidence) and 2 days beyond (invisible until the clock reaches them), and
// a fresh verified backup unless noBack.
func (e *env) add(t *testing.T, vms ...vm) {
	t.Helper()
	for _, v := range vms {
		it := v.itype
		if it == "" {
			it = "m5.large"
		}
		require.NoError(t, e.cloud.Add(provider.Resource{
			ID: v.id, Kind: provider.KindInstance, Environment: v.env, Role: v.role, Tags: v.tags, Protected: v.protect,
			LaunchTime: t0.Add(-30 * 24 * time.Hour), HourlyCost: 0.096, Size: provider.Size{InstanceType: it},
		}))
		var samples []provider.Sample
		for at := t0.Add(-15 * 24 * time.Hour); at.Before(t0.Add(48 * time.Hour)); at = at.Add(5 * time.Minute) {
			samples = append(samples, provider.Sample{Time: at, Value: v.cpu})
		}
		require.NoError(t, e.cloud.AddSamples(v.id, provider.MetricCPU, samples...))
		if !v.noBack {
			require.NoError(t, e.cloud.AddBackup(provider.Backup{
				ID: "snap-" + v.id, ResourceID: v.id, Time: t0.Add(-time.Hour), Complete: true, Verified: true,
			}))
		}
	}
}

// mutations returns the cloud's state-changing operations (stop, terminate,
// resize, start, capacity) after the setup.
func (e *env) actions() []memory.Mutation {
	var out []memory.Mutation
	for _, m := range e.cloud.Mutations() {
		switch m.Op {
		case memory.OpStop, memory.OpTerminate, memory.OpResize, memory.OpStart, memory.OpSetCapacity, memory.OpUpdate:
			out = append(out, m)
		}
	}
	return out
}

// runResult is what RunOnce returned.
type runResult struct {
	rep reaper.Report
	err error
}

// start sets the mock clock to now (unless it is already later) and calls
// r.RunOnce at now in a goroutine, whose result it sends.
func (e *env) start(ctx context.Context, r *reaper.Reaper, now time.Time) <-chan runResult {
	if now.After(e.clock.Now()) {
		e.clock.Set(now)
	}
	done := make(chan runResult, 1)
	go func() {
		rep, err := r.RunOnce(ctx, now)
		done <- runResult{rep, err}
	}()
	return done
}

// waitClock is the env's mock clock that also reports each wait set on
// it (After) to waits, without blocking (a run that nobody drives keeps
// them buffered; run drains them first), so that run can move the clock
// by the waits alone.
type waitClock struct {
	*bclock.Mock
	waits chan<- time.Duration
}

// After sets the timer on the mock, then reports d.
func (c waitClock) After(d time.Duration) <-chan time.Time {
	ch := c.Mock.After(d)
	select {
	case c.waits <- d:
	default:
	}
	return ch
}

// run sets the mock clock to now (unless it is already later) and calls
// RunOnce at now, moving the clock by each wait set on it (the env's
// reapers and cloud are on waitClock) and by nothing else, so that the
// time a run takes on the clock does not depend on the machine's speed.
// (It moved the clock a second per spin while the run worked: on a
// loaded machine, a run took minutes on the clock.) A run that neither
// waits on the clock nor returns for a minute of real time fails the
// test.
func (e *env) run(ctx context.Context, t *testing.T, r *reaper.Reaper, now time.Time) (reaper.Report, error) {
	t.Helper()
	for len(e.waits) > 0 {
		<-e.waits // a run nobody drove
	}
	done := e.start(ctx, r, now)
	for {
		select {
		case res := <-done:
			return res.rep, res.err
		case d := <-e.waits:
			e.clock.Add(d)
		case <-time.After(time.Minute):
			t.Fatal("RunOnce neither waited on the env's clock nor returned within a minute")
			return reaper.Report{}, nil
		}
	}
}

func record(t *testing.T, rep reaper.Report, id string) reaper.Record {
	t.Helper()
	rec, ok := rep.Record(id)
	require.True(t, ok, "no record for %s", id)
	return rec
}

// waitClock returns the env's mock clock reporting its waits to run.
func (e *env) waitClock() waitClock { return waitClock{e.clock, e.waits} }

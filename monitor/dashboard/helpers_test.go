package dashboard_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/monitor/dashboard"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// sat is a Saturday at 03:00 UTC, outside the default business hours.
var sat = time.Date(2026, time.March, 7, 3, 0, 0, 0, time.UTC)

// The hostile names: an ID without white space (a valid ID) and a name
// and tag that try to run script.
const (
	hostileID   = `i-<img/src=x/onerror=alert(1)>`
	hostileName = `<script>alert("name")</script>`
)

// fixture is a memory cloud after one executing reaper run, observed by
// the monitor: i-idle stopped, i-nobackup and the hostile one blocked (no
// backup), i-prod waiting for approval, i-busy busy.
type fixture struct {
	clock     *stepclock.Clock
	cloud     *memory.Cloud
	log       *monitor.Log
	alerts    *alert.Alerter
	approvals *approval.Manager
	pending   approval.Request
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	f := &fixture{clock: stepclock.New(sat)}
	var err error
	f.cloud, err = memory.New(memory.Config{StopDelay: time.Nanosecond}, memory.WithClock(f.clock))
	require.NoError(t, err)
	add := func(r provider.Resource, cpu float64, backup bool) {
		r.Kind, r.LaunchTime, r.HourlyCost = provider.KindInstance, sat.Add(-30*24*time.Hour), 0.096
		r.Size = provider.Size{InstanceType: "m5.large"}
		require.NoError(t, f.cloud.Add(r))
		var samples []provider.Sample
		for at := sat.Add(-15 * 24 * time.Hour); at.Before(sat); at = at.Add(5 * time.Minute) {
			samples = append(samples, provider.Sample{Time: at, Value: cpu})
		}
		require.NoError(t, f.cloud.AddSamples(r.ID, provider.MetricCPU, samples...))
		if backup {
			require.NoError(t, f.cloud.AddBackup(provider.Backup{ID: "snap-" + r.ID, ResourceID: r.ID,
				Time: sat.Add(-time.Hour), Complete: true, Verified: true}))
		}
	}
	add(provider.Resource{ID: "i-idle", Name: "reporting-batch"}, 0.01, true)
	add(provider.Resource{ID: "i-nobackup", Name: "legacy-ftp"}, 0.01, false)
	add(provider.Resource{ID: hostileID, Name: hostileName, Tags: map[string]string{"team": hostileName}}, 0.01, false)
	add(provider.Resource{ID: "i-prod", Name: "metrics-relay", Environment: "production"}, 0.01, true)
	add(provider.Resource{ID: "i-busy", Name: "api"}, 0.7, true)

	f.alerts, err = alert.New(alert.Config{})
	require.NoError(t, err)
	f.log, err = monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("alerts", f.alerts))
	require.NoError(t, err)
	f.approvals, err = approval.New(approval.Config{TTL: 24 * time.Hour}, approval.NewMemoryStore(), approval.WithAuditor(monitor.Auditor(f.log)))
	require.NoError(t, err)
	rules, err := safety.Builtin(safety.BuiltinConfig{}, safety.BuiltinSources{Backups: f.cloud, History: &safety.MemoryHistory{}})
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, rules, safety.WithApprovals(f.approvals), safety.WithAuditor(monitor.Auditor(f.log)))
	require.NoError(t, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	r, err := reaper.New(reaper.Config{Execute: true}, reaper.Fleet{Inventory: f.cloud, Metrics: f.cloud, Actuator: f.cloud},
		ens, eng, reaper.WithClock(f.clock), reaper.WithApprovals(f.approvals),
		reaper.WithObserver(monitor.NewReaperObserver(f.log, monitor.WithObserverClock(f.clock))))
	require.NoError(t, err)
	rep, err := r.RunOnce(t.Context(), sat)
	require.NoError(t, err)
	require.Equal(t, 1, rep.Totals.Acted, "i-idle stopped")
	require.Equal(t, 1, rep.Totals.NeedsApproval, "i-prod waits")
	pending, err := f.approvals.List(t.Context(), approval.Filter{State: approval.Pending})
	require.NoError(t, err)
	require.Len(t, pending, 1)
	f.pending = pending[0]
	f.clock.Set(sat.Add(6 * time.Hour)) // six hours of realised savings
	return f
}

// utilization is a host chart: the CPU of every instance over the last day.
func (f *fixture) utilization() dashboard.Charts {
	return dashboard.ChartsFunc(func(ctx context.Context, _ time.Time) ([]report.Chart, error) {
		c, err := report.FleetUtilization(ctx, report.Fleet{Inventory: f.cloud, Metrics: f.cloud}, provider.Filter{},
			sat.Add(-24*time.Hour), sat, 30*time.Minute)
		return []report.Chart{c}, err
	})
}

// dashboard returns the fixture's dashboard with opts, served by an
// httptest server.
func (f *fixture) serve(t testing.TB, opts ...dashboard.Option) (*dashboard.Dashboard, *httptest.Server) {
	t.Helper()
	opts = append([]dashboard.Option{dashboard.WithAlerts(f.alerts), dashboard.WithApprovals(f.approvals),
		dashboard.WithInventory(f.cloud), dashboard.WithClock(f.clock), dashboard.WithCharts(f.utilization())}, opts...)
	d, err := dashboard.New(dashboard.Config{Title: "test fleet"}, f.log, opts...)
	require.NoError(t, err)
	srv := httptest.NewServer(d)
	t.Cleanup(srv.Close)
	return d, srv
}

// alice is an Authorizer that names everyone alice.
var alice = dashboard.AuthorizerFunc(func(*http.Request) (string, error) { return "alice", nil })

func httptestServer(t testing.TB, h http.Handler) string {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv.URL
}

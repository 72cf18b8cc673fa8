package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/metrics"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// A resource that vanishes without a terminate the Collector sees (deleted
// by hand, by another tool, or no longer selected by the reaper's filter)
// leaves idlescale_idle_resources once its latest verdict is older than
// Config.VerdictTTL (default 3h) behind the newest verdict: it was
// counted idle for the life of the process. A resource every run still
// scans is never dropped, however long the runs go on, nor is any when
// the runs stop (nothing newer says the resource is gone), nor when a
// verdict dated in the future (a host's clock ahead) arrives: the newest
// verdict counts up to the Collector's clock only.
func TestVanishedResourceLeavesIdleCount(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		ttl      time.Duration
		wantKeep int // the last run after "gone"'s last scan (run 4) that still counts it
	}{
		{name: "default", wantKeep: 3},
		{name: "ten hours", ttl: 10 * time.Hour, wantKeep: 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			clk := fixedClock{now: t0.Add(48 * time.Hour)}
			col, err := metrics.New(metrics.Config{VerdictTTL: tt.ttl}, metrics.WithClock(clk))
			require.NoError(t, err)
			reg := prometheus.NewRegistry()
			require.NoError(t, reg.Register(col))
			verdict := func(id string, h float64) monitor.Event {
				return ev(monitor.KindVerdict, monitor.SourceReaper, id, safety.ActionTerminate, "idle", h)
			}
			idle := idleGauge
			for run := range 48 { // hourly runs
				evs := []monitor.Event{verdict("web", float64(run))}
				if run <= 4 {
					evs = append(evs, verdict("gone", float64(run)))
				}
				if run >= 10 {
					evs = append(evs, verdict("late", float64(run)))
				}
				require.NoError(t, col.Write(t.Context(), evs))
				want := 1
				if run <= 4+tt.wantKeep {
					want++
				}
				if run >= 10 {
					want++
				}
				require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(idle(want)), "idlescale_idle_resources"), "run %d", run)
			}
			require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(idle(2)), "idlescale_idle_resources"),
				"no run since: nothing dropped")
			require.NoError(t, col.Write(t.Context(), []monitor.Event{verdict("skewed", 1000)}))
			require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(idle(3)), "idlescale_idle_resources"),
				"a verdict dated ahead of the clock drops none")
		})
	}
	_, err := metrics.New(metrics.Config{VerdictTTL: -time.Second})
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "verdict_ttl", inv.Field)
}

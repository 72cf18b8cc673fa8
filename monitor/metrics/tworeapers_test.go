package metrics_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/metrics"
	"github.com/idlescale/idlescale/safety"
)

// Two reapers record into one log, each observer named after its reaper
// (monitor.WithObserverActor): hourly for instances, daily for volumes.
// A volume's verdict was aged behind the newest run of any reaper, so
// four hours after the daily run the hourly reaper's runs had made every
// idle volume 'gone' (default VerdictTTL, 3h): idlescale_idle_resources
// left them out for twenty hours a day, though every daily run judges
// them. A verdict is now aged behind the newest run of the reaper that
// judged it; one that reaper's run no longer judges still leaves.
func TestVerdictsAgeBehindTheirOwnReapersRuns(t *testing.T) {
	t.Parallel()
	col, reg := registeredAt(t, t0.Add(30*24*time.Hour))
	idle := func(n int) *strings.Reader { return strings.NewReader(idleGauge(n)) }
	write := func(actor string, e monitor.Event) {
		t.Helper()
		e.Actor = actor
		require.NoError(t, col.Write(t.Context(), []monitor.Event{e}))
	}
	verdict := func(id string, h float64) monitor.Event {
		return ev(monitor.KindVerdict, monitor.SourceReaper, id, safety.ActionStop, "idle", h)
	}
	runEnd := func(h float64) monitor.Event {
		return ev(monitor.KindRun, monitor.SourceReaper, "", "", monitor.OutcomeDone, h)
	}
	for day := range 2 {
		d := float64(24 * day)
		write("volumes", verdict("vol-1", d))
		if day == 0 {
			write("volumes", verdict("vol-gone", d)) // deleted by hand before the second day's run
		}
		write("volumes", runEnd(d))
		for h := 1.0; h < 24; h++ {
			write("instances", verdict("i-1", d+h))
			write("instances", runEnd(d+h))
			want := 3
			if day == 1 {
				want = 2
			}
			require.NoError(t, testutil.GatherAndCompare(reg, idle(want), "idlescale_idle_resources"),
				"day %d, hour %v: the volumes the daily run judges are idle all day", day, h)
		}
	}
}

// TestVerdictsAgeBehindTheNewestRunOfTheirReaper: a reaper's verdicts age
// behind its newest run, whatever order its run events arrive in (a late
// copy of an earlier run does not bring back the verdicts the newest run
// no longer judges), and behind now at most (a run stamped after the
// scrape's now, its replica's clock ahead, does not age verdicts younger
// than VerdictTTL).
func TestVerdictsAgeBehindTheNewestRunOfTheirReaper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give []monitor.Event
		want int
	}{
		{name: "late copy of an earlier run", want: 1, give: []monitor.Event{
			ev(monitor.KindVerdict, monitor.SourceReaper, "i-gone", safety.ActionStop, "idle", 1),
			ev(monitor.KindVerdict, monitor.SourceReaper, "i-1", safety.ActionStop, "idle", 9),
			ev(monitor.KindRun, monitor.SourceReaper, "", "", monitor.OutcomeDone, 9),
			ev(monitor.KindRun, monitor.SourceReaper, "", "", monitor.OutcomeDone, 2),
		}},
		{name: "run after now", want: 1, give: []monitor.Event{
			ev(monitor.KindVerdict, monitor.SourceReaper, "i-1", safety.ActionStop, "idle", 8),
			ev(monitor.KindRun, monitor.SourceReaper, "", "", monitor.OutcomeDone, 12),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			col, err := metrics.New(metrics.Config{}, metrics.WithClock(fixedClock{now: t0.Add(10 * time.Hour)}))
			require.NoError(t, err)
			reg := prometheus.NewRegistry()
			require.NoError(t, reg.Register(col))
			for i := range tt.give {
				tt.give[i].Actor = "instances"
			}
			require.NoError(t, col.Write(t.Context(), tt.give)) // one batch: pruned at the scrape
			require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(fmt.Sprintf(`
# HELP idlescale_idle_resources Resources whose latest verdict is idle.
# TYPE idlescale_idle_resources gauge
idlescale_idle_resources %d
`, tt.want)), "idlescale_idle_resources"))
		})
	}
}

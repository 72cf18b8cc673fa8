package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
)

// A reaper's observer writes each record's verdict as the run reaches it
// and a KindRun event when the run ends (monitor.ReaperObserver), so a
// scrape may come in the middle of a run. With a daily reaper and the
// default VerdictTTL (3h), the first verdict of a run is a day newer than
// the verdicts of the resources the run has not reached yet: those were
// dropped from idlescale_idle_resources until the run reached them, so
// the gauge fell to a fraction of the fleet at every run, though every
// run lists every resource. A resource is now taken for gone only when a
// run that ended (KindRun, done) did not judge it: one the previous run
// judged is kept during the next, one that run did not judge leaves when
// it ends.
func TestScrapeDuringADailyRunKeepsTheResourcesNotYetJudged(t *testing.T) {
	t.Parallel()
	col, reg := registeredAt(t, t0.Add(30*24*time.Hour))
	idle := func(n int) *strings.Reader { return strings.NewReader(idleGauge(n)) }
	write := func(e monitor.Event) {
		t.Helper()
		require.NoError(t, col.Write(t.Context(), []monitor.Event{e}))
	}
	verdict := func(id string, day float64) monitor.Event {
		return ev(monitor.KindVerdict, monitor.SourceReaper, id, safety.ActionTerminate, "idle", 24*day)
	}
	runEnd := func(day float64, outcome string) monitor.Event {
		return ev(monitor.KindRun, monitor.SourceReaper, "", "", outcome, 24*day)
	}
	for _, id := range []string{"a", "b", "c"} {
		write(verdict(id, 0))
	}
	write(runEnd(0, monitor.OutcomeDone))
	require.NoError(t, testutil.GatherAndCompare(reg, idle(3), "idlescale_idle_resources"))

	// Day 1: a scrape after the run's first record.
	write(verdict("a", 1))
	require.NoError(t, testutil.GatherAndCompare(reg, idle(3), "idlescale_idle_resources"),
		"mid-run: b and c, judged by the last run, are not gone")
	write(verdict("b", 1)) // c vanished: this run does not list it
	require.NoError(t, testutil.GatherAndCompare(reg, idle(3), "idlescale_idle_resources"),
		"mid-run: the run may still reach c")
	write(runEnd(1, monitor.OutcomeFailed))
	require.NoError(t, testutil.GatherAndCompare(reg, idle(3), "idlescale_idle_resources"),
		"a failed run may have stopped before c")
	write(runEnd(1, monitor.OutcomeDone))
	require.NoError(t, testutil.GatherAndCompare(reg, idle(2), "idlescale_idle_resources"),
		"the run ended without judging c: it is gone")
}

package metrics_test

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
)

// A resource the reaper terminated is no longer counted in
// idlescale_idle_resources: its latest verdict, idle, was kept for good,
// so every idle resource the reaper deleted stayed in the gauge for the
// life of the process (after a clean-up of 40 idle instances the gauge
// read 40 idle with none left). A terminate in a dry run, deferred or
// failed leaves the resource counted, a verdict older than the terminate
// that arrives after it does not count it again, and a later verdict of
// the same ID (a name used again) counts it again.
func TestTerminatedResourceIsNotIdle(t *testing.T) {
	t.Parallel()
	_, reg, l := registered(t)
	idle := func(n string) string {
		return `
# HELP idlescale_idle_resources Resources whose latest verdict is idle.
# TYPE idlescale_idle_resources gauge
idlescale_idle_resources ` + n + "\n"
	}
	verdict := func(id string, h float64) monitor.Event {
		return ev(monitor.KindVerdict, monitor.SourceReaper, id, safety.ActionTerminate, "idle", h)
	}
	terminate := func(id, outcome string, h float64) monitor.Event {
		return ev(monitor.KindAction, monitor.SourceReaper, id, safety.ActionTerminate, outcome, h)
	}
	dry := terminate("i-3", monitor.OutcomeDone, 1)
	dry.DryRun = true
	require.NoError(t, l.Record(t.Context(),
		verdict("i-1", 0), verdict("i-2", 0), verdict("i-3", 0), verdict("i-4", 0), verdict("i-5", 0),
		terminate("i-1", monitor.OutcomeDone, 1), dry,
		terminate("i-4", monitor.OutcomeFailed, 1), terminate("i-5", monitor.OutcomeWouldAct, 1)))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(idle("4")), "idlescale_idle_resources"))

	require.NoError(t, l.Record(t.Context(), verdict("i-1", 0.5)))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(idle("4")), "idlescale_idle_resources"),
		"a verdict from before the terminate")
	require.NoError(t, l.Record(t.Context(), verdict("i-1", 2)))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(idle("5")), "idlescale_idle_resources"),
		"a new resource of the same ID")
}

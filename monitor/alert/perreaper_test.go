package alert_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/reaper"
)

// Two reapers record into one log (hourly for instances, daily for
// volumes), each observer named after its reaper: the run_failed alert
// is one per reaper. It was one for the log: the volumes reaper's
// successful run resolved the instances reaper's failure, which failed
// again at its next run and paged again, and a reaper that never ran
// again was resolved by the other's success and paged no one. Each
// reaper's failure now stays firing until that reaper succeeds.
func TestRunFailedIsPerReaper(t *testing.T) {
	t.Parallel()
	rec := &recorder{}
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("r", rec))
	instances := monitor.NewReaperObserver(l, monitor.WithObserverActor("instances"))
	volumes := monitor.NewReaperObserver(l, monitor.WithObserverActor("volumes"))
	denied := fmt.Errorf("reaper: list resources: %w", provider.ErrDenied)

	instances.ObserveReport(reaper.Report{Now: t0}, denied)
	volumes.ObserveReport(reaper.Report{Now: t0.Add(time.Minute)}, nil)
	instances.ObserveReport(reaper.Report{Now: t0.Add(time.Hour)}, denied)
	require.NoError(t, instances.Err())
	require.NoError(t, volumes.Err())
	f := a.Firing()
	require.Len(t, f, 1, "the instances reaper's failure, not resolved by the volumes reaper's run")
	assert.Equal(t, "run_failed@instances", f[0].ID)
	assert.Equal(t, "instances", f[0].Actor)
	assert.Empty(t, f[0].ResourceID)
	assert.Equal(t, 2, f[0].Count, "one alert for the two failed runs")

	volumes.ObserveReport(reaper.Report{Now: t0.Add(2 * time.Hour)}, denied)
	require.Len(t, a.Firing(), 2, "each reaper's failure")
	instances.ObserveReport(reaper.Report{Now: t0.Add(3 * time.Hour)}, nil)
	f = a.Firing()
	require.Len(t, f, 1, "the instances reaper's success resolves its own failure only")
	assert.Equal(t, "run_failed@volumes", f[0].ID)

	require.NoError(t, a.Deliver(t.Context()))
	assert.Equal(t, []string{"firing run_failed@instances", "firing run_failed@volumes", "resolved run_failed@instances"},
		rec.sent())
}

// Events about no resource that name no actor (a reaper's observer not
// named, a host's own) keep the one alert of the rule, as before.
func TestRunFailedOfAnUnnamedReaper(t *testing.T) {
	t.Parallel()
	a, l := newAlerter(t, alert.Config{})
	failed := event(monitor.KindRun, "", monitor.OutcomeFailed, 0)
	named := failed
	named.Actor, named.Time = "volumes", t0.Add(time.Minute)
	require.NoError(t, l.Record(t.Context(), failed, named))
	ids := []string{}
	for _, al := range a.Firing() {
		ids = append(ids, al.ID)
	}
	assert.ElementsMatch(t, []string{"run_failed", "run_failed@volumes"}, ids)
}

// A rule's name may not hold "@", which an alert's ID puts between the
// rule's name and the actor of an event about no resource: a rule "a@b"
// on such an event without an actor, and a rule "a" on one of the actor
// "b", would be one ID.
func TestRuleNameRefusesTheActorSeparator(t *testing.T) {
	t.Parallel()
	_, err := alert.New(alert.Config{Rules: []alert.Rule{
		{Name: "run@nightly", Match: alert.Match{Kinds: []monitor.Kind{monitor.KindRun}}},
	}})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "rules[0].name", ie.Field)
}

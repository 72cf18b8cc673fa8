package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestRecreatedResourceLearnsItsOwnWeek: a resource deleted and created
// again under the same ID (a Kubernetes Deployment's name, a Lambda
// function's) gets its predecessor's series from a source keyed by ID.
// Its learned week starts at its launch: the predecessor's idle weeks
// give the schedule no idle vote, the model no week, and the ensemble no
// off-hours schedule, until the new resource has a week of its own.
func TestRecreatedResourceLearnsItsOwnWeek(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	weekly := weeklyJob() // 28 days: an idle machine with a job on Mondays
	launched := tEnd.Add(-3*day - 20*time.Minute)
	recreated := res("r", launched)
	old := res("r", weekly.Start)

	sched, err := detector.NewSchedule(detector.ScheduleConfig{})
	require.NoError(t, err)
	v, err := sched.Detect(t.Context(), detector.Input{Now: tEnd, Resource: old, Series: []provider.Series{weekly}})
	require.NoError(t, err)
	require.Equal(t, detector.Idle, v.State, "the old resource's week: %s", v.Explain())
	v, err = sched.Detect(t.Context(), detector.Input{Now: tEnd, Resource: recreated, Series: []provider.Series{weekly}})
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State, "three days of its own: %s", v.Explain())
	short := reason(t, v, detector.ReasonShortHistory)
	assert.LessOrEqual(t, short.Duration, tEnd.Sub(launched), "only the steps since launch are its history")

	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	v, err = ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: old, Series: []provider.Series{weekly}})
	require.NoError(t, err)
	require.Equal(t, detector.ActionSchedule, v.Action, "the old resource: %s", v.Explain())
	v, err = ens.Detect(t.Context(), detector.Input{Now: tEnd, Resource: recreated, Series: []provider.Series{weekly}})
	require.NoError(t, err)
	assert.Equal(t, detector.ActionNone, v.Action, "the new resource: %s", v.Explain())
	assert.Nil(t, v.Schedule)
	assert.Equal(t, detector.Unknown, signal(t, v, detector.SignalSchedule).State, v.Explain())

	// The model's week features: those of the new resource are those of a
	// series that starts at its launch.
	m, err := detector.Train(t.Context(), fleetExamples(3, 6), detector.ModelConfig{IgnoreNetwork: true})
	require.NoError(t, err)
	own := weekly.Clone()
	for i := range own.Values {
		if own.TimeAt(i).Before(launched) {
			own.Values[i] = provider.Gap
		}
	}
	got, want := make([]float64, detector.NumFeatures), make([]float64, detector.NumFeatures)
	ok, err := m.Features(detector.Input{Now: tEnd, Resource: recreated, Series: []provider.Series{weekly}}, got)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = m.Features(detector.Input{Now: tEnd, Resource: recreated, Series: []provider.Series{own}}, want)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, want, got)
}

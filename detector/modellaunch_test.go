package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestRecreatedResourceModelReadsItsOwnCPU: a resource created again
// under a deleted one's ID gets its predecessor's series from a source
// keyed by ID. The model's week features were learned from its launch on
// (c087ab2), but its CPU features (mean, max, p95, spread, idle share
// over ModelConfig.Window) still read the whole window: with a window of
// a week, a resource three days old was judged by the model on four days
// of its predecessor's CPU, and an idle predecessor made the model vote
// idle on a resource busy since its launch. Its features are now those of
// a series without data before its launch, as the week's are.
func TestRecreatedResourceModelReadsItsOwnCPU(t *testing.T) {
	t.Parallel()
	const day = 24 * time.Hour
	weekly := weeklyJob()
	launched := tEnd.Add(-3*day - 20*time.Minute)
	recreated := res("r", launched)
	m, err := detector.Train(t.Context(), fleetExamples(3, 6), detector.ModelConfig{Window: 7 * day, IgnoreNetwork: true})
	require.NoError(t, err)
	own := weekly.Clone()
	for i := range own.Values {
		if own.TimeAt(i).Before(launched) {
			own.Values[i] = provider.Gap
		}
	}
	got, want := make([]float64, detector.NumFeatures), make([]float64, detector.NumFeatures)
	gotOK, err := m.Features(detector.Input{Now: tEnd, Resource: recreated, Series: []provider.Series{weekly}}, got)
	require.NoError(t, err)
	wantOK, err := m.Features(detector.Input{Now: tEnd, Resource: recreated, Series: []provider.Series{own}}, want)
	require.NoError(t, err)
	assert.Equal(t, wantOK, gotOK)
	assert.Equal(t, want, got)

	// The predecessor's series is left as it was, and an old resource
	// still reads its whole window.
	assert.False(t, provider.IsGap(weekly.Values[0]))
	oldOK, err := m.Features(detector.Input{Now: tEnd, Resource: res("r", weekly.Start), Series: []provider.Series{weekly}}, got)
	require.NoError(t, err)
	assert.True(t, oldOK)
}

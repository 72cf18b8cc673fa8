package detector_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// swappedSource answers the queries of one resource with another's series
// (which say whose they are), as a host's driver that pairs answers with
// the wrong queries does.
type swappedSource struct {
	src  provider.MetricsSource
	swap map[string]string
}

func (s swappedSource) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	if other, ok := s.swap[q.ResourceID]; ok {
		q.ResourceID = other
	}
	return s.src.QueryMetric(ctx, q)
}

// TestTrackerRefusesAnotherResourcesSeries: a Tracker that resumes a
// machine from its state and reads the new hour from a source that
// answers with another resource's series does not fold that series into
// the machine's state: the machine's own hour, at 60 % CPU, would be
// replaced by an idle one and the machine recommended for a stop. The
// read fails, naming the resource the series was for, and nothing is
// recommended. (A review found the incremental read took the answer as
// the machine's, as Scan did.)
func TestTrackerRefusesAnotherResourcesSeries(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	const n = 15 * 288
	busy := synth("r-busy", start, 5*time.Minute, n+12, func(i int) float64 {
		if i >= n {
			return 0.6 // a job in the last hour
		}
		return 0.02 + 0.01*noise(i)
	})
	quiet := synth("r-quiet", start, 5*time.Minute, n+12, func(i int) float64 { return 0.02 + 0.01*noise(i) })
	f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{
		"r-busy":  {provider.MetricCPU: busy},
		"r-quiet": {provider.MetricCPU: quiet},
	}}
	r := res("r-busy", start.Add(-time.Hour))
	f.resources = []provider.Resource{r, res("r-quiet", start.Add(-time.Hour))}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	end := busy.End()
	v, read, err := tr.Detect(t.Context(), f, nil, r, end.Add(-time.Hour))
	require.NoError(t, err)
	require.True(t, read.Full, "the first read is in full")
	require.Equal(t, detector.ActionStop, v.Action, "idle for 15 days before the job: %v", v.Explain())

	mixed := swappedSource{src: f, swap: map[string]string{"r-busy": "r-quiet"}}
	v, read, err = tr.Detect(t.Context(), mixed, nil, r, end)
	require.NoError(t, err)
	assert.Equal(t, detector.ActionNone, v.Action, "not stopped on r-quiet's hour: %v", v.Explain())
	require.NotEmpty(t, read.Errors, "the inconsistent read is reported")
	require.ErrorIs(t, read.Errors[0], provider.ErrInvalid)
	assert.Contains(t, read.Errors[0].Error(), "r-quiet")
	assert.Equal(t, "r-busy", read.Errors[0].ResourceID)
}

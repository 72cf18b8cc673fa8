package detector_test

import (
	"context"
	"encoding/json"
	"math"
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

// TestTrackerSeesHoursSeenInPart: a machine whose metrics go missing
// every night from 02:00 to 02:30 (a job starves its agent) is not known
// idle in those hours, from a Tracker's state as from a full read: no
// stop, the same reasons. The data's first and last hours (the history
// begins at 00:35, and the last step comes 10 minutes late) are edges,
// thin once, not every week: they are not named.
func TestTrackerSeesHoursSeenInPart(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 35, 0, 0, time.UTC)
	const n = 29*288 - 9 // to 23:50
	cpu := synth("r-night", start, 5*time.Minute, n, func(i int) float64 {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		if at.Hour() == 2 && at.Minute() < 30 {
			return math.NaN()
		}
		return 0.02 + 0.01*noise(i)
	})
	f := &gridFleet{series: map[string]map[provider.Metric]provider.Series{"r-night": {provider.MetricCPU: cpu}}}
	r := res("r-night", start.Add(-time.Hour))
	f.resources = []provider.Resource{r}
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tr, err := detector.NewTracker(ens, detector.TrackerConfig{}, &detector.MemoryStateStore{})
	require.NoError(t, err)
	end := cpu.End().Add(10 * time.Minute) // 00:00
	require.Equal(t, end, end.Truncate(time.Hour))
	for _, now := range []time.Time{end.Add(-time.Hour), end} {
		rep, err := detector.Scan(t.Context(), detector.Fleet{Inventory: oneInventory{r}, Metrics: f}, ens, detector.ScanConfig{Now: now})
		require.NoError(t, err)
		require.Len(t, rep.Verdicts, 1)
		want := rep.Verdicts[0]
		got, read, err := tr.Detect(t.Context(), f, nil, r, now)
		require.NoError(t, err)
		require.Equal(t, comparable(want), comparable(got), "at %s (full read %v: %s)", now, read.Full, read.Why)
		assert.Equal(t, now.Equal(end), !read.Full, "the second from the state (%s)", read.Why)
		assert.Equal(t, detector.ActionNone, got.Action, "at %s: %v", now, got.Explain())
		thin := reason(t, got, detector.ReasonThinHours)
		assert.Equal(t, "Mon–Sun 02:00–03:00", thin.Hours.String(), "only the night's hours: %v", got.Explain())
		assert.InDelta(t, 7, thin.Value, 1e-9, "seven thin hours: %v", got.Explain())
		assert.InDelta(t, 1-0.9, thin.Limit, 1e-9, "the share of its steps an hour may lack (1 − IdleShare): %v", got.Explain())
	}
}

// TestScheduleLeavesHoursSeenInPartOn: an office server, busy on weekdays
// from 09:00 to 18:00, also runs a nightly job from 02:00 to 02:30 during
// which its metrics agent reports nothing. The off-hours schedule
// recommended for it does not stop it in the 02:00 hours: with their
// missing steps counted as not idle they are not known idle, and a
// schedule that stopped it then would stop the job.
func TestScheduleLeavesHoursSeenInPartOn(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	const n = 30 * 288
	cpu := synth("r-office", start, 5*time.Minute, n, func(i int) float64 {
		at := start.Add(time.Duration(i) * 5 * time.Minute)
		switch {
		case at.Hour() == 2 && at.Minute() < 30:
			return math.NaN()
		case at.Weekday() != time.Saturday && at.Weekday() != time.Sunday && at.Hour() >= 9 && at.Hour() < 18:
			return 0.4 + 0.1*noise(i)
		}
		return 0.02 + 0.01*noise(i)
	})
	now := cpu.End().Add(-12 * time.Hour) // Tuesday 12:00, at work
	require.Equal(t, time.Tuesday, now.Weekday())
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("r-office", start.Add(-time.Hour)), Series: []provider.Series{cpu}})
	require.NoError(t, err)
	require.Equal(t, detector.ActionSchedule, v.Action, "%v", v.Explain())
	require.NotNil(t, v.Schedule)
	for _, w := range v.Schedule.Windows {
		from := int(w.StopDay)*24 + w.StopHour
		for h := from; h < from+w.Hours; h++ {
			assert.NotEqual(t, 2, h%24, "window %s stops it during the nightly job", w)
		}
	}
}

// TestNotIdleVoteVetoesStop: a host's own signal (a GPU, weighed 0.1)
// votes not idle on a machine whose CPU idles at 2 % for 15 days. The
// others' majority makes the verdict idle, but the machine is not
// stopped, and the veto names the GPU signal (and only it). Without the
// GPU signal the same machine is stopped. (Kills the mutants of
// noneBusy's signal checks: a veto from any signal but the activity's
// and the schedule's, which their own rules explain.)
func TestNotIdleVoteVetoesStop(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	cpu := synth("r-train", start, 5*time.Minute, 15*288, func(i int) float64 { return 0.02 + 0.01*noise(i) })
	in := detector.Input{Now: cpu.End(), Resource: res("r-train", start.Add(-time.Hour)), Series: []provider.Series{cpu}}

	plain, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	v, err := plain.Detect(t.Context(), in)
	require.NoError(t, err)
	require.Equal(t, detector.ActionStop, v.Action, "idle on every signal: %v", v.Explain())
	assert.Empty(t, reasonsOf(v, detector.ReasonVeto), "no signal votes not idle: %v", v.Explain())

	gpu := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.NotIdle, Score: 0.03,
			Reasons: []detector.Reason{{Signal: "gpu", Code: "gpu_busy", Value: 0.97}}}, nil
	})
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("gpu", 0.1, gpu))
	require.NoError(t, err)
	v, err = ens.Detect(t.Context(), in)
	require.NoError(t, err)
	require.Equal(t, detector.Idle, v.State, "outvoted: %v", v.Explain())
	assert.Equal(t, detector.ActionNone, v.Action, "the GPU is busy: %v", v.Explain())
	vetoes := reasonsOf(v, detector.ReasonVeto)
	require.Len(t, vetoes, 1, "%v", v.Explain())
	assert.Equal(t, "gpu", vetoes[0].Signal)
	assert.Equal(t, detector.ActionStop, vetoes[0].Action)
}

// TestUnknownHostSignalBlocksStop: a signal of the host's own that could
// not tell (its own data missing: a GPU exporter down) blocks a stop, as
// missing data never reads as idle; it abstained from the vote, and the
// stop went ahead at confidence 0.99 on "2 of 2 available signals".
func TestUnknownHostSignalBlocksStop(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	cpu := synth("r-gpu", start, 5*time.Minute, 15*288, func(i int) float64 { return 0.02 + 0.01*noise(i) })
	in := detector.Input{Now: cpu.End(), Resource: res("r-gpu", start.Add(-time.Hour)), Series: []provider.Series{cpu}}
	for _, state := range []detector.State{detector.Unknown, ""} {
		gpu := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
			return detector.Verdict{ResourceID: in.Resource.ID, State: state}, nil
		})
		ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("gpu", 0.1, gpu))
		require.NoError(t, err)
		v, err := ens.Detect(t.Context(), in)
		require.NoError(t, err)
		require.Equal(t, detector.Idle, v.State, "the others' vote: %v", v.Explain())
		assert.Equal(t, detector.ActionNone, v.Action, "state %q: %v", state, v.Explain())
		abstained := reasonsOf(v, detector.ReasonAbstained)
		require.Len(t, abstained, 1, "%v", v.Explain())
		assert.Equal(t, "gpu", abstained[0].Signal)
		assert.Equal(t, "gpu: could not tell (unknown): stop needs every signal to vote idle", abstained[0].String())
	}

}

// TestCustomSignalWithoutAWindow: a verdict's Window is the utilization
// window stretched back to the earliest signal's start. A host's signal
// whose Verdict says no Window (most do: TestNotIdleVoteVetoesStop's)
// stretched it back to the zero time, so that every verdict of the
// ensemble said it had examined [0001-01-01, now), 292 years. Its window
// counts only when it says one.
func TestCustomSignalWithoutAWindow(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	cpu := synth("r", start, 5*time.Minute, 15*288, func(int) float64 { return 0.02 })
	in := detector.Input{Now: cpu.End(), Resource: res("r", start), Series: []provider.Series{cpu}}
	plain, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	want, err := plain.Detect(t.Context(), in)
	require.NoError(t, err)
	require.Equal(t, in.Now.Add(-28*24*time.Hour), want.Window.From, "the schedule's four weeks")

	for _, tt := range []struct {
		name   string
		window detector.Window
		from   time.Time
	}{
		{"no window", detector.Window{}, want.Window.From},
		{"a shorter one", detector.Window{From: in.Now.Add(-time.Hour), To: in.Now}, want.Window.From},
		{"a longer one", detector.Window{From: in.Now.Add(-60 * 24 * time.Hour), To: in.Now}, in.Now.Add(-60 * 24 * time.Hour)},
	} {
		host := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
			return detector.Verdict{ResourceID: in.Resource.ID, State: detector.Idle, Score: 0.9, Window: tt.window}, nil
		})
		ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("host", 0.1, host))
		require.NoError(t, err)
		v, err := ens.Detect(t.Context(), in)
		require.NoError(t, err)
		assert.Equal(t, tt.from, v.Window.From, tt.name)
		assert.Equal(t, in.Now, v.Window.To, tt.name)
	}
}

// TestCustomReasonsMustEncode: a host's signal's reasons are kept in the
// verdict, and a verdict's JSON encodes each Reason's code, value, limit
// and statistics. A code that is not a snake_case word ("gpuBusy", which
// ReasonCode's doc forbids) or an infinite figure was kept as it was, and
// the verdict, and with it a Report of the whole fleet, failed to encode:
// a dashboard showed nothing for every resource. Detect now fails for
// that resource, naming the signal and the field, as it does for a State
// that is not one; a reason with a figure not known (NaN) is fine.
func TestCustomReasonsMustEncode(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	cpu := synth("r", start, 5*time.Minute, 15*288, func(int) float64 { return 0.02 })
	in := detector.Input{Now: cpu.End(), Resource: res("r", start), Series: []provider.Series{cpu}}
	tests := []struct {
		name  string
		give  detector.Reason
		field string
	}{
		{"camel case code", detector.Reason{Signal: "gpu", Code: "gpuBusy", Value: 0.97}, "reason.code"},
		{"infinite value", detector.Reason{Signal: "gpu", Code: "gpu_busy", Value: math.Inf(1)}, "reason.value"},
		{"infinite limit", detector.Reason{Signal: "gpu", Code: "gpu_busy", Limit: math.Inf(-1)}, "reason.limit"},
		{"infinite maximum", detector.Reason{Signal: "gpu", Code: "gpu_busy", Stats: detector.Stats{Max: math.Inf(1)}}, "reason.stats.max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			gpu := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
				return detector.Verdict{ResourceID: in.Resource.ID, State: detector.NotIdle, Score: 0.03,
					Reasons: []detector.Reason{{Signal: "gpu", Code: "gpu_seen"}, tt.give}}, nil
			})
			ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("gpu", 0.1, gpu))
			require.NoError(t, err)
			_, err = ens.Detect(t.Context(), in)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
			assert.ErrorContains(t, err, "signal gpu: reasons[1]")
		})
	}
	gpu := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{ResourceID: in.Resource.ID, State: detector.NotIdle, Score: 0.03,
			Reasons: []detector.Reason{{Signal: "gpu", Code: "gpu_busy", Value: math.NaN(), Limit: 0.5}}}, nil
	})
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("gpu", 0.1, gpu))
	require.NoError(t, err)
	v, err := ens.Detect(t.Context(), in)
	require.NoError(t, err)
	_, err = json.Marshal(detector.Report{Verdicts: []detector.Verdict{v}})
	require.NoError(t, err)
}

package detector_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

var t0 = time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC) // a Monday

func TestEnsemble(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	now := t0.Add(14 * 24 * time.Hour)
	n := 14 * 24 * 12
	idle := synth("idle", t0, 5*time.Minute, n, func(i int) float64 { return 0.01 + 0.01*noise(i) })
	busy := synth("busy", t0, 5*time.Minute, n, func(i int) float64 { return 0.4 + 0.3*noise(i) })
	low := synth("low", t0, 5*time.Minute, n, func(i int) float64 { return 0.15 + 0.05*noise(i) })
	quiet := []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}}
	loud := []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 30, Last: now.Add(-5 * time.Minute)}}
	srcErr := errors.New("cloudwatch: throttled")
	tests := []struct {
		name       string
		give       detector.Input
		want       detector.State
		wantAction detector.Action
		wantSignal map[string]detector.State
	}{
		{
			name: "idle and quiet", want: detector.Idle, wantAction: detector.ActionStop,
			give:       detector.Input{Now: now, Resource: res("idle", t0), Series: []provider.Series{idle}, Activity: quiet},
			wantSignal: map[string]detector.State{detector.SignalUtilization: detector.Idle, detector.SignalActivity: detector.Idle, detector.SignalSchedule: detector.Idle},
		},
		{
			// Utilization and schedule outvote activity, but the busy
			// activity signal pulls the confidence under 0.8: no action.
			name: "idle cpu but logins", want: detector.Idle, wantAction: detector.ActionNone,
			give:       detector.Input{Now: now, Resource: res("idle", t0), Series: []provider.Series{idle}, Activity: loud},
			wantSignal: map[string]detector.State{detector.SignalActivity: detector.NotIdle},
		},
		{
			name: "busy", want: detector.NotIdle, wantAction: detector.ActionNone,
			give: detector.Input{Now: now, Resource: res("busy", t0), Series: []provider.Series{busy}, Activity: quiet},
		},
		{
			name: "low but not idle: downsize", want: detector.NotIdle, wantAction: detector.ActionDownsize,
			give: detector.Input{Now: now, Resource: res("low", t0), Series: []provider.Series{low}},
		},
		{
			name: "young resource", want: detector.Unknown, wantAction: detector.ActionNone,
			give: detector.Input{Now: now, Resource: res("idle", now.Add(-2*time.Hour)), Series: []provider.Series{idle}, Activity: quiet},
		},
		{
			name: "no cpu", want: detector.Unknown, wantAction: detector.ActionNone,
			give:       detector.Input{Now: now, Resource: res("idle", t0), Activity: quiet},
			wantSignal: map[string]detector.State{detector.SignalActivity: detector.Idle, detector.SignalUtilization: detector.Unknown},
		},
		{
			name: "cpu source error", want: detector.Unknown, wantAction: detector.ActionNone,
			give: detector.Input{Now: now, Resource: res("idle", t0), Series: []provider.Series{idle}, Activity: quiet,
				MetricErrors: []detector.MetricError{{Metric: provider.MetricCPU, Err: srcErr}}},
		},
		{
			name: "stale cpu", want: detector.Unknown, wantAction: detector.ActionNone,
			give: detector.Input{Now: now.Add(2 * time.Hour), Resource: res("idle", t0), Series: []provider.Series{idle}, Activity: quiet},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := ens.Detect(t.Context(), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.State, v.Explain())
			assert.Equal(t, tt.wantAction, v.Action, v.Explain())
			for name, st := range tt.wantSignal {
				assert.Equal(t, st, signal(t, v, name).State, name)
			}
			sum, value := 0.0, 0.0
			for _, c := range v.Signals {
				sum += c.Weight
				value += c.Value
				if c.State == detector.Unknown {
					assert.Zero(t, c.Weight, c.Signal)
				}
			}
			if v.State != detector.Unknown {
				assert.InDelta(t, 1, sum, 1e-9, "weights renormalised over available signals")
				assert.InDelta(t, v.Score, value, 1e-9)
			}
			assert.GreaterOrEqual(t, v.Confidence, 0.0)
			assert.LessOrEqual(t, v.Confidence, 1.0)
			if v.Action != detector.ActionNone {
				assert.Greater(t, v.Confidence, 0.8)
				assert.Positive(t, v.MonthlySavings)
			}
			assert.NotEmpty(t, v.Reasons)
		})
	}
}

func signal(t *testing.T, v detector.Verdict, name string) detector.Contribution {
	t.Helper()
	for _, c := range v.Signals {
		if c.Signal == name {
			return c
		}
	}
	require.Failf(t, "no signal", "%s in %+v", name, v.Signals)
	return detector.Contribution{}
}

func TestEnsembleRenormalisesWeights(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	now := t0.Add(2 * 24 * time.Hour) // too little history for the schedule
	idle := synth("idle", t0, 5*time.Minute, 2*24*12, func(i int) float64 { return 0.02 })
	quiet := []provider.ActivityCount{{Kind: provider.ActivityLogins}}
	v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("idle", t0), Series: []provider.Series{idle}, Activity: quiet})
	require.NoError(t, err)
	// Utilization 0.3 and activity 0.3 are available: 0.5 each.
	assert.InDelta(t, 0.5, signal(t, v, detector.SignalUtilization).Weight, 1e-12)
	assert.InDelta(t, 0.5, signal(t, v, detector.SignalActivity).Weight, 1e-12)
	assert.Zero(t, signal(t, v, detector.SignalSchedule).Weight)
	assert.Equal(t, detector.Idle, v.State)
}

func TestEnsembleMajorityVote(t *testing.T) {
	t.Parallel()
	// Two custom signals outvote an idle utilization signal.
	busy := detector.Func(func(_ context.Context, in detector.Input) (detector.Verdict, error) {
		return detector.Verdict{State: detector.NotIdle, Score: 0.45}, nil
	})
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Weights: detector.Weights{Utilization: 10}},
		detector.WithSignal("a", 0.01, busy), detector.WithSignal("b", 0.01, busy))
	require.NoError(t, err)
	now := t0.Add(2 * 24 * time.Hour)
	idle := synth("idle", t0, 5*time.Minute, 2*24*12, func(i int) float64 { return 0.0 + 0.001*noise(i) + 0.001 })
	v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("idle", t0), Series: []provider.Series{idle}})
	require.NoError(t, err)
	assert.Greater(t, v.Score, 0.9, "the weighted score says idle")
	assert.Equal(t, detector.NotIdle, v.State, "but 1 of 3 votes is no majority")
}

func TestBadInput(t *testing.T) {
	t.Parallel()
	now := t0.Add(24 * time.Hour)
	good := synth("r", t0, 5*time.Minute, 288, func(int) float64 { return 0.01 })
	withValue := func(x float64) provider.Series {
		s := good.Clone()
		s.Values[7] = x
		return s
	}
	vm := res("r", t0)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	tests := []struct {
		name  string
		give  detector.Input
		field string
	}{
		{"no now", detector.Input{Resource: vm, Series: []provider.Series{good}}, "input.now"},
		{"empty kind", detector.Input{Now: now, Resource: provider.Resource{ID: "r"}, Series: []provider.Series{good}}, "input.resource.kind"},
		{"misspelled kind", detector.Input{Now: now, Resource: provider.Resource{ID: "r", Kind: "vm"}, Series: []provider.Series{good}}, "input.resource.kind"},
		{"inf sample", detector.Input{Now: now, Resource: vm, Series: []provider.Series{withValue(math.Inf(1))}}, "input.series[cpu].values[7]"},
		{"negative utilization", detector.Input{Now: now, Resource: vm, Series: []provider.Series{withValue(-0.1)}}, "input.series[cpu].values[7]"},
		{"cpu in percent", detector.Input{Now: now, Resource: vm, Series: []provider.Series{withValue(1.5)}}, "input.series[cpu].values[7]"},
		{"zero step", detector.Input{Now: now, Resource: vm, Series: []provider.Series{{Metric: provider.MetricCPU, Start: t0, Values: []float64{1}}}}, "input.series[cpu].step"},
		{"duplicate metric", detector.Input{Now: now, Resource: vm, Series: []provider.Series{good, good}}, "input.series[1].metric"},
		{"unknown metric", detector.Input{Now: now, Resource: vm, Series: []provider.Series{good, {Metric: "vcpu", Start: t0, Step: time.Minute}}}, "input.series[1].metric"},
		{"negative activity", detector.Input{Now: now, Resource: vm, Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: -1}}}, "input.activity[0].count"},
		{"duplicate activity kind", detector.Input{Now: now, Resource: vm, Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins}, {Kind: provider.ActivityAPICalls}, {Kind: provider.ActivityLogins}}}, "input.activity[2].kind"},
		{"NaN cost", detector.Input{Now: now, Resource: provider.Resource{Kind: provider.KindInstance, HourlyCost: math.NaN()}}, "input.resource.hourly_cost"},
		{"window shorter than a step", detector.Input{Now: now, Resource: vm, Series: []provider.Series{{Metric: provider.MetricCPU, Start: t0, Step: 48 * time.Hour, Values: []float64{0.01}}}}, "utilization.window"},
		{"values without a start", detector.Input{Now: now, Resource: vm, Series: []provider.Series{{Metric: provider.MetricCPU, Step: time.Minute, Values: []float64{0.01}}}}, "input.series[cpu].start"},
		{"negative network bytes", detector.Input{Now: now, Resource: vm, Series: []provider.Series{{Metric: provider.MetricNetworkIn, Start: t0, Step: 5 * time.Minute, Values: []float64{1, -1}}}}, "input.series[network_in].values[1]"},
		{"activity from now", detector.Input{Now: now, Resource: vm, ActivityFrom: now}, "input.activity_from"},
		// Read in UTC, the schedule would stop the machine in its busy
		// hours where it serves (a review found both read as UTC).
		{"misspelled time zone", detector.Input{Now: now, Resource: withZone(vm, "Europe/Berln"), Series: []provider.Series{good}}, "input.resource.time_zone"},
		{"the machine's time zone", detector.Input{Now: now, Resource: withZone(vm, "Local"), Series: []provider.Series{good}}, "input.resource.time_zone"},
		{"activity from after now", detector.Input{Now: now, Resource: vm, ActivityFrom: now.Add(time.Second)}, "input.activity_from"},
		// Another machine's data: judged on it, a busy machine could be
		// stopped on an idle one's series (a host's batch reader pairing
		// answers with the wrong queries; Scan checks its own reads).
		{"another resource's series", detector.Input{Now: now, Resource: res("busy", t0), Series: []provider.Series{good}}, "input.series[cpu].resource_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ens.Detect(t.Context(), tt.give)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	// A series that names no resource, or an input for a resource without
	// an ID, is taken as the resource's.
	anon := good.Clone()
	anon.ResourceID = ""
	_, err = ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("busy", t0), Series: []provider.Series{anon}})
	require.NoError(t, err)
	noID := vm
	noID.ID = ""
	_, err = ens.Detect(t.Context(), detector.Input{Now: now, Resource: noID, Series: []provider.Series{good}})
	require.NoError(t, err)
}

// TestActivityKindGivenTwiceIsAnError: Input.Validate refuses a repeated
// activity kind as it refuses a repeated metric, naming the field: two
// contradicting counts of logins (none, and 7 two hours ago) are bad
// input, not something to add up (the model's activity feature would) or
// pick from. Every detector refuses it; distinct kinds are accepted. (A
// review found it accepted silently.)
func TestActivityKindGivenTwiceIsAnError(t *testing.T) {
	t.Parallel()
	now := t0.Add(48 * time.Hour)
	in := detector.Input{Now: now, Resource: res("r", t0), ActivityFrom: now.Add(-24 * time.Hour), Activity: []provider.ActivityCount{
		{Kind: provider.ActivityLogins, Count: 0},
		{Kind: provider.ActivityLogins, Count: 7, Last: now.Add(-2 * time.Hour)},
	}}
	err := in.Validate()
	require.ErrorIs(t, err, provider.ErrInvalid)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "input.activity[1].kind", ie.Field)
	require.ErrorContains(t, err, "appears twice")
	act, err := detector.NewActivity(detector.ActivityConfig{})
	require.NoError(t, err)
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	for _, d := range []detector.Detector{act, ens} {
		_, err := d.Detect(t.Context(), in)
		require.ErrorIs(t, err, provider.ErrInvalid, "%T", d)
	}
	in.Activity[1].Kind = provider.ActivityAPICalls
	require.NoError(t, in.Validate())
}

// TestInputEdgesAccepted pins what Validate lets through next to what it
// refuses: a series with no values needs no start (a source with nothing
// to say), a custom metric (unit unknown) may go negative, utilization
// may be exactly 0 or 1, and activity may start a nanosecond before now.
func TestInputEdgesAccepted(t *testing.T) {
	t.Parallel()
	now := t0.Add(24 * time.Hour)
	vm := res("r", t0)
	for name, in := range map[string]detector.Input{
		"an empty series without a start": {Now: now, Resource: vm, Series: []provider.Series{{Metric: provider.MetricCPU, Step: 5 * time.Minute}}},
		"a negative custom metric":        {Now: now, Resource: vm, Series: []provider.Series{{Metric: "custom/temperature_delta", Start: t0, Step: 5 * time.Minute, Values: []float64{-3, 2}}}},
		"utilization 0 and 1":             {Now: now, Resource: vm, Series: []provider.Series{{Metric: provider.MetricCPU, Start: t0, Step: 5 * time.Minute, Values: []float64{0, 1, math.NaN()}}}},
		"activity from just before now":   {Now: now, Resource: vm, ActivityFrom: now.Add(-time.Nanosecond)},
	} {
		require.NoError(t, in.Validate(), name)
	}
}

func TestBadConfig(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		give  detector.EnsembleConfig
		field string
	}{
		{"cpu threshold above 1", detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: 10}}}, "utilization.thresholds.cpu"},
		{"negative threshold", detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: -0.1}}}, "utilization.thresholds.cpu"},
		{"NaN threshold", detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{provider.MetricCPU: math.NaN()}}}, "utilization.thresholds.cpu"},
		{"threshold of an unknown metric", detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Thresholds: map[provider.Metric]float64{"vcpu": 0.1}}}, "utilization.thresholds.vcpu"},
		{"bad statistic", detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Statistics: map[provider.Metric]provider.Statistic{provider.MetricCPU: "median"}}}, "utilization.statistics.cpu"},
		{"required without threshold", detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Required: []provider.Metric{provider.MetricRequests}}}, "utilization.required[0]"},
		{"negative window", detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Window: -time.Hour}}, "utilization.window"},
		{"negative weight", detector.EnsembleConfig{Weights: detector.Weights{Utilization: -1, Activity: 2}}, "weights.utilization"},
		{"act threshold 1", detector.EnsembleConfig{ActThreshold: 1}, "ensemble.act_threshold"},
		{"coverage above 1", detector.EnsembleConfig{Utilization: detector.UtilizationConfig{Quality: detector.DataQuality{MinCoverage: 1.5}}}, "utilization.quality.min_coverage"},
		{"activity scale", detector.EnsembleConfig{Activity: detector.ActivityConfig{Scale: math.Inf(1)}}, "activity.scale"},
		{"activity kind", detector.EnsembleConfig{Activity: detector.ActivityConfig{Kinds: []provider.ActivityKind{"keystrokes"}}}, "activity.kinds[0]"},
		{"schedule idle share", detector.EnsembleConfig{Schedule: detector.ScheduleConfig{IdleShare: 2}}, "schedule.idle_share"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := detector.NewEnsemble(tt.give)
			require.ErrorIs(t, err, provider.ErrInvalid)
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	t.Run("a kind's bad statistic", func(t *testing.T) {
		t.Parallel()
		// Named by the map entry where a policy file has it, not
		// ".statistic" after it (no such field).
		kc := detector.DefaultKinds()
		fn := kc[provider.KindFunction]
		fn.Utilization.Statistics = map[provider.Metric]provider.Statistic{provider.MetricInvocations: "p200"}
		kc[provider.KindFunction] = fn
		_, err := detector.NewEnsemble(detector.EnsembleConfig{Kinds: kc})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "ensemble.kinds.function.utilization.statistics.invocations", ie.Field)
		assert.Equal(t, "p200", ie.Value)
	})
	t.Run("weights sum to zero", func(t *testing.T) {
		t.Parallel()
		// Only the model has weight, and there is no model.
		_, err := detector.NewEnsemble(detector.EnsembleConfig{Weights: detector.Weights{Model: 1}})
		require.ErrorIs(t, err, detector.ErrNoSignal)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "weights", ie.Field)
	})
}

// TestEnsembleConfigEdges pins the ensemble's own defaults and the edges
// of its validation: each of the unit-interval fields is accepted at 1
// (but the act threshold and the downsize saving, which must stay below
// it) and refused just above; any one of the built-in signals' weights
// is enough; a zero threshold has no peak bound.
func TestEnsembleConfigEdges(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	c := ens.Config()
	assert.Equal(t, detector.DefaultWeights(), c.Weights)
	assert.InDelta(t, 0.8, c.ActThreshold, 0)
	assert.Equal(t, 24*time.Hour, c.GracePeriod)
	assert.InDelta(t, 0.5, c.DownsizeSaving, 0)
	assert.InDelta(t, 0.25, c.MinScheduleSaving, 0)
	assert.InDelta(t, 1, c.StopIdleShare, 0)
	assert.InDelta(t, 0.9, c.MinRegularity, 0)
	// Set values are kept.
	set := detector.EnsembleConfig{ActThreshold: 0.6, GracePeriod: time.Hour, DownsizeSaving: 0.4, MinScheduleSaving: 0.3, StopIdleShare: 0.95, MinRegularity: 0.8}
	ens, err = detector.NewEnsemble(set)
	require.NoError(t, err)
	c = ens.Config()
	assert.Equal(t, [6]float64{0.6, float64(time.Hour), 0.4, 0.3, 0.95, 0.8}, [6]float64{c.ActThreshold, float64(c.GracePeriod), c.DownsizeSaving, c.MinScheduleSaving, c.StopIdleShare, c.MinRegularity})

	above := math.Nextafter(1, 2)
	for _, f := range []struct {
		name string
		set  func(c *detector.EnsembleConfig, v float64)
		one  bool // 1 is accepted
	}{
		{"act_threshold", func(c *detector.EnsembleConfig, v float64) { c.ActThreshold = v }, false},
		{"downsize_saving", func(c *detector.EnsembleConfig, v float64) { c.DownsizeSaving = v }, false},
		{"min_schedule_saving", func(c *detector.EnsembleConfig, v float64) { c.MinScheduleSaving = v }, true},
		{"stop_idle_share", func(c *detector.EnsembleConfig, v float64) { c.StopIdleShare = v }, true},
		{"min_regularity", func(c *detector.EnsembleConfig, v float64) { c.MinRegularity = v }, true},
	} {
		var c detector.EnsembleConfig
		f.set(&c, 1)
		err := c.Validate()
		if f.one {
			require.NoError(t, err, "%s = 1", f.name)
		} else {
			require.ErrorContains(t, err, "must be below 1", "%s = 1", f.name)
		}
		f.set(&c, above)
		var ie *provider.InvalidError
		require.ErrorAs(t, c.Validate(), &ie, "%s just above 1", f.name)
		assert.Equal(t, "ensemble."+f.name, ie.Field)
	}

	for _, w := range []detector.Weights{{Utilization: 1}, {Activity: 1}, {Schedule: 1}, {Utilization: 0.5, Activity: 0.25}} {
		_, err := detector.NewEnsemble(detector.EnsembleConfig{Weights: w})
		require.NoError(t, err, "%+v", w)
	}

	b := detector.DefaultPeakBounds(map[provider.Metric]float64{provider.MetricCPU: 0, provider.MetricMemory: 0.3})
	assert.NotContains(t, b, provider.MetricCPU, "a zero threshold has no peak to bound")
	assert.Contains(t, b, provider.MetricMemory)
}

// TestEnsembleVoteReason pins the vote's reason: there is one, counting
// the idle votes of the available signals, when a signal is available,
// and none when none is.
func TestEnsembleVoteReason(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	now := t0.Add(24 * time.Hour)
	votes := func(v detector.Verdict) []detector.Reason { return reasonsOf(v, detector.ReasonVote) }
	v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0.Add(-48*time.Hour))})
	require.NoError(t, err)
	assert.Empty(t, votes(v), "no signal available")
	v, err = ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0.Add(-48*time.Hour)), Activity: []provider.ActivityCount{{Kind: provider.ActivityLogins, Count: 1, Last: now.Add(-time.Minute)}}})
	require.NoError(t, err)
	require.Len(t, votes(v), 1, v.Explain())
	assert.Equal(t, detector.Reason{Signal: "ensemble", Code: detector.ReasonVote, Value: 0, Limit: 1}, votes(v)[0])
}

// TestMetricErrorsAreChecked: a metric error blocks every action and is
// explained by its metric. One without a metric was explained as the
// activity's ("reading activity failed"), one with a misspelled metric
// named a metric no signal reads, and one without an error said
// "failed (<nil>)": each is bad input from the host's reader, and an
// error naming the entry.
func TestMetricErrorsAreChecked(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	now := t0.Add(48 * time.Hour)
	good := synth("r", t0, 5*time.Minute, 48*12, func(int) float64 { return 0.02 })
	throttled := errors.New("throttled")
	tests := []struct {
		name  string
		give  detector.MetricError
		field string
	}{
		{"no metric", detector.MetricError{Err: throttled}, "input.metric_errors[0].metric"},
		{"misspelled metric", detector.MetricError{Metric: "network_inn", Err: throttled}, "input.metric_errors[0].metric"},
		{"no error", detector.MetricError{Metric: provider.MetricNetworkIn}, "input.metric_errors[0].err"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{good}, MetricErrors: []detector.MetricError{tt.give}})
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie, "%v", v.Explain())
			assert.Equal(t, tt.field, ie.Field)
		})
	}
	v, err := ens.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{good},
		MetricErrors: []detector.MetricError{{Metric: provider.MetricNetworkIn, Err: throttled}}})
	require.NoError(t, err)
	failed := reasonsOf(v, detector.ReasonReadFailed)
	require.Len(t, failed, 1, "%v", v.Explain())
	assert.Equal(t, "ensemble: reading network_in failed (throttled): no action, its data could show use", failed[0].String())
}

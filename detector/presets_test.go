package detector_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// presets returns Trusted Advisor, GCP's idle-VM rule and Azure Advisor for
// cfg, in that order.
func presets(t testing.TB, cfg detector.PresetConfig) []*detector.Preset {
	t.Helper()
	var out []*detector.Preset
	for _, newRule := range []func(detector.PresetConfig) (*detector.Preset, error){detector.NewTrustedAdvisor, detector.NewGCPIdleVM, detector.NewAzureAdvisor} {
		r, err := newRule(cfg)
		require.NoError(t, err)
		out = append(out, r)
	}
	return out
}

// TestPresetsNAB runs each public-cloud rule on the NAB traces (CPU only,
// so their network conditions are dropped). They agree on the clear cases
// and disagree on the rest: Trusted Advisor's "4 of 14 days" flags 77c1ca
// and fe7f93, whose daily means are mostly low, and the near-idle 53ea38;
// GCP's absolute 0.03 vCPU and Azure's 2 % 3-day maximum are stricter.
func TestPresetsNAB(t *testing.T) {
	t.Parallel()
	rules := presets(t, detector.PresetConfig{IgnoreNetwork: true})
	tests := []struct {
		give string
		want [3]detector.State // trusted advisor, gcp, azure
	}{
		{"c6585a", [3]detector.State{detector.Idle, detector.Idle, detector.Idle}},
		// A 2.34 % spike in the last 3 days: above Azure's 2 % maximum.
		{"24ae8d", [3]detector.State{detector.Idle, detector.Idle, detector.NotIdle}},
		// A steady 1.8 % of 2 vCPUs is 0.036 vCPU, above GCP's 0.03; and
		// above Azure's 2 % 3-day maximum at times.
		{"53ea38", [3]detector.State{detector.Idle, detector.NotIdle, detector.NotIdle}},
		{"825cc2", [3]detector.State{detector.NotIdle, detector.NotIdle, detector.NotIdle}},
		{"5f5533", [3]detector.State{detector.NotIdle, detector.NotIdle, detector.NotIdle}},
		{"ac20cd", [3]detector.State{detector.NotIdle, detector.NotIdle, detector.NotIdle}},
		{"77c1ca", [3]detector.State{detector.Idle, detector.NotIdle, detector.NotIdle}},
		{"fe7f93", [3]detector.State{detector.Idle, detector.NotIdle, detector.NotIdle}},
	}
	for _, tt := range tests {
		t.Run(tt.give, func(t *testing.T) {
			t.Parallel()
			s := nabCPU(t, tt.give)
			r := res(tt.give, s.Start.Add(-48*time.Hour))
			r.Size = provider.Size{VCPU: 2}
			in := detector.Input{Now: s.End(), Resource: r, Series: []provider.Series{s}}
			for i, rule := range rules {
				v, err := rule.Detect(t.Context(), in)
				require.NoError(t, err)
				assert.Equal(t, tt.want[i], v.State, "%s: %v", rule.Name(), v.Explain())
				assert.Equal(t, rule.Name(), v.Signals[0].Signal)
				assert.Equal(t, detector.ActionNone, v.Action, "presets only report")
			}
		})
	}
}

// TestPresetsDataQuality: every preset applies the same data-quality rules
// as the ensemble's signals. On a real idle trace whose last 3 hours are
// missing, with most steps missing, or on a busy trace that falls straight
// to exact zeros (a dead agent), every rule says Unknown, never idle.
func TestPresetsDataQuality(t *testing.T) {
	t.Parallel()
	idle := nabCPU(t, "c6585a")
	busy := nabCPU(t, "5f5533")
	stale := idle.Clone()
	for i := len(stale.Values) - 36; i < len(stale.Values); i++ {
		stale.Values[i] = math.NaN() // the last 3 h
	}
	gappy := idle.Clone()
	for i := range gappy.Values {
		if i%3 != 0 {
			gappy.Values[i] = math.NaN()
		}
	}
	zeros := busy.Clone()
	for i := len(zeros.Values) - 10*288; i < len(zeros.Values); i++ {
		zeros.Values[i] = 0 // 10 days of exact zeros right after 43 % CPU
	}
	net := func(s provider.Series, m provider.Metric, v float64) provider.Series {
		n := s.Clone()
		n.Metric = m
		for i := range n.Values {
			if !math.IsNaN(n.Values[i]) {
				n.Values[i] = v
			}
		}
		return n
	}
	tests := []struct {
		name string
		give provider.Series
		code detector.ReasonCode
	}{
		{"stale", stale, detector.ReasonStale},
		{"gappy", gappy, detector.ReasonGaps},
		{"zeros after load", zeros, detector.ReasonSuspectZeros},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := res(tt.give.ResourceID, tt.give.Start.Add(-48*time.Hour))
			r.Size = provider.Size{VCPU: 2}
			// Quiet network series with the same holes, so that every
			// rule's network condition is met and only the CPU data decides.
			in := detector.Input{Now: tt.give.End(), Resource: r, Series: []provider.Series{tt.give,
				net(tt.give, provider.MetricNetworkIn, 10), net(tt.give, provider.MetricNetworkOut, 10), net(tt.give, provider.MetricNetworkUtilization, 0.001)}}
			for _, rule := range presets(t, detector.PresetConfig{}) {
				v, err := rule.Detect(t.Context(), in)
				require.NoError(t, err)
				assert.Equal(t, detector.Unknown, v.State, "%s: %v", rule.Name(), v.Explain())
				require.NotEmpty(t, v.Reasons, rule.Name())
				assert.Equal(t, tt.code, v.Reasons[0].Code, "%s: %v", rule.Name(), v.Explain())
			}
		})
	}
	// The rules are what protect: with zeros trusted, Trusted Advisor
	// calls the dead agent's 10 days of zeros idle.
	trusting, err := detector.NewTrustedAdvisor(detector.PresetConfig{IgnoreNetwork: true, Quality: detector.DataQuality{TrustZeros: true}})
	require.NoError(t, err)
	v, err := trusting.Detect(t.Context(), detector.Input{Now: zeros.End(), Resource: res(zeros.ResourceID, zeros.Start), Series: []provider.Series{zeros}})
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, v.State, v.Explain())
	// And the same preset on the clean trace is idle: the holes made the
	// difference above, not the rule.
	for _, rule := range presets(t, detector.PresetConfig{IgnoreNetwork: true}) {
		r := res(idle.ResourceID, idle.Start)
		r.Size = provider.Size{VCPU: 2}
		v, err := rule.Detect(t.Context(), detector.Input{Now: idle.End(), Resource: r, Series: []provider.Series{idle}})
		require.NoError(t, err)
		assert.Equal(t, detector.Idle, v.State, "%s: %v", rule.Name(), v.Explain())
	}
}

func TestPresetsBadConfig(t *testing.T) {
	t.Parallel()
	for _, newRule := range []func(detector.PresetConfig) (*detector.Preset, error){detector.NewTrustedAdvisor, detector.NewGCPIdleVM, detector.NewAzureAdvisor} {
		_, err := newRule(detector.PresetConfig{Quality: detector.DataQuality{MinCoverage: 2}})
		require.ErrorIs(t, err, provider.ErrInvalid)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, "preset.quality.min_coverage", ie.Field)
	}
}

// TestTrustedAdvisorRule pins the published thresholds: a daily mean CPU of
// at most 10 % and at most 5 MB of network I/O, on at least 4 of 14 days.
func TestTrustedAdvisorRule(t *testing.T) {
	t.Parallel()
	now := t0.Add(14 * 24 * time.Hour)
	// lowDays quiet days (at cpu and bytes per second), then busy ones.
	make2 := func(lowDays int, cpu, netPerSec float64) detector.Input {
		c := flat("r", now, 14, func(i int) float64 {
			if i < lowDays*288 {
				return cpu
			}
			return 0.5
		})
		n := flat("r", now, 14, func(i int) float64 {
			if i < lowDays*288 {
				return netPerSec
			}
			return 1e6
		})
		n.Metric = provider.MetricNetworkIn
		return detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{c, n}}
	}
	perDay := func(mb float64) float64 { return mb * 1e6 / 86400 } // bytes/s
	ta, err := detector.NewTrustedAdvisor(detector.PresetConfig{})
	require.NoError(t, err)
	tests := []struct {
		name string
		give detector.Input
		want detector.State
	}{
		{"4 low days", make2(4, 0.05, perDay(1)), detector.Idle},
		{"3 low days", make2(3, 0.05, perDay(1)), detector.NotIdle},
		{"cpu exactly 10 %", make2(4, 0.10, perDay(1)), detector.Idle},
		{"cpu above 10 %", make2(4, 0.1001, perDay(1)), detector.NotIdle},
		{"network exactly 5 MB", make2(4, 0.05, perDay(5)), detector.Idle},
		{"network above 5 MB", make2(4, 0.05, perDay(5.01)), detector.NotIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := ta.Detect(t.Context(), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.State, v.Explain())
		})
	}
	// The score is the low days over 8, at most 1; the reason counts them
	// against 4 over 14 days; the window is the 14 days.
	for low, score := range map[int]float64{3: 0.375, 4: 0.5, 8: 1, 12: 1} {
		v, err := ta.Detect(t.Context(), make2(low, 0.05, perDay(1)))
		require.NoError(t, err)
		assert.InDelta(t, score, v.Score, 1e-12, "%d low days", low)
		require.NotEmpty(t, v.Reasons)
		r := v.Reasons[len(v.Reasons)-1]
		assert.Equal(t, detector.Reason{Signal: "trusted_advisor", Code: detector.ReasonRule, Value: float64(low), Limit: 4, Duration: 14 * 24 * time.Hour}, r)
		assert.Equal(t, detector.Window{From: now.Add(-14 * 24 * time.Hour), To: now}, v.Window)
	}
}

// TestTrustedAdvisorKnownDays pins which days Trusted Advisor's rule can
// judge: a day counts with at least half its steps of data (CPU and
// network), and the rule needs 4 such days.
func TestTrustedAdvisorKnownDays(t *testing.T) {
	t.Parallel()
	now := t0.Add(14 * 24 * time.Hour)
	ta, err := detector.NewTrustedAdvisor(detector.PresetConfig{Quality: detector.DataQuality{MinCoverage: 0.01}})
	require.NoError(t, err)
	// Data on the last four days only; the oldest of them (day 10 of 14)
	// has cpuSteps and netSteps steps of data.
	input := func(cpuSteps, netSteps int) detector.Input {
		series := func(m provider.Metric, v float64, steps int) provider.Series {
			s := flat("r", now, 14, func(i int) float64 {
				switch {
				case i < 10*288, i < 10*288+288 && i >= 10*288+steps:
					return math.NaN()
				}
				return v
			})
			s.Metric = m
			return s
		}
		return detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{
			series(provider.MetricCPU, 0.05, cpuSteps), series(provider.MetricNetworkIn, 1, netSteps),
		}}
	}
	for _, tt := range []struct {
		name       string
		cpu, net   int
		want       detector.State
		wantReason detector.ReasonCode
	}{
		{"four whole days", 288, 288, detector.Idle, detector.ReasonRule},
		{"half a day of cpu counts", 144, 288, detector.Idle, detector.ReasonRule},
		{"less than half a day of cpu", 143, 288, detector.Unknown, detector.ReasonShortHistory},
		{"half a day of network counts", 288, 144, detector.Idle, detector.ReasonRule},
		{"less than half a day of network", 288, 143, detector.Unknown, detector.ReasonShortHistory},
	} {
		v, err := ta.Detect(t.Context(), input(tt.cpu, tt.net))
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, v.State, "%s: %v", tt.name, v.Explain())
		require.NotEmpty(t, v.Reasons, tt.name)
		assert.Equal(t, tt.wantReason, v.Reasons[len(v.Reasons)-1].Code, tt.name)
	}
}

// TestGCPIdleVMRule pins the documented thresholds: CPU below 0.03 vCPU for
// 97 % of the time, received traffic below 2000 B/s and sent below
// 1000 B/s for 95 % of it.
func TestGCPIdleVMRule(t *testing.T) {
	t.Parallel()
	now := t0.Add(14 * 24 * time.Hour)
	const n = 14 * 288
	// share of the steps at the low value, the rest at the high one.
	series := func(m provider.Metric, share, low, high float64) provider.Series {
		s := flat("r", now, 14, func(i int) float64 {
			if float64(i) < share*n {
				return low
			}
			return high
		})
		s.Metric = m
		return s
	}
	r := res("r", t0)
	r.Size = provider.Size{VCPU: 2} // 0.03 vCPU is 1.5 % of 2 vCPUs
	in := func(cpuShare, inShare, outShare float64) detector.Input {
		return detector.Input{Now: now, Resource: r, Series: []provider.Series{
			series(provider.MetricCPU, cpuShare, 0.0149, 0.5),
			series(provider.MetricNetworkIn, inShare, 1999, 1e5),
			series(provider.MetricNetworkOut, outShare, 999, 1e5),
		}}
	}
	gcp, err := detector.NewGCPIdleVM(detector.PresetConfig{})
	require.NoError(t, err)
	tests := []struct {
		name string
		give detector.Input
		want detector.State
	}{
		{"all below", in(0.98, 0.96, 0.96), detector.Idle},
		{"cpu low 97 %", in(0.97, 0.96, 0.96), detector.Idle},
		{"cpu low 96.9 %", in(0.969, 0.96, 0.96), detector.NotIdle},
		{"received low 94.9 %", in(0.98, 0.949, 0.96), detector.NotIdle},
		{"sent low 94.9 %", in(0.98, 0.96, 0.949), detector.NotIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := gcp.Detect(t.Context(), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.State, v.Explain())
		})
	}
	// 2000 B/s received is not below 2000.
	at := in(0.98, 0.96, 0.96)
	at.Series[1] = series(provider.MetricNetworkIn, 0.96, 2000, 1e5)
	v, err := gcp.Detect(t.Context(), at)
	require.NoError(t, err)
	assert.Equal(t, detector.NotIdle, v.State, v.Explain())
}

// TestAzureAdvisorRule pins the documented thresholds: p95 of CPU below 3 %
// over 7 days, its maximum over the last 3 days at most 2 %, and network
// utilization below 2 %.
func TestAzureAdvisorRule(t *testing.T) {
	t.Parallel()
	now := t0.Add(7 * 24 * time.Hour)
	in := func(early, last3, netMax float64) detector.Input {
		c := flat("r", now, 7, func(i int) float64 {
			if i < 4*288 {
				return early
			}
			return last3
		})
		n := flat("r", now, 7, func(i int) float64 {
			if i == 100 {
				return netMax
			}
			return 0.001
		})
		n.Metric = provider.MetricNetworkUtilization
		return detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{c, n}}
	}
	azure, err := detector.NewAzureAdvisor(detector.PresetConfig{})
	require.NoError(t, err)
	tests := []struct {
		name string
		give detector.Input
		want detector.State
	}{
		{"quiet", in(0.01, 0.01, 0.01), detector.Idle},
		{"last 3 days exactly 2 %", in(0.01, 0.02, 0.01), detector.Idle},
		{"last 3 days above 2 %", in(0.01, 0.0201, 0.01), detector.NotIdle},
		{"p95 at 3 %", in(0.03, 0.01, 0.01), detector.NotIdle},
		{"p95 below 3 %", in(0.0299, 0.01, 0.01), detector.Idle},
		{"network at 2 %", in(0.01, 0.01, 0.02), detector.NotIdle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			v, err := azure.Detect(t.Context(), tt.give)
			require.NoError(t, err)
			assert.Equal(t, tt.want, v.State, v.Explain())
		})
	}
}

func TestPresetsNeedTheirData(t *testing.T) {
	t.Parallel()
	s := nabCPU(t, "c6585a")
	in := detector.Input{Now: s.End(), Resource: res("c6585a", s.Start), Series: []provider.Series{s}}
	// Without network data the published rules cannot say idle.
	for _, rule := range presets(t, detector.PresetConfig{}) {
		v, err := rule.Detect(t.Context(), in)
		require.NoError(t, err)
		assert.Equal(t, detector.Unknown, v.State, "%s: %v", rule.Name(), v.Explain())
	}
	// GCP's rule is in vCPUs: without a vCPU count it is unknown.
	gcp, err := detector.NewGCPIdleVM(detector.PresetConfig{IgnoreNetwork: true})
	require.NoError(t, err)
	v, err := gcp.Detect(t.Context(), in)
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State)
	// With a quiet network Trusted Advisor flags it.
	net := s.Clone()
	net.Metric = provider.MetricNetworkIn
	for i := range net.Values {
		net.Values[i] = 20 // bytes/s: 1.7 MB a day
	}
	in.Series = append(in.Series, net)
	ta, err := detector.NewTrustedAdvisor(detector.PresetConfig{})
	require.NoError(t, err)
	v, err = ta.Detect(t.Context(), in)
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, v.State, v.Explain())
	for i := range net.Values {
		net.Values[i] = 100 // 8.6 MB a day: above 5 MB
	}
	v, err = ta.Detect(t.Context(), in)
	require.NoError(t, err)
	assert.Equal(t, detector.NotIdle, v.State, v.Explain())
	// A failing network source makes it unknown.
	in.Series = in.Series[:1]
	in.MetricErrors = []detector.MetricError{{Metric: provider.MetricNetworkOut, Err: provider.ErrThrottled}}
	v, err = ta.Detect(t.Context(), in)
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State, v.Explain())
	assert.Equal(t, detector.ReasonSourceError, v.Reasons[0].Code)
}

// TestTrustedAdvisorNetworkZeros pins the cliff of suspect zeros on
// network: Trusted Advisor's own limit, 5 MB a day (57.9 B/s). Ten days
// of exact zeros right after 60 B/s are a dead agent (unknown); after
// 55 B/s they follow traffic the rule already calls low, and count.
func TestTrustedAdvisorNetworkZeros(t *testing.T) {
	t.Parallel()
	now := t0.Add(14 * 24 * time.Hour)
	ta, err := detector.NewTrustedAdvisor(detector.PresetConfig{})
	require.NoError(t, err)
	cpu := flat("r", now, 14, func(int) float64 { return 0.02 })
	for _, tt := range []struct {
		before float64
		want   detector.State
	}{{60, detector.Unknown}, {55, detector.Idle}} {
		n := flat("r", now, 14, func(i int) float64 {
			if i < 4*288 {
				return tt.before
			}
			return 0
		})
		n.Metric = provider.MetricNetworkIn
		v, err := ta.Detect(t.Context(), detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{cpu, n}})
		require.NoError(t, err)
		assert.Equal(t, tt.want, v.State, "%v B/s before: %v", tt.before, v.Explain())
		if tt.want == detector.Unknown {
			assert.Equal(t, detector.ReasonSuspectZeros, v.Reasons[0].Code)
		}
	}
}

// TestPresetsAtExactShares pins the published rules where they turn, on
// 4,000 steps (so that 97 % and 95 % are whole steps): GCP's CPU share of
// exactly 97 % and received share of exactly 95 % are idle, a step less
// is not, and its cliff of suspect CPU zeros is 0.03 vCPU; Azure's score
// and the reasons' codes at exactly 3 % and 2 %.
func TestPresetsAtExactShares(t *testing.T) {
	t.Parallel()
	now := t0.Add(14 * 24 * time.Hour)
	const n = 4000
	steps := func(m provider.Metric, low int, lo, hi float64) provider.Series {
		s := synth("r", now.Add(-n*5*time.Minute), 5*time.Minute, n, func(i int) float64 {
			if i < low {
				return lo
			}
			return hi
		})
		s.Metric = m
		return s
	}
	r := res("r", t0)
	r.Size = provider.Size{VCPU: 2} // 0.03 vCPU is 1.5 %
	gcp, err := detector.NewGCPIdleVM(detector.PresetConfig{})
	require.NoError(t, err)
	for _, tt := range []struct {
		name        string
		cpu, in     int // steps below the limits
		want        detector.State
		cpuZeros    bool
		beforeZeros float64
	}{
		{name: "cpu 97 %, received 95 %", cpu: 3880, in: 3800, want: detector.Idle},
		{name: "cpu a step under 97 %", cpu: 3879, in: 3800, want: detector.NotIdle},
		{name: "received a step under 95 %", cpu: 3880, in: 3799, want: detector.NotIdle},
	} {
		v, err := gcp.Detect(t.Context(), detector.Input{Now: now, Resource: r, Series: []provider.Series{
			steps(provider.MetricCPU, tt.cpu, 0.01, 0.5),
			steps(provider.MetricNetworkIn, tt.in, 10, 1e5),
			steps(provider.MetricNetworkOut, n, 10, 10),
		}})
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, v.State, "%s: %v", tt.name, v.Explain())
	}
	// Ten days of exact CPU zeros: after 0.016 (above 0.03 vCPU of 2) a
	// dead agent; after 0.014 quiet, and trusted.
	for before, want := range map[float64]detector.State{0.016: detector.Unknown, 0.014: detector.Idle} {
		v, err := gcp.Detect(t.Context(), detector.Input{Now: now, Resource: r, Series: []provider.Series{
			steps(provider.MetricCPU, n-2880, before, 0),
			steps(provider.MetricNetworkIn, n, 10, 10),
			steps(provider.MetricNetworkOut, n, 10, 10),
		}})
		require.NoError(t, err)
		assert.Equal(t, want, v.State, "%v before the zeros: %v", before, v.Explain())
	}

	azure, err := detector.NewAzureAdvisor(detector.PresetConfig{})
	require.NoError(t, err)
	week := func(cpu, net float64) detector.Input {
		c := flat("r", now, 7, func(int) float64 { return cpu })
		nu := flat("r", now, 7, func(int) float64 { return net })
		nu.Metric = provider.MetricNetworkUtilization
		return detector.Input{Now: now, Resource: res("r", t0), Series: []provider.Series{c, nu}}
	}
	v, err := azure.Detect(t.Context(), week(0.015, 0.001))
	require.NoError(t, err)
	// p95 at half its limit and the 3-day maximum at 3/4 of its:
	// min(1/(1+e^−3), 1/(1+e^−1.5), 1/(1+e^−5.7)).
	assert.InDelta(t, 1/(1+math.Exp(-1.5)), v.Score, 1e-12)
	assert.Equal(t, []detector.ReasonCode{detector.ReasonBelow, detector.ReasonBelow, detector.ReasonBelow}, codesOf(v))
	// The smallest term decides: the p95's (4 days at 0.0225, then 0.005)
	// or the network's (0.015 of 0.02).
	early := week(0.005, 0.001)
	for i := range 4 * 288 {
		early.Series[0].Values[i] = 0.0225
	}
	v, err = azure.Detect(t.Context(), early)
	require.NoError(t, err)
	assert.InDelta(t, 1/(1+math.Exp(1.5)), 1-v.Score, 1e-12, "p95 at 3/4 of its limit")
	v, err = azure.Detect(t.Context(), week(0.005, 0.015))
	require.NoError(t, err)
	assert.InDelta(t, 1/(1+math.Exp(-1.5)), v.Score, 1e-12, "network at 3/4 of its limit")
	v, err = azure.Detect(t.Context(), week(0.03, 0.02))
	require.NoError(t, err)
	assert.Equal(t, []detector.ReasonCode{detector.ReasonAbove, detector.ReasonAbove, detector.ReasonAbove}, codesOf(v), "a p95 of 3 %, a 3-day max of 3 % and network at 2 %: none within")
	v, err = azure.Detect(t.Context(), week(0.02, 0.001))
	require.NoError(t, err)
	assert.Equal(t, []detector.ReasonCode{detector.ReasonBelow, detector.ReasonBelow, detector.ReasonBelow}, codesOf(v), "a 3-day max of exactly 2 % is within its limit")
}

// TestPresetNeeds: each preset reads CPU and the network its rule looks
// at (Azure's network utilization, the others' bytes in and out), only
// CPU when IgnoreNetwork drops the network condition.
func TestPresetNeeds(t *testing.T) {
	t.Parallel()
	inOut := []provider.Metric{provider.MetricCPU, provider.MetricNetworkIn, provider.MetricNetworkOut}
	for _, tt := range []struct {
		name string
		make func(detector.PresetConfig) (*detector.Preset, error)
		want []provider.Metric
	}{
		{"trusted_advisor", detector.NewTrustedAdvisor, inOut},
		{"gcp_idle_vm", detector.NewGCPIdleVM, inOut},
		{"azure_advisor", detector.NewAzureAdvisor, []provider.Metric{provider.MetricCPU, provider.MetricNetworkUtilization}},
	} {
		p, err := tt.make(detector.PresetConfig{})
		require.NoError(t, err, tt.name)
		assert.Equal(t, tt.want, p.Needs().Metrics, tt.name)
		p, err = tt.make(detector.PresetConfig{IgnoreNetwork: true})
		require.NoError(t, err, tt.name)
		assert.Equal(t, []provider.Metric{provider.MetricCPU}, p.Needs().Metrics, tt.name+" without network")
	}
}

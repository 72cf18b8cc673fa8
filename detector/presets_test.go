package detector_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestPresetsNAB compares the public-cloud rules on the NAB traces (CPU
// only, so their network conditions are dropped). They agree on the clear
// cases and disagree on 77c1ca: Trusted Advisor's "4 of 14 days" flags it,
// the stricter GCP and Azure rules do not.
func TestPresetsNAB(t *testing.T) {
	t.Parallel()
	cfg := detector.PresetConfig{IgnoreNetwork: true}
	rules := []*detector.Preset{detector.NewTrustedAdvisor(cfg), detector.NewGCPIdleVM(cfg), detector.NewAzureAdvisor(cfg)}
	tests := []struct {
		give string
		want [3]detector.State // trusted advisor, gcp, azure
	}{
		{"c6585a", [3]detector.State{detector.Idle, detector.Idle, detector.Idle}},
		{"24ae8d", [3]detector.State{detector.Idle, detector.Idle, detector.Idle}},
		{"825cc2", [3]detector.State{detector.NotIdle, detector.NotIdle, detector.NotIdle}},
		{"5f5533", [3]detector.State{detector.NotIdle, detector.NotIdle, detector.NotIdle}},
		{"77c1ca", [3]detector.State{detector.Idle, detector.NotIdle, detector.NotIdle}},
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
			}
		})
	}
}

func TestPresetsNeedTheirData(t *testing.T) {
	t.Parallel()
	s := nabCPU(t, "c6585a")
	in := detector.Input{Now: s.End(), Resource: res("c6585a", s.Start), Series: []provider.Series{s}}
	// Without network data the published rules cannot say idle.
	for _, rule := range []*detector.Preset{detector.NewTrustedAdvisor(detector.PresetConfig{}), detector.NewGCPIdleVM(detector.PresetConfig{})} {
		v, err := rule.Detect(t.Context(), in)
		require.NoError(t, err)
		assert.Equal(t, detector.Unknown, v.State, "%s: %v", rule.Name(), v.Explain())
	}
	// GCP's rule is in vCPUs: without a vCPU count it is unknown.
	v, err := detector.NewGCPIdleVM(detector.PresetConfig{IgnoreNetwork: true}).Detect(t.Context(), in)
	require.NoError(t, err)
	assert.Equal(t, detector.Unknown, v.State)
	// With a quiet network Trusted Advisor flags it.
	net := s.Clone()
	net.Metric = provider.MetricNetworkIn
	for i := range net.Values {
		net.Values[i] = 20 // bytes/s: 1.7 MB a day
	}
	in.Series = append(in.Series, net)
	v, err = detector.NewTrustedAdvisor(detector.PresetConfig{}).Detect(t.Context(), in)
	require.NoError(t, err)
	assert.Equal(t, detector.Idle, v.State, v.Explain())
	for i := range net.Values {
		net.Values[i] = 100 // 8.6 MB a day: above 5 MB
	}
	v, err = detector.NewTrustedAdvisor(detector.PresetConfig{}).Detect(t.Context(), in)
	require.NoError(t, err)
	assert.Equal(t, detector.NotIdle, v.State, v.Explain())
}

package provider_test

import (
	"encoding"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/provider"
)

// enumCase is one enum type: every value it must accept (valid), values
// it must refuse (bad), and a pointer to a fresh zero value.
type enumCase struct {
	name  string
	valid []string
	bad   []string
	fresh func() encoding.TextUnmarshaler
}

func enumCases() []enumCase {
	kinds := make([]string, 0, len(provider.Kinds()))
	for _, k := range provider.Kinds() {
		kinds = append(kinds, string(k))
	}
	metrics := []string{"custom/queue_depth", "custom/a.b:c-d/e"}
	for _, m := range provider.Metrics() {
		metrics = append(metrics, string(m))
	}
	activity := make([]string, 0, len(provider.ActivityKinds()))
	for _, k := range provider.ActivityKinds() {
		activity = append(activity, string(k))
	}
	return []enumCase{
		{"Kind", kinds, []string{"blimp", "Instance", "instance "}, func() encoding.TextUnmarshaler { return new(provider.Kind) }},
		{"State", []string{"pending", "running", "stopping", "stopped", "terminated"}, []string{"asleep", "RUNNING"}, func() encoding.TextUnmarshaler { return new(provider.State) }},
		{"Criticality", []string{"low", "medium", "high", "critical"}, []string{"urgent", "High"}, func() encoding.TextUnmarshaler { return new(provider.Criticality) }},
		{"Metric", metrics, []string{"cpu%", "custom/", "CPU", "custom/white space"}, func() encoding.TextUnmarshaler { return new(provider.Metric) }},
		{"Unit", []string{"fraction", "bytes/s", "1/s", "s", "count"}, []string{"percent", "B/s"}, func() encoding.TextUnmarshaler { return new(provider.Unit) }},
		{"Statistic", []string{"mean", "max", "min", "sum", "count", "last", "p95", "p99.9"}, []string{"median", "p100", "p0", "pNaN"}, func() encoding.TextUnmarshaler { return new(provider.Statistic) }},
		{"ActivityKind", activity, []string{"yawns", "Logins"}, func() encoding.TextUnmarshaler { return new(provider.ActivityKind) }},
	}
}

// TestEnumsText checks the text form of every enum: each valid value and
// the unset "" round-trip through MarshalText and UnmarshalText and print
// as themselves; UnmarshalText refuses a bad value with an error naming it
// and leaves the target unchanged.
func TestEnumsText(t *testing.T) {
	t.Parallel()
	for _, tt := range enumCases() {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, v := range append([]string{""}, tt.valid...) {
				u := tt.fresh()
				require.NoError(t, u.UnmarshalText([]byte(v)), v)
				text, err := u.(encoding.TextMarshaler).MarshalText()
				require.NoError(t, err)
				assert.Equal(t, v, string(text))
				assert.Equal(t, v, u.(fmt.Stringer).String())
			}
			for _, v := range tt.bad {
				u := tt.fresh()
				require.NoError(t, u.UnmarshalText([]byte(tt.valid[0])))
				err := u.UnmarshalText([]byte(v))
				require.ErrorIs(t, err, provider.ErrInvalid, v)
				assert.Contains(t, err.Error(), fmt.Sprintf("%q", v), "the error names the value")
				assert.Equal(t, tt.valid[0], u.(fmt.Stringer).String(), "a refused value leaves the target unchanged")
			}
		})
	}
}

// TestEnumsInJSONAndYAML checks that the enums read and write their plain
// values in JSON and YAML, as fields and as map keys, and that a
// misspelt value fails the decoding.
func TestEnumsInJSONAndYAML(t *testing.T) {
	t.Parallel()
	type doc struct {
		Kind      provider.Kind                     `json:"kind" yaml:"kind"`
		Statistic provider.Statistic                `json:"statistic,omitempty" yaml:"statistic,omitempty"`
		Metrics   map[provider.Metric]float64       `json:"metrics" yaml:"metrics"`
		Activity  map[provider.ActivityKind]float64 `json:"activity" yaml:"activity"`
	}
	give := doc{Kind: provider.KindLoadBalancer, Statistic: provider.Percentile(95),
		Metrics:  map[provider.Metric]float64{provider.MetricCPU: 0.5, provider.CustomMetric("queue"): 3},
		Activity: map[provider.ActivityKind]float64{provider.ActivityLogins: 2}}
	data, err := json.Marshal(give)
	require.NoError(t, err)
	assert.JSONEq(t, `{"kind":"load_balancer","statistic":"p95","metrics":{"cpu":0.5,"custom/queue":3},"activity":{"logins":2}}`, string(data))
	var got doc
	require.NoError(t, json.Unmarshal(data, &got))
	assert.Equal(t, give, got)
	y, err := yaml.Marshal(give)
	require.NoError(t, err)
	got = doc{}
	require.NoError(t, yaml.Unmarshal(y, &got))
	assert.Equal(t, give, got)

	for _, bad := range []string{`{"kind":"blimp"}`, `{"statistic":"p101"}`, `{"metrics":{"cpu%":1}}`, `{"activity":{"yawns":1}}`} {
		require.ErrorIs(t, json.Unmarshal([]byte(bad), &got), provider.ErrInvalid, bad)
		require.ErrorIs(t, yaml.Unmarshal([]byte(bad), &got), provider.ErrInvalid, bad)
	}
}

func TestCriticalityLevel(t *testing.T) {
	t.Parallel()
	order := []provider.Criticality{provider.CriticalityUnknown, provider.CriticalityLow, provider.CriticalityMedium, provider.CriticalityHigh, provider.CriticalityCritical}
	for i, c := range order {
		assert.Equal(t, i, c.Level(), c)
	}
	assert.Equal(t, -1, provider.Criticality("urgent").Level())
}

package prometheus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// TestTargetsTemplateMustUseMatchers: the targets query lists the fleet
// with {{.Matchers}} (or {{.Selector}}) set to every ID or the wanted
// ones, and {{.ID}} and {{.Labels}} empty, as there is no resource yet;
// a targets template that selects by {{.ID}} or a label passed
// validation, which checked that it rendered differently for two IDs,
// and then rendered up{instance=""} for every call: List found no
// resource and Get, QueryMetric and Activity answered ErrNotFound for
// every one. New refuses it, naming config.targets.
func TestTargetsTemplateMustUseMatchers(t *testing.T) {
	t.Parallel()
	const addr = "http://127.0.0.1:9090"
	for _, give := range []string{
		`last_over_time(up{instance="{{.ID}}"}[{{.Range}}])`,
		`up{job="{{index .Labels "job"}}", instance="{{.ID}}"}`,
	} {
		err := prometheus.Config{Address: addr, Targets: give}.Validate()
		require.ErrorIs(t, err, provider.ErrInvalid, give)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, give)
		assert.Equal(t, "config.targets", ie.Field, give)
	}
	for _, give := range []string{
		prometheus.DefaultTargets,
		`up{{.Selector}}`,
		`max by (instance) (up{job="node",{{.Matchers}}})`,
	} {
		require.NoError(t, prometheus.Config{Address: addr, Targets: give}.Validate(), give)
	}
}

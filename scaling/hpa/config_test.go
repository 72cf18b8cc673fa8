package hpa_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling/hpa"
)

// Config.Validate refuses each negative field by name and accepts zeros
// (the defaults).
func TestConfigValidateFields(t *testing.T) {
	t.Parallel()
	require.NoError(t, hpa.Config{}.Validate())
	for field, c := range map[string]hpa.Config{
		"tolerance":                      {Tolerance: -0.1},
		"cpu_initialization_period":      {CPUInitializationPeriod: -time.Second},
		"initial_readiness_delay":        {InitialReadinessDelay: -time.Second},
		"downscale_stabilization_window": {DownscaleStabilizationWindow: -time.Second},
	} {
		err := c.Validate()
		require.ErrorIs(t, err, provider.ErrInvalid, field)
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, field)
		assert.Equal(t, field, inv.Field)
	}
}

// Tolerances: Config.Tolerance (0.1 by default) in both directions, each
// replaced by its behavior rules' own; Within includes both ends of
// [1 − ScaleDown, 1 + ScaleUp] (upstream: |1 − ratio| ≤ tolerance means no
// change).
func TestTolerancesPerDirection(t *testing.T) {
	t.Parallel()
	down, up := 0.25, 0.5
	c := hpa.Config{}
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 0.1}, c.Tolerances(nil))
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 0.1}, c.Tolerances(&hpa.Behavior{ScaleUp: &hpa.ScalingRules{}, ScaleDown: &hpa.ScalingRules{}}))
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.25, ScaleUp: 0.1}, c.Tolerances(&hpa.Behavior{ScaleDown: &hpa.ScalingRules{Tolerance: &down}}))
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.1, ScaleUp: 0.5}, c.Tolerances(&hpa.Behavior{ScaleUp: &hpa.ScalingRules{Tolerance: &up}}))
	assert.Equal(t, hpa.Tolerances{ScaleDown: 0.2, ScaleUp: 0.2}, hpa.Config{Tolerance: 0.2}.Tolerances(nil))

	tol := hpa.Tolerances{ScaleDown: down, ScaleUp: up}
	const tiny = 1.0 / 1024
	assert.True(t, tol.Within(0.75), "1 − ScaleDown")
	assert.True(t, tol.Within(1.5), "1 + ScaleUp")
	assert.True(t, tol.Within(1))
	assert.False(t, tol.Within(0.75-tiny))
	assert.False(t, tol.Within(1.5+tiny))
}

package ratelimit_test

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// The configuration's limits are inclusive: a value exactly at its bound
// is valid, one past it is refused naming the field.
func TestConfigBoundaries(t *testing.T) {
	t.Parallel()
	h := 2 * time.Hour
	tests := []struct {
		name  string
		cfg   ratelimit.Config
		field string // "" when valid
	}{
		{name: "events 2^31-1", cfg: ratelimit.Config{Up: ratelimit.Budget{Events: math.MaxInt32}}},
		{name: "events 2^31", cfg: ratelimit.Config{Up: ratelimit.Budget{Events: math.MaxInt32 + 1}}, field: "up.events"},
		{name: "max skew = history", cfg: ratelimit.Config{History: h, MaxSkew: h}},
		{name: "max skew > history", cfg: ratelimit.Config{History: h, MaxSkew: h + time.Nanosecond}, field: "max_skew"},
		{name: "max skew = default history", cfg: ratelimit.Config{MaxSkew: ratelimit.DefaultHistory}},
		{name: "max skew > default history", cfg: ratelimit.Config{MaxSkew: ratelimit.DefaultHistory + time.Nanosecond}, field: "max_skew"},
		{name: "window = history", cfg: ratelimit.Config{History: h, Up: ratelimit.Budget{Window: h}}},
		{name: "window > history", cfg: ratelimit.Config{History: h, Up: ratelimit.Budget{Window: h + time.Nanosecond}}, field: "history"},
		{name: "interval = history", cfg: ratelimit.Config{History: h, Down: ratelimit.Budget{MinInterval: h}}},
		{name: "interval > history", cfg: ratelimit.Config{History: h, Down: ratelimit.Budget{MinInterval: h + time.Nanosecond}}, field: "history"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ratelimit.New(tt.cfg)
			if tt.field == "" {
				require.NoError(t, err)
				require.NoError(t, tt.cfg.Validate())
				return
			}
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, tt.field, ie.Field)
		})
	}
}

// Targets may not hold C1 control characters (U+0080 to U+009F); the
// no-break space U+00A0 just above them is fine, as is U+007E below DEL.
func TestTargetC1Controls(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"web\u0080", "web\u009f", "web\x7f", "web\x1f"} {
		err := ratelimit.ValidateTarget("target", bad)
		require.ErrorIs(t, err, provider.ErrInvalid, "%q", bad)
		assert.Contains(t, err.Error(), "control characters", "%q", bad)
	}
	for _, good := range []string{"web\u00a0eu", "web~", "wéb"} {
		require.NoError(t, ratelimit.ValidateTarget("target", good), "%q", good)
	}
}

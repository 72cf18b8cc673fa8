package scaling_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// A forecast-only strategy reports what it would recommend as the strategy
// that acts recommends it: within the group's bounds. It reported the
// forecast's raw capacity, which the group refuses and the engine never
// applies (a need of 30 on a group of at most 4 read "would recommend 30").
func TestPredictiveForecastOnlyKeepsTheGroupsBounds(t *testing.T) {
	t.Parallel()
	y := seasonal(16*24, 5)
	k := 15*24 + 5 // demand about 1800: some 36 instances
	tests := []struct {
		name          string
		cur, min, max int
		want          int
	}{
		{"above the max", 3, 0, 4, 4},
		{"below the min", 70, 60, 100, 60},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := hourlyConfig()
			cfg.ForecastOnly = true
			p, err := scaling.NewPredictive(cfg)
			require.NoError(t, err)
			act, err := scaling.NewPredictive(hourlyConfig())
			require.NoError(t, err)
			st := stateAt(y, k, tt.cur)
			st.Target.Capacity.Min, st.Target.Capacity.Max = tt.min, tt.max
			want, err := act.Recommend(t.Context(), st)
			require.NoError(t, err)
			require.Equal(t, tt.want, want.Capacity.Desired, "the acting strategy recommends within the bounds: %s", want.Reason)

			rec, err := p.Recommend(t.Context(), st)
			require.NoError(t, err)
			assert.Equal(t, tt.cur, rec.Capacity.Desired, "keeps the capacity")
			require.NoError(t, rec.Validate(st.Target))
			assert.Equal(t, want.Capacity.Desired, rec.Proposal, "says what it would recommend: %s", rec.Reason)
			assert.Contains(t, rec.Reason, fmt.Sprintf("would recommend %d ", tt.want))
		})
	}
}

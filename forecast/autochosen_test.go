package forecast_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/forecast"
)

// TestAutoMarksOneScoreChosen: Scores marks exactly one entry Chosen, the
// one refitted, even when two candidates share a name (a candidate listed
// twice, or written once with Seasons 0 and once with 1, both
// "snaive(24)"). The report marked every score whose name equalled the
// chosen spec's, so a host counting or picking "the chosen one" saw two.
func TestAutoMarksOneScoreChosen(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give []forecast.Spec
	}{
		{"listed twice", []forecast.Spec{
			{Kind: forecast.KindSeasonalNaive, Period: 24},
			{Kind: forecast.KindSeasonalNaive, Period: 24},
		}},
		{"seasons 0 and 1", []forecast.Spec{
			{Kind: forecast.KindSeasonalNaive, Period: 24},
			{Kind: forecast.KindSeasonalNaive, Period: 24, Seasons: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			a, err := forecast.NewAuto(forecast.AutoConfig{Periods: []int{24, 168}, Candidates: tt.give, NoCombinations: true})
			require.NoError(t, err)
			require.NoError(t, a.Fit(seasonal(24*7*4, 100, 0, 30, 2, 3)))
			chosen := 0
			for _, s := range a.Scores() {
				if s.Chosen {
					chosen++
				}
			}
			assert.Equal(t, 1, chosen, "one model is refitted, one score is chosen: %+v", a.Scores())
			assert.True(t, a.Scores()[0].Chosen, "the best score is the chosen one")
		})
	}
}

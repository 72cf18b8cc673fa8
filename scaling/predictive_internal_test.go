package scaling

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// BenchmarkPredictiveDecision measures one decision of a fitted
// predictive strategy on 5-minute data (31 days, daily and weekly
// seasons): the forecast over the lead time and horizon and the sizing,
// without the words of the recommendation.
func BenchmarkPredictiveDecision(b *testing.B) {
	p, err := NewPredictive(PredictiveConfig{CapacityPerInstance: 50, LeadTime: 5 * time.Minute})
	require.NoError(b, err)
	r := rand.New(rand.NewPCG(1, 2))
	y := make([]float64, 31*288)
	for t := range y {
		y[t] = 1000 + 600*math.Sin(2*math.Pi*float64(t)/288) + 150*math.Sin(2*math.Pi*float64(t)/2016) + 30*r.NormFloat64()
	}
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	ser := provider.Series{Metric: provider.MetricRequests, Start: start, Step: 5 * time.Minute, Values: y}
	st := State{Now: ser.End(), Target: Target{ID: "g", Resource: provider.Resource{ID: "g", Kind: provider.KindGroup},
		Capacity: provider.Capacity{CapacitySpec: provider.CapacitySpec{Max: 1000, Desired: 30}}, Max: 1000}, Metrics: []provider.Series{ser}}
	_, err = p.Recommend(b.Context(), st)
	require.NoError(b, err)
	pr := p.target("g")
	require.Equal(b, StandingForecast, pr.standing)
	b.ReportAllocs()
	var d predictiveDecision
	for b.Loop() {
		d = pr.decide(30)
	}
	require.Positive(b, d.Desired)
}

func TestCalendarSeasons(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		give []int
		step time.Duration
		want []int
	}{
		{"5-minute daily and weekly read short", []int{283, 1981}, 5 * time.Minute, []int{288, 2016}},
		{"within 3 % of a day", []int{280}, 5 * time.Minute, []int{288}},
		{"beyond 3 % of a day", []int{279}, 5 * time.Minute, []int{279}},
		{"hourly 23 is 4 % off", []int{23}, time.Hour, []int{23}},
		{"half a day stays", []int{12}, time.Hour, []int{12}},
		{"merged duplicates", []int{287, 289}, 5 * time.Minute, []int{288}},
		{"a step that does not divide a day", []int{3}, 7 * time.Hour, []int{3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, calendarSeasons(tt.give, tt.step))
		})
	}
}

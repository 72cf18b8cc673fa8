package prometheus_test

import (
	"math"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// TestNonFiniteWarningNamesItsSteps pins the warning of an answer's
// non-finite steps word for word: one such step is warned of alone, by
// its value, step and time; several by their count, the first and the
// last (step and time) and each distinct value once, in the order met.
// Mutation testing found most of it untested (every test passed with
// each changed): one non-finite step warned of nothing, the first or the
// last step named wrong, and a value met twice listed twice.
func TestNonFiniteWarningNamesItsSteps(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	nan, inf := math.NaN(), math.Inf(1)
	tests := []struct {
		name string
		give []float64
		want string
	}{
		{"one", []float64{1, nan, 2}, "NaN at step 1 at 2026-01-01T00:01:00Z is not finite; returned as a gap"},
		{"several, each kind twice", []float64{1, inf, nan, 2, inf, nan, 3},
			"4 values from step 1 at 2026-01-01T00:01:00Z to step 5 at 2026-01-01T00:05:00Z are not finite (+Inf, NaN); returned as gaps"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var samples []provider.Sample
			for i, v := range tt.give {
				samples = append(samples, provider.Sample{Time: start.Add(time.Duration(i) * time.Minute), Value: v})
			}
			g := &gridServer{version: "2.42.0", samples: samples}
			var mu sync.Mutex
			var warnings []string
			src := newSource(t, prometheus.Config{Address: g.start(t).URL, Metrics: map[provider.Metric]string{provider.MetricCPU: `cpu{ {{.Matchers}} }`}},
				prometheus.WithWarningFunc(func(w prometheus.Warning) {
					mu.Lock()
					defer mu.Unlock()
					warnings = append(warnings, w.Warnings...)
				}))
			q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: start, End: start.Add(time.Duration(len(tt.give)) * time.Minute), Step: time.Minute}
			got, err := src.QueryMetric(t.Context(), q)
			require.NoError(t, err)
			require.Len(t, got.Values, len(tt.give))
			mu.Lock()
			defer mu.Unlock()
			assert.Equal(t, []string{tt.want}, warnings)
		})
	}
}

package forecast_test

import (
	"math"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// seriesOf wraps hourly values in a provider.Series starting at a fixed
// time.
func seriesOf(v []float64) provider.Series {
	return provider.Series{ResourceID: "r", Metric: provider.CustomMetric("m"), Start: time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC), Step: time.Hour, Values: v}
}

func posInf() float64 { return math.Inf(1) }

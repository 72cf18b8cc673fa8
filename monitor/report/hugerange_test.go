package report_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/report"
)

// A chart whose values span more than a float64 holds (a metrics source
// answering −1e308 and 1e308: a broken exporter) is drawn, clipped to
// the largest range gonum can tick. Its value axis's span overflowed to
// +Inf, and gonum's tick search never ended: SVG spun for ever, and with
// it every request of the dashboard's page that drew the chart.
func TestChartOfAHugeRangeIsDrawn(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	tests := []struct {
		name string
		give report.Chart
	}{
		{"line", report.Chart{Name: "line", Type: report.ChartLine, Times: []time.Time{at, at.Add(time.Hour)},
			Series: []report.Series{{Label: "cpu", Values: []float64{-1e308, 1e308}}}}},
		{"bar", report.Chart{Name: "bar", Type: report.ChartBar, Labels: []string{"a", "b"},
			Series: []report.Series{{Label: "saved", Values: []float64{-1e308, 1e308}}}}},
		{"marker", report.Chart{Name: "marker", Type: report.ChartLine, Times: []time.Time{at, at.Add(time.Hour)},
			Series:  []report.Series{{Label: "demand", Values: []float64{1, 2}}},
			Markers: []report.Marker{{Time: at, Value: -1.7e308, Label: "low"}, {Time: at, Value: 1.7e308, Label: "high"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			type result struct {
				svg string
				err error
			}
			done := make(chan result, 1)
			go func() {
				svg, err := tt.give.SVGString()
				done <- result{svg, err}
			}()
			select {
			case r := <-done:
				require.NoError(t, r.err)
				assert.Contains(t, r.svg, "<svg")
			case <-time.After(time.Minute): // real time: generous for a loaded machine
				t.Fatal("SVG still drawing after a minute: its ticks never end")
			}
		})
	}
}

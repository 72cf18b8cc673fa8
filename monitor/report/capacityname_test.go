package report_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
)

// The capacity charts of two targets have names of their own
// ("capacity-<target>"): every one was named "capacity", and a Chart's
// name identifies it (it names the dashboard's endpoints), so a dashboard
// showing the capacity of several targets served the first one's data
// and SVG under every one's links, and its figures shared an id.
func TestCapacityChartsOfTwoTargetsHaveTheirOwnNames(t *testing.T) {
	t.Parallel()
	demand := provider.Series{Metric: provider.MetricRequests, Start: t0, Step: time.Hour, Values: []float64{1, 2}}
	a := report.CapacityChart(nil, "asg-a", demand, 1)
	b := report.CapacityChart(nil, "asg-b", demand, 1)
	assert.NotEqual(t, a.Name, b.Name)
	assert.Equal(t, "capacity-asg-a", a.Name)
}

package prometheus_test

import (
	"testing"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/providertest"
)

// The driver passes the conformance suite for its capabilities (Inventory,
// MetricsSource, ActivitySource) against the shared live server. The two
// fixture instances are the scraped targets: the node exporter (the only
// one with team=infra) and the in-process exporter, both up and so running
// instances. The suite skips Actuator, Scaler, Resizer and BackupCatalog,
// which Prometheus cannot do.
func TestConformance(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	providertest.Run(t, func(t *testing.T) providertest.Subject {
		start, end := settled(5, 2*time.Second)
		node, app := fx.srv.NodeTarget, fx.srv.ExporterTargets[0]
		return providertest.Subject{
			Provider:      newSource(t, fx.liveConfig()),
			Instances:     []string{node, app},
			Tag:           [2]string{"team", "infra"},
			MetricQuery:   provider.Query{ResourceID: node, Metric: provider.MetricCPU, Start: start, End: end, Step: 2 * time.Second},
			ActivityQuery: provider.ActivityQuery{ResourceID: app, Start: start, End: end},
		}
	})
}

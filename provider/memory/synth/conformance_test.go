package synth_test

import (
	"context"
	"testing"
	"time"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/providertest"
)

// TestConformance runs the provider conformance suite against a fleet:
// the read capabilities (Inventory, MetricsSource and the batch reads)
// it implements; the others are skipped.
func TestConformance(t *testing.T) {
	t.Parallel()
	now := start.Add(10 * 24 * time.Hour)
	providertest.Run(t, func(t *testing.T) providertest.Subject {
		f, _ := newFleet(t, 1000, 9, now)
		return providertest.Subject{
			Provider:    f,
			Instances:   []string{f.ID(3), f.ID(4)},
			MetricQuery: provider.Query{ResourceID: f.ID(3), Metric: provider.MetricCPU, Start: start, End: start.Add(4 * time.Hour), Step: 20 * time.Minute},
			FirstSample: start,
			Settle:      func(context.Context) error { return nil },
		}
	})
}

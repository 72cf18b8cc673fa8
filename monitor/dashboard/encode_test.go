package dashboard_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/dashboard"
	"github.com/idlescale/idlescale/provider"
)

// badCost is an inventory that answers the stopped i-idle running again
// at an infinite hourly cost (a driver's division by a zero quantity),
// which Resource.Validate refuses but a host's inventory may answer.
type badCost struct{ provider.Inventory }

func (b badCost) List(ctx context.Context, f provider.Filter) ([]provider.Resource, error) {
	rs, err := b.Inventory.List(ctx, f)
	for i := range rs {
		if rs[i].ID == "i-idle" {
			rs[i].State, rs[i].HourlyCost = provider.StateRunning, math.Inf(1)
		}
	}
	return rs, err
}

// A report JSON cannot encode (an infinite cost from the inventory makes
// the realised savings −Inf) is answered with an error the client can
// read: the answer was encoded after its 200 had been sent, so the client
// got a 200 with a truncated body, not JSON, and no error.
func TestReportThatCannotBeEncodedIsAnError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t, dashboard.WithInventory(badCost{f.cloud}))
	for _, path := range []string{"/api/report", "/api/idle"} {
		status, body, h := get(t, srv.URL+path)
		assert.Equal(t, "application/json", h.Get("Content-Type"), path)
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &v), "%s: %d %q", path, status, body)
		if status != http.StatusOK {
			assert.Equal(t, http.StatusBadGateway, status, path)
			assert.Contains(t, v["error"], "Inf", path)
		}
	}
}

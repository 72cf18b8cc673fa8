package dashboard_test

import (
	"encoding/json"
	"math"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/monitor/dashboard"
)

// nanAlerts is an alert source whose alert carries a value JSON cannot
// encode (a host's own alert source, or an Alerter written an event with
// a NaN confidence directly).
type nanAlerts struct{}

func (nanAlerts) Alerts() []alert.Alert {
	return []alert.Alert{{ID: "cpu/i-1", Rule: "cpu", Severity: alert.SeverityWarning, State: alert.StateFiring,
		ResourceID: "i-1", Value: math.NaN(), Count: 1}}
}

// An answer JSON cannot encode (a NaN or infinite number a source gave)
// is a 502 with an error the client can read: it was encoded after its
// 200 had been sent, so the client got a 200 with a truncated body, not
// JSON, and no error.
func TestAnswerThatCannotBeEncodedIsAnError(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t, dashboard.WithAlerts(nanAlerts{}))
	for _, path := range []string{"/api/report", "/api/alerts"} {
		status, body, h := get(t, srv.URL+path)
		assert.Equal(t, http.StatusBadGateway, status, path)
		assert.Equal(t, "application/json", h.Get("Content-Type"), path)
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(body), &v), "%s: %d %q", path, status, body)
		assert.Contains(t, v["error"], "NaN", path)
	}
	status, _, _ := get(t, srv.URL+"/api/idle")
	assert.Equal(t, http.StatusOK, status, "an answer without the alerts")
}

package dashboard_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/dashboard"
	"github.com/idlescale/idlescale/safety/approval"
)

// A cross-origin approve is refused with 403, as the package doc says,
// and like every other refusal its answer is JSON ({"error": "..."}): it
// was net/http's plain text ("cross-origin request detected from
// Sec-Fetch-Site header"), which a tool reading the API's errors, and
// the page's own script (resp.json()), could not parse. The request is
// not decided.
func TestCrossOriginRefusalIsJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t, dashboard.WithAuthorizer(alice))
	tok := token(t, srv.URL)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost,
		srv.URL+"/api/approvals/"+f.pending.ID+"/approve", strings.NewReader(`{"comment":"ok"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", tok)
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := testClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	var answer struct {
		Error string `json:"error"`
	}
	require.NoError(t, json.Unmarshal(body, &answer), "body: %s", body)
	assert.Contains(t, answer.Error, "cross-origin")
	got, err := f.approvals.Get(t.Context(), f.pending.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Pending, got.State)
}

package dashboard_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/dashboard"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety/approval"
)

// testClient has a transport of its own: http.DefaultTransport's idle
// connections are closed by every httptest.Server.Close of a parallel
// test, which can cut a request in flight.
var testClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}

func get(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := testClient.Get(url) //nolint:noctx // a test against a local server
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b), resp.Header
}

func post(t *testing.T, url, token, origin, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("X-CSRF-Token", token)
	}
	if origin != "" {
		req.Header.Set("Origin", origin)
		req.Header.Set("Sec-Fetch-Site", "cross-site")
	}
	resp, err := testClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// token reads the page's CSRF token.
func token(t *testing.T, base string) string {
	t.Helper()
	_, page, _ := get(t, base+"/")
	const marker = `<meta name="csrf-token" content="`
	i := strings.Index(page, marker)
	require.GreaterOrEqual(t, i, 0)
	rest := page[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestPage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t)
	status, page, h := get(t, srv.URL+"/")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, h.Get("Content-Security-Policy"), "script-src 'self'")
	for _, want := range []string{"test fleet", "read-only", "i-nobackup", "legacy-ftp", "metrics-relay", `id="chart-utilization"`,
		`id="chart-savings"`, "reporting-batch", "safety_block/i-nobackup", "idle_found/i-prod"} {
		assert.Contains(t, page, want)
	}
	assert.NotContains(t, page, "<script>alert", "names are escaped")
	assert.NotContains(t, page, "<img/src=x")
	assert.Contains(t, page, "&lt;script&gt;alert")
	assert.NotContains(t, page, `class="approve"`, "read-only: no buttons")
	assert.Contains(t, page, `<meta name="csrf-token" content="">`, "and no token")
	assert.NotContains(t, page, "https://", "no external resource")

	for _, p := range []string{"/static/app.js", "/static/style.css", "/static/favicon.svg"} {
		status, _, _ := get(t, srv.URL+p)
		assert.Equal(t, http.StatusOK, status, p)
	}
}

func TestEventsEndpoint(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t)
	var body struct {
		Events []monitor.Event `json:"events"`
		Error  string          `json:"error"`
	}
	read := func(q string) int {
		status, b, _ := get(t, srv.URL+"/api/events?"+q)
		body.Events, body.Error = nil, ""
		require.NoError(t, json.Unmarshal([]byte(b), &body))
		return status
	}
	require.Equal(t, http.StatusOK, read("resource=i-idle&kind=action,verification"))
	require.Len(t, body.Events, 2)
	assert.Equal(t, monitor.KindAction, body.Events[0].Kind)
	require.Equal(t, http.StatusOK, read("kind=blocked&kind=verdict&limit=3&from="+url.QueryEscape(sat.Format("2006-01-02T15:04:05Z07:00"))))
	assert.Len(t, body.Events, 3)
	require.Equal(t, http.StatusOK, read("resource="+url.QueryEscape(hostileID)+"&kind=verdict"))
	require.Len(t, body.Events, 1)
	assert.Equal(t, hostileID, body.Events[0].ResourceID, "JSON carries the name as it is")

	for _, tt := range []struct{ q, name string }{
		{"kind=explosion", "kind"},
		{"from=yesterday", "from"},
		{"limit=-1", "limit"},
		{"limit=x", "limit"},
		{"after_seq=-2", "after_seq"},
		{"from=2026-03-07T03:00:00Z&to=2026-03-07T02:00:00Z", "to"},
		{"colour=blue", "colour"},
	} {
		assert.Equal(t, http.StatusBadRequest, read(tt.q), tt.q)
		assert.Contains(t, body.Error, tt.name, tt.q)
	}
}

func TestJSONEndpoints(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t)
	status, b, _ := get(t, srv.URL+"/api/idle")
	require.Equal(t, http.StatusOK, status)
	var idle struct {
		Idle []struct {
			ResourceID string `json:"resource_id"`
		} `json:"idle"`
	}
	require.NoError(t, json.Unmarshal([]byte(b), &idle))
	var ids []string
	for _, i := range idle.Idle {
		ids = append(ids, i.ResourceID)
	}
	assert.ElementsMatch(t, []string{"i-idle", "i-nobackup", hostileID, "i-prod"}, ids)

	status, b, _ = get(t, srv.URL+"/api/report")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, b, `"realised_savings":0.576`, "6 h × $0.096 since i-idle stopped")

	status, b, _ = get(t, srv.URL+"/api/approvals")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, b, f.pending.ID)
	assert.Contains(t, b, `"can_decide":false`)

	status, b, _ = get(t, srv.URL+"/api/charts")
	require.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"charts":["utilization","idle","safety","savings","cost"],"errors":[]}`, b)
	status, b, _ = get(t, srv.URL+"/api/charts/safety")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, b, `"labels":["allowed","approval required","blocked"]`)
	status, b, h := get(t, srv.URL+"/charts/utilization.svg")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, "image/svg+xml", h.Get("Content-Type"))
	assert.True(t, strings.HasPrefix(b, "<svg"))
	assert.NotContains(t, b, "<script>")
	for _, p := range []string{"/api/charts/nope", "/charts/nope.svg", "/charts/utilization.png", "/nope"} {
		status, _, _ := get(t, srv.URL+p)
		assert.Equal(t, http.StatusNotFound, status, p)
	}
	status, b, _ = get(t, srv.URL+"/api/alerts")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, b, "safety_block/i-nobackup")
}

func TestDecide(t *testing.T) {
	t.Parallel()
	f := newFixture(t)

	// Read-only: refused whatever the request says.
	_, ro := f.serve(t)
	status, body := post(t, ro.URL+"/api/approvals/"+f.pending.ID+"/approve", "whatever", "", "")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "read-only")

	d, srv := f.serve(t, dashboard.WithAuthorizer(alice))
	assert.False(t, d.ReadOnly())
	tok := token(t, srv.URL)
	require.Len(t, tok, 64)
	base := srv.URL + "/api/approvals/"
	status, body = post(t, base+f.pending.ID+"/approve", "", "", "")
	assert.Equal(t, http.StatusForbidden, status, "no CSRF token")
	assert.Contains(t, body, "CSRF")
	wrong := tok[:63] + "0"
	if wrong == tok {
		wrong = tok[:63] + "1"
	}
	status, _ = post(t, base+f.pending.ID+"/approve", wrong, "", "")
	assert.Equal(t, http.StatusForbidden, status, "wrong CSRF token")
	status, _ = post(t, base+f.pending.ID+"/approve", tok, "https://evil.example", "")
	assert.Equal(t, http.StatusForbidden, status, "cross-origin")
	status, body = post(t, base+"no-such-id/approve", tok, "", "")
	assert.Equal(t, http.StatusNotFound, status, "unknown approval: %s", body)
	status, _ = post(t, base+f.pending.ID+"/explode", tok, "", "")
	assert.Equal(t, http.StatusNotFound, status)
	status, body = post(t, base+f.pending.ID+"/approve", tok, "", "{not json")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "body")
	status, _ = post(t, base+f.pending.ID+"/approve", tok, "", `{"comment":"`+strings.Repeat("x", 5000)+`"}`)
	assert.Equal(t, http.StatusBadRequest, status)

	status, body = post(t, base+f.pending.ID+"/approve", tok, "", `{"comment":"ok <b>"}`)
	require.Equal(t, http.StatusOK, status, body)
	got, err := f.approvals.Get(t.Context(), f.pending.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State)
	assert.Equal(t, "alice", got.DecidedBy)
	assert.Equal(t, "ok <b>", got.Comment)
	status, _ = post(t, base+f.pending.ID+"/deny", tok, "", "")
	assert.Equal(t, http.StatusConflict, status, "already approved")

	evs, err := f.log.Query(monitor.Query{Kinds: []monitor.Kind{monitor.KindApproval}, ResourceID: "i-prod"})
	require.NoError(t, err)
	require.Len(t, evs, 2, "requested, approved: the transition is in the event log")
	assert.Equal(t, "approved", evs[1].Outcome)
	assert.Equal(t, "alice", evs[1].Actor)

	// The requester cannot approve their own request; an authorizer that
	// names nobody refuses.
	f2 := newFixture(t)
	reaperAuth := dashboard.AuthorizerFunc(func(*http.Request) (string, error) { return "reaper", nil })
	_, srv2 := f2.serve(t, dashboard.WithAuthorizer(reaperAuth))
	status, body = post(t, srv2.URL+"/api/approvals/"+f2.pending.ID+"/approve", token(t, srv2.URL), "", "")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "self-approval")
	nobody := dashboard.AuthorizerFunc(func(*http.Request) (string, error) { return "", nil })
	_, srv3 := f2.serve(t, dashboard.WithAuthorizer(nobody))
	status, _ = post(t, srv3.URL+"/api/approvals/"+f2.pending.ID+"/approve", token(t, srv3.URL), "", "")
	assert.Equal(t, http.StatusForbidden, status)
	got, err = f2.approvals.Get(t.Context(), f2.pending.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Pending, got.State, "nothing changed")
}

func TestNew(t *testing.T) {
	t.Parallel()
	var ie *provider.InvalidError
	_, err := dashboard.New(dashboard.Config{}, nil)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "events", ie.Field)
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	for _, c := range []struct {
		give  dashboard.Config
		field string
	}{{dashboard.Config{RecentEvents: -1}, "recent_events"}, {dashboard.Config{ChartWindow: -1}, "chart_window"},
		{dashboard.Config{Refresh: -1}, "refresh"}} {
		_, err := dashboard.New(c.give, l)
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, c.field, ie.Field)
	}
	_, err = dashboard.New(dashboard.Config{}, l, dashboard.WithAuthorizer(alice))
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "authorizer", ie.Field)
	_, err = dashboard.New(dashboard.Config{}, l, dashboard.WithCSRFSecret([]byte("short")))
	require.ErrorAs(t, err, &ie)

	// An empty log: empty states, no error.
	d, err := dashboard.New(dashboard.Config{}, l)
	require.NoError(t, err)
	assert.True(t, d.ReadOnly())
	srv := httptestServer(t, d)
	status, page, _ := get(t, srv+"/")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{"No idle resources.", "No approval workflow is connected.", "No alerts.", "No events yet."} {
		assert.Contains(t, page, want)
	}
	// Two dashboards with one secret share their token (replicas behind
	// one address); without one, each has its own.
	f := newFixture(t)
	secret := []byte("0123456789abcdef0123")
	_, a := f.serve(t, dashboard.WithAuthorizer(alice), dashboard.WithCSRFSecret(secret))
	_, b := f.serve(t, dashboard.WithAuthorizer(alice), dashboard.WithCSRFSecret(secret))
	_, c := f.serve(t, dashboard.WithAuthorizer(alice))
	assert.Equal(t, token(t, a.URL), token(t, b.URL))
	assert.NotEqual(t, token(t, a.URL), token(t, c.URL))
}

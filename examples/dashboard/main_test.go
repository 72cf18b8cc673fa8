package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety/approval"
)

// stepClock is a settable fake clock whose After moves time forward at
// once.
type stepClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *stepClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Saturday 03:00 UTC: no business hours for a day and a half.
var sat = time.Date(2026, time.March, 7, 3, 0, 0, 0, time.UTC)

// Six simulated hours of the demo, run by hand: the reaper stops the idle
// instance with a backup, asks approval for the production one, the
// dashboard shows it all and lets a local request approve, and realised
// savings grow.
func TestDemo(t *testing.T) {
	t.Parallel()
	clk := &stepClock{now: sat}
	d, err := setup(clk, defaultFleet(), slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	ctx := t.Context()
	for h := range 6 {
		clk.set(sat.Add(time.Duration(h) * time.Hour))
		_, err := d.reaper.RunOnce(ctx, clk.Now())
		require.NoError(t, err)
	}
	done, err := d.log.Query(monitor.Query{Kinds: []monitor.Kind{monitor.KindAction}})
	require.NoError(t, err)
	var stopped []string
	for _, e := range done {
		if e.Outcome == monitor.OutcomeDone {
			stopped = append(stopped, e.ResourceID)
		}
	}
	assert.Contains(t, stopped, "i-0c6585a", "reporting-batch is idle and backed up: stopped")
	assert.NotContains(t, stopped, "i-024ae8d", "legacy-ftp has no backup: blocked")

	// Three hours of asg-api: its CPU fed every minute from its traffic,
	// the autoscaler evaluating every minute (its waits move the clock on).
	for end := clk.Now().Add(3 * time.Hour); clk.Now().Before(end); {
		at := clk.Now().Add(time.Minute)
		clk.set(at)
		require.NoError(t, d.feed(ctx, at))
		d.autoscaler.RunOnce(ctx, clk.Now())
	}
	scaled, err := d.log.Query(monitor.Query{ResourceID: "asg-api", Source: monitor.SourceScaling})
	require.NoError(t, err)
	require.NotEmpty(t, scaled, "the autoscaler's plans and steps are in the log")

	srv := httptest.NewServer(d.mux)
	defer srv.Close()
	get := func(path string) string {
		resp, err := srv.Client().Get(srv.URL + path) //nolint:noctx // a local test server
		require.NoError(t, err)
		defer resp.Body.Close()
		require.Equal(t, http.StatusOK, resp.StatusCode, path)
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return string(b)
	}
	page := get("/")
	for _, want := range []string{"reporting-batch", "legacy-ftp", `id="chart-utilization"`, `id="chart-capacity-asg-api"`,
		"Capacity vs demand: asg-api", "approve", "safety_block/i-024ae8d"} {
		assert.Contains(t, page, want)
	}
	var rep struct {
		Report struct {
			Idle []struct {
				ResourceID         string  `json:"resource_id"`
				MonthlySavings     float64 `json:"monthly_savings"`
				MadeMonthlySavings float64 `json:"made_monthly_savings"`
			} `json:"idle"`
			Totals struct {
				RealisedSavings float64 `json:"realised_savings"`
			} `json:"totals"`
		} `json:"report"`
	}
	require.NoError(t, json.Unmarshal([]byte(get("/api/report")), &rep))
	assert.Greater(t, rep.Report.Totals.RealisedSavings, 0.0, "hours of a stopped instance")
	for _, i := range rep.Report.Idle {
		if i.ResourceID == "i-0c6585a" {
			// Judged idle again on its data from before the stop: its
			// saving is realised, not estimated too.
			assert.InDelta(t, i.MonthlySavings, i.MadeMonthlySavings, 1e-9, "the stopped instance's saving is made")
		}
	}
	assert.Contains(t, get("/metrics"), "idlescale_actions_total")

	// A request from this machine approves the pending production stop.
	pending, err := d.approvals.List(ctx, approval.Filter{State: approval.Pending})
	require.NoError(t, err)
	require.NotEmpty(t, pending)
	i := strings.Index(page, `name="csrf-token" content="`)
	token := page[i+len(`name="csrf-token" content="`):]
	token = token[:strings.IndexByte(token, '"')]
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/api/approvals/"+pending[0].ID+"/approve", strings.NewReader(`{}`))
	require.NoError(t, err)
	req.Header.Set("X-CSRF-Token", token)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	got, err := d.approvals.Get(ctx, pending[0].ID)
	require.NoError(t, err)
	assert.Equal(t, "local-admin", got.DecidedBy)
}

func TestFastClock(t *testing.T) {
	t.Parallel()
	c := newFastClock(sat, 3600)
	now := c.Now()
	assert.False(t, now.Before(sat))
	assert.True(t, now.Before(sat.Add(lead).Add(time.Nanosecond)), "never past the traces")
	c.set(sat.Add(10 * lead))
	assert.Equal(t, sat.Add(10*lead), c.Now().Truncate(time.Hour), "set moves the end along")
}

// At the end of the traces the simulation stops: a wait past it never
// ends, so the loops do not run again and again at the frozen time (the
// reaper every real second, asking for the same approvals, the backup job
// failing on a snapshot it took already).
func TestFastClockStopsAtTheEnd(t *testing.T) {
	t.Parallel()
	c := newFastClock(sat, 3600)
	assert.NotNil(t, c.After(time.Hour), "within the traces")
	c.set(sat.Add(lead - time.Minute))
	assert.Nil(t, c.After(time.Hour), "past their end: never fires")
	assert.Nil(t, c.After(2*time.Minute))
}

// The example's authorizer trusts this machine only when the browser
// asked for this machine too: a page of another site whose name that site
// points at 127.0.0.1 (DNS rebinding) is same-origin with itself, so it
// passes the cross-origin check, reads the page's CSRF token and posts
// from this machine; trusting the peer address alone let any web page
// its user opened approve as local-admin.
func TestLoopbackOnlyRefusesAnotherHostName(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		remote, host string
		ok           bool
	}{
		{"127.0.0.1:50000", "127.0.0.1:8080", true},
		{"127.0.0.1:50000", "localhost:8080", true},
		{"[::1]:50000", "[::1]:8080", true},
		{"127.0.0.1:50000", "localhost", true},
		{"[::1]:50000", "[::1]", true},
		{"127.0.0.1:50000", "evil.example:8080", false},
		{"127.0.0.1:50000", "evil.example", false},
		{"127.0.0.1:50000", "192.0.2.1:8080", false},
		{"192.0.2.7:50000", "127.0.0.1:8080", false},
	} {
		r := httptest.NewRequest(http.MethodPost, "/api/approvals/a1/approve", nil)
		r.RemoteAddr, r.Host = c.remote, c.host
		who, err := loopbackOnly.Authorize(r)
		if c.ok {
			require.NoError(t, err, "%s asking for %s", c.remote, c.host)
			assert.Equal(t, "local-admin", who)
		} else {
			assert.Error(t, err, "%s asking for %s", c.remote, c.host)
		}
	}
}

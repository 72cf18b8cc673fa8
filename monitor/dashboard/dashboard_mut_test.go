package dashboard_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/dashboard"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

type failingEvents struct{}

func (failingEvents) Query(monitor.Query) ([]monitor.Event, error) {
	return nil, errors.New("log unreachable")
}

type failingInventory struct{}

func (failingInventory) List(context.Context, provider.Filter) ([]provider.Resource, error) {
	return nil, errors.New("inventory throttled")
}

func (failingInventory) Get(context.Context, string) (provider.Resource, error) {
	return provider.Resource{}, errors.New("inventory throttled")
}

type failingApprovals struct{ dashboard.Approvals }

func (failingApprovals) List(context.Context, approval.Filter) ([]approval.Request, error) {
	return nil, errors.New("approval store down")
}

// A page whose sources fail still renders, and says which failed and why.
func TestPageShowsFailingSources(t *testing.T) {
	t.Parallel()
	d, err := dashboard.New(dashboard.Config{}, failingEvents{}, dashboard.WithInventory(failingInventory{}),
		dashboard.WithApprovals(failingApprovals{}), dashboard.WithClock(stepclock.New(sat)))
	require.NoError(t, err)
	status, page, _ := get(t, httptestServer(t, d)+"/")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{"events: log unreachable", "inventory: inventory throttled", "approvals: approval store down"} {
		assert.Contains(t, page, want)
	}
	status, body, _ := get(t, httptestServer(t, d)+"/api/approvals")
	assert.Equal(t, http.StatusBadGateway, status)
	assert.Contains(t, body, "approval store down")
}

// The page lists the newest RecentEvents events, newest first, and
// states the refresh period in seconds.
func TestPageRecentEvents(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	for i, why := range []string{"pass-one", "pass-two", "pass-three"} {
		require.NoError(t, l.Record(t.Context(), monitor.Event{Time: sat.Add(time.Duration(i) * time.Minute), Kind: monitor.KindRun,
			Source: monitor.SourceReaper, Outcome: monitor.OutcomeDone, Reason: why}))
	}
	d, err := dashboard.New(dashboard.Config{RecentEvents: 2, Refresh: 90 * time.Second}, l, dashboard.WithClock(stepclock.New(sat.Add(time.Hour))))
	require.NoError(t, err)
	_, page, _ := get(t, httptestServer(t, d)+"/")
	two, three := strings.Index(page, "pass-two"), strings.Index(page, "pass-three")
	require.GreaterOrEqual(t, two, 0)
	require.GreaterOrEqual(t, three, 0)
	assert.Less(t, three, two, "newest first")
	assert.NotContains(t, page, "pass-one", "only the newest two")
	assert.Contains(t, page, `<meta name="refresh-seconds" content="90">`)

	all, err := dashboard.New(dashboard.Config{RecentEvents: 3}, l)
	require.NoError(t, err)
	_, page, _ = get(t, httptestServer(t, all)+"/")
	assert.Contains(t, page, "pass-one", "exactly RecentEvents: all three")
}

// The CSRF secret's length at its bound; the approvals endpoint without a
// workflow; a chart's SVG address must end in .svg.
func TestDashboardEdges(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	_, err = dashboard.New(dashboard.Config{}, l, dashboard.WithCSRFSecret([]byte("0123456789abcde")))
	require.ErrorIs(t, err, provider.ErrInvalid, "15 bytes")
	_, err = dashboard.New(dashboard.Config{}, l, dashboard.WithCSRFSecret([]byte("0123456789abcdef")))
	require.NoError(t, err, "16 bytes")

	d, err := dashboard.New(dashboard.Config{}, l)
	require.NoError(t, err)
	srv := httptestServer(t, d)
	status, body, _ := get(t, srv+"/api/approvals")
	require.Equal(t, http.StatusOK, status)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Equal(t, false, got["enabled"])
	assert.Equal(t, false, got["can_decide"])
	status, _, _ = get(t, srv+"/charts/idle.svg")
	assert.Equal(t, http.StatusOK, status)
	status, _, _ = get(t, srv+"/charts/idle")
	assert.Equal(t, http.StatusNotFound, status, "no .svg")
	status, _, _ = get(t, srv+"/charts/nope.svg")
	assert.Equal(t, http.StatusNotFound, status)
	status, _, _ = get(t, srv+"/api/events?limit=0")
	assert.Equal(t, http.StatusOK, status, "limit 0: every event")
}

// The defaults: the newest 50 events, charts over the last 24 hours at a
// 96th of it.
func TestDashboardDefaults(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	for i := range 51 {
		require.NoError(t, l.Record(t.Context(), monitor.Event{Time: sat.Add(time.Duration(i) * time.Minute), Kind: monitor.KindRun,
			Source: monitor.SourceReaper, Outcome: monitor.OutcomeDone, Reason: "pass-" + string(rune('A'+i%26)) + string(rune('a'+i/26))}))
	}
	now := sat.Add(48 * time.Hour)
	d, err := dashboard.New(dashboard.Config{}, l, dashboard.WithClock(stepclock.New(now)))
	require.NoError(t, err)
	srv := httptestServer(t, d)
	_, page, _ := get(t, srv+"/")
	assert.NotContains(t, page, "pass-Aa", "the oldest of 51")
	assert.Contains(t, page, "pass-Ba")
	assert.Contains(t, page, "pass-Yb", "the newest")
	status, body, _ := get(t, srv+"/api/charts/savings")
	require.Equal(t, http.StatusOK, status)
	var js struct {
		Data struct {
			Labels []string `json:"labels"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &js))
	require.Len(t, js.Data.Labels, 97)
	assert.Equal(t, now.Add(-24*time.Hour).Format(time.RFC3339), js.Data.Labels[0])
	assert.Equal(t, now.Add(-24*time.Hour+15*time.Minute).Format(time.RFC3339), js.Data.Labels[1])
	assert.Equal(t, now.Format(time.RFC3339), js.Data.Labels[96])
}

// A decision's body may be exactly 4 KiB; a byte more is refused.
func TestDecideBodyLimit(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t, dashboard.WithAuthorizer(alice))
	tok := token(t, srv.URL)
	body := func(n int) string { // a JSON body of n bytes
		return `{"comment":"` + strings.Repeat("x", n-len(`{"comment":""}`)) + `"}`
	}
	require.Len(t, body(4096), 4096)
	status, _ := post(t, srv.URL+"/api/approvals/"+f.pending.ID+"/approve", tok, "", body(4097))
	assert.Equal(t, http.StatusBadRequest, status, "4097 bytes")
	status, resp := post(t, srv.URL+"/api/approvals/"+f.pending.ID+"/approve", tok, "", body(4096))
	assert.Equal(t, http.StatusOK, status, "4096 bytes: %s", resp)
}

// An authorizer that fails refuses with its own error; one that names
// nobody says so.
func TestDecideAuthorizerErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	down := dashboard.AuthorizerFunc(func(*http.Request) (string, error) { return "", errors.New("sso down") })
	_, srv := f.serve(t, dashboard.WithAuthorizer(down))
	status, body := post(t, srv.URL+"/api/approvals/"+f.pending.ID+"/approve", token(t, srv.URL), "", "")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "sso down")
	nobody := dashboard.AuthorizerFunc(func(*http.Request) (string, error) { return "", nil })
	_, srv = f.serve(t, dashboard.WithAuthorizer(nobody))
	status, body = post(t, srv.URL+"/api/approvals/"+f.pending.ID+"/approve", token(t, srv.URL), "", "")
	assert.Equal(t, http.StatusForbidden, status)
	assert.Contains(t, body, "no approver")
}

// Once a stop has left the log's newest events, the report still counts
// its realised savings from when it took effect (the log keeps changes
// apart), while its lists and counts cover the events in memory.
func TestReportKeepsOlderChanges(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{Capacity: 5})
	require.NoError(t, err)
	require.NoError(t, l.Record(t.Context(), monitor.Event{Time: sat, Kind: monitor.KindAction, Source: monitor.SourceReaper,
		ResourceID: "i-old", Action: "stop", Outcome: monitor.OutcomeDone, Cost: &monitor.CostChange{Before: 0.1}}))
	for i := range 10 {
		require.NoError(t, l.Record(t.Context(), monitor.Event{Time: sat.Add(time.Duration(i+1) * time.Hour), Kind: monitor.KindRun,
			Source: monitor.SourceReaper, Outcome: monitor.OutcomeDone}))
	}
	d, err := dashboard.New(dashboard.Config{}, l, dashboard.WithClock(stepclock.New(sat.Add(10*time.Hour))))
	require.NoError(t, err)
	status, body, _ := get(t, httptestServer(t, d)+"/api/report")
	require.Equal(t, http.StatusOK, status)
	var got struct {
		Report struct {
			From   time.Time `json:"from"`
			Totals struct {
				Done            int     `json:"done"`
				RealisedSavings float64 `json:"realised_savings"`
			} `json:"totals"`
		} `json:"report"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	rep := got.Report
	assert.InDelta(t, 1.0, rep.Totals.RealisedSavings, 1e-9, "10 h × $0.10 since the stop")
	assert.Zero(t, rep.Totals.Done, "the stop is older than the events in memory")
	assert.Equal(t, sat.Add(6*time.Hour), rep.From, "the oldest event in memory")

	// The page's recent events are the events in memory: the stop that
	// left them counts in the savings, and is not listed as recent.
	status, page, _ := get(t, httptestServer(t, d)+"/")
	require.Equal(t, http.StatusOK, status)
	_, recent, ok := strings.Cut(page, `<section id="events">`)
	require.True(t, ok)
	recent, _, _ = strings.Cut(recent, "</section>")
	assert.Equal(t, 5, strings.Count(recent, "<tr><td>"), "the five events in memory")
	assert.NotContains(t, recent, "i-old")
}

// An events source that fails is a source failure (502), as the package
// doc says, not the client's malformed parameter (400); a parameter the
// source refuses as invalid is still a 400.
func TestEventsEndpointSourceFailureIs502(t *testing.T) {
	t.Parallel()
	d, err := dashboard.New(dashboard.Config{}, failingEvents{})
	require.NoError(t, err)
	status, body, _ := get(t, httptestServer(t, d)+"/api/events?limit=3")
	assert.Equal(t, http.StatusBadGateway, status)
	assert.Contains(t, body, "log unreachable")

	refusing := dashboard.Events(eventsFunc(func(monitor.Query) ([]monitor.Event, error) {
		return nil, provider.Invalid("resource", "x", "is not known here")
	}))
	d, err = dashboard.New(dashboard.Config{}, refusing)
	require.NoError(t, err)
	status, body, _ = get(t, httptestServer(t, d)+"/api/events?resource=x")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, body, "resource")
}

type eventsFunc func(monitor.Query) ([]monitor.Event, error)

func (f eventsFunc) Query(q monitor.Query) ([]monitor.Event, error) { return f(q) }

// undrawable is a host's chart source whose chart host_load cannot be
// drawn: its threshold is not a number.
var undrawable = dashboard.ChartsFunc(func(context.Context, time.Time) ([]report.Chart, error) {
	return []report.Chart{{Name: "host_load", Title: "load", Type: report.ChartLine, Times: []time.Time{sat},
		Series: []report.Series{{Label: "load", Values: []float64{1}}}, Thresholds: []report.Threshold{{Label: "max", Value: math.NaN()}}}}, nil
})

// A host chart that cannot be drawn (a threshold or marker that is not a
// number) is reported by name, and the other charts are still drawn: one
// bad chart left the page with no chart at all.
func TestPageDrawsTheChartsABadOneLeaves(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	d, err := dashboard.New(dashboard.Config{}, l, dashboard.WithCharts(undrawable), dashboard.WithClock(stepclock.New(sat)))
	require.NoError(t, err)
	status, page, _ := get(t, httptestServer(t, d)+"/")
	require.Equal(t, http.StatusOK, status)
	for _, name := range []string{"idle", "safety", "savings", "cost"} {
		assert.Contains(t, page, `id="chart-`+name+`"`, "the dashboard's own chart %s is drawn", name)
	}
	assert.Contains(t, page, "<li>report: chart host_load: ", "the bad chart is named among the failures")
}

// The SVG of a chart that cannot be drawn is an error naming it (502, the
// host's chart source gave what cannot be drawn), not a 200 with an empty
// image.
func TestChartSVGThatCannotBeDrawnIsAnError(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	d, err := dashboard.New(dashboard.Config{}, l, dashboard.WithCharts(undrawable), dashboard.WithClock(stepclock.New(sat)))
	require.NoError(t, err)
	status, body, h := get(t, httptestServer(t, d)+"/charts/host_load.svg")
	assert.Equal(t, http.StatusBadGateway, status)
	assert.Equal(t, "application/json", h.Get("Content-Type"))
	assert.Contains(t, body, "host_load")
}

// A refresh under a second, which the page (reloading in whole seconds)
// cannot do, is refused naming it: it was taken and the page, told 0
// seconds, never reloaded. One second is the least.
func TestRefreshUnderASecondIsRefused(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	for _, r := range []time.Duration{time.Nanosecond, 500 * time.Millisecond, time.Second - 1} {
		_, err := dashboard.New(dashboard.Config{Refresh: r}, l)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%s", r)
		assert.Equal(t, "refresh", ie.Field)
	}
	d, err := dashboard.New(dashboard.Config{Refresh: time.Second}, l)
	require.NoError(t, err)
	_, page, _ := get(t, httptestServer(t, d)+"/")
	assert.Contains(t, page, `<meta name="refresh-seconds" content="1">`)
}

// A host chart missing because the host's chart source failed is that
// failure (502, saying why), not an unknown chart (404): a metrics outage
// read as a wrong address. The dashboard's own charts are still served.
func TestChartOfAFailedSourceIs502(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	down := dashboard.ChartsFunc(func(context.Context, time.Time) ([]report.Chart, error) {
		return nil, errors.New("metrics source down")
	})
	d, err := dashboard.New(dashboard.Config{}, l, dashboard.WithCharts(down), dashboard.WithClock(stepclock.New(sat)))
	require.NoError(t, err)
	srv := httptestServer(t, d)
	for _, p := range []string{"/api/charts/utilization", "/charts/utilization.svg"} {
		status, body, _ := get(t, srv+p)
		assert.Equal(t, http.StatusBadGateway, status, p)
		assert.Contains(t, body, "metrics source down", p)
	}
	for _, p := range []string{"/api/charts/idle", "/charts/idle.svg"} {
		status, _, _ := get(t, srv+p)
		assert.Equal(t, http.StatusOK, status, "the dashboard's own chart: %s", p)
	}
}

// A refresh longer than a browser's timer can wait (2^31−1 ms, about 24.8
// days) is refused naming it: the page's setTimeout fired at once for
// such a delay, so a page told to reload monthly reloaded without pause,
// each reload building the whole report. The longest whole-second delay
// a timer honours is taken.
func TestRefreshLongerThanABrowserTimerIsRefused(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	longest := (1<<31 - 1) / 1000 * time.Second
	for _, r := range []time.Duration{longest + time.Second, 30 * 24 * time.Hour, math.MaxInt64} {
		_, err := dashboard.New(dashboard.Config{Refresh: r}, l)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%s", r)
		assert.Equal(t, "refresh", ie.Field)
	}
	d, err := dashboard.New(dashboard.Config{Refresh: longest}, l)
	require.NoError(t, err)
	_, page, _ := get(t, httptestServer(t, d)+"/")
	assert.Contains(t, page, `<meta name="refresh-seconds" content="2147483">`)
}

// A parameter that takes one value, given twice, is a 400 naming it: the
// last one was used and the others silently ignored, so that
// resource=a&resource=b answered b's events alone. kind still takes
// several.
func TestEventsParameterGivenTwiceIs400(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	for _, id := range []string{"a", "b"} {
		require.NoError(t, l.Record(t.Context(), monitor.Event{Time: sat, Kind: monitor.KindRun, Source: monitor.SourceReaper, ResourceID: id}))
	}
	d, err := dashboard.New(dashboard.Config{}, l)
	require.NoError(t, err)
	srv := httptestServer(t, d)
	for _, q := range []string{"resource=a&resource=b", "limit=1&limit=2", "source=x&source=y", "after_seq=1&after_seq=0",
		"from=2026-03-07T00:00:00Z&from=2026-03-06T00:00:00Z"} {
		status, body, _ := get(t, srv+"/api/events?"+q)
		assert.Equal(t, http.StatusBadRequest, status, q)
		assert.Contains(t, body, "more than once", q)
	}
	status, _, _ := get(t, srv+"/api/events?kind=run&kind=verdict")
	assert.Equal(t, http.StatusOK, status)
}

// Of two bad parameters, the events endpoint names the first by name,
// every time: it read them from a map, and named one of the two at
// random.
func TestEventsNamesTheFirstBadParameter(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	d, err := dashboard.New(dashboard.Config{}, l)
	require.NoError(t, err)
	srv := httptestServer(t, d)
	for range 20 {
		status, body, _ := get(t, srv+"/api/events?to=never&limit=-1&after_seq=x")
		require.Equal(t, http.StatusBadRequest, status)
		require.Contains(t, body, "after_seq", "after_seq comes first by name: %s", body)
	}
}

// Events dated after the dashboard's clock (another replica's clock
// ahead, a host's simulated one) leave the report's period at the clock:
// report.Build refuses a From after Now, and the dashboard took its From
// from the oldest event in memory.
func TestReportOfEventsAfterTheClock(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	require.NoError(t, l.Record(t.Context(), monitor.Event{Time: sat.Add(time.Hour), Kind: monitor.KindRun,
		Source: monitor.SourceReaper, Outcome: monitor.OutcomeDone}))
	d, err := dashboard.New(dashboard.Config{}, l, dashboard.WithClock(stepclock.New(sat)))
	require.NoError(t, err)
	status, body, _ := get(t, httptestServer(t, d)+"/api/report")
	require.Equal(t, http.StatusOK, status, body)
	var got struct {
		Report struct {
			Now  time.Time `json:"now"`
			From time.Time `json:"from"`
		} `json:"report"`
		Errors []string `json:"errors"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	assert.Empty(t, got.Errors)
	assert.True(t, got.Report.From.Equal(sat), "from %s", got.Report.From)
	assert.True(t, got.Report.Now.Equal(sat), "now %s", got.Report.Now)
}

// pendingApprovals lists its requests as pending.
type pendingApprovals struct {
	dashboard.Approvals
	reqs []approval.Request
}

func (a pendingApprovals) List(context.Context, approval.Filter) ([]approval.Request, error) {
	return a.reqs, nil
}

// A pending resize or scale shows its target: an approval is bound to it
// (a changed target needs a new one), and a page that showed only
// "resize" or "scale_in" had a person approve a size or a capacity they
// never saw (the reaper's reason does not name the size its sizer chose).
func TestPageShowsWhatAnApprovalWouldChange(t *testing.T) {
	t.Parallel()
	l, err := monitor.NewLog(monitor.LogConfig{})
	require.NoError(t, err)
	resize := approval.Request{ID: "a-resize", State: approval.Pending, Requester: "reaper", Reason: "underused",
		Proposal: safety.Proposal{Action: safety.ActionResize, Resource: provider.Resource{ID: "i-db", Kind: provider.KindInstance},
			CurrentSize: provider.Size{InstanceType: "m5.4xlarge"}, TargetSize: provider.Size{InstanceType: "t3.nano"}}}
	fn := approval.Request{ID: "a-fn", State: approval.Pending, Requester: "reaper",
		Proposal: safety.Proposal{Action: safety.ActionResize, Resource: provider.Resource{ID: "fn-api", Kind: provider.KindFunction},
			TargetSize: provider.Size{MemoryMiB: 128, Timeout: 3 * time.Second}}}
	scale := approval.Request{ID: "a-scale", State: approval.Pending, Requester: "autoscaler",
		Proposal: safety.Proposal{Action: safety.ActionScaleIn, Resource: provider.Resource{ID: "asg-api", Kind: provider.KindGroup},
			Current: provider.CapacitySpec{Min: 2, Max: 12, Desired: 8}, Target: provider.CapacitySpec{Min: 0, Max: 12, Desired: 0}}}
	stop := approval.Request{ID: "a-stop", State: approval.Pending, Requester: "reaper",
		Proposal: safety.Proposal{Action: safety.ActionStop, Resource: provider.Resource{ID: "i-idle", Kind: provider.KindInstance}}}
	d, err := dashboard.New(dashboard.Config{}, l, dashboard.WithApprovals(pendingApprovals{reqs: []approval.Request{resize, fn, scale, stop}}))
	require.NoError(t, err)
	status, page, _ := get(t, httptestServer(t, d)+"/")
	require.Equal(t, http.StatusOK, status)
	row := func(id string) string {
		i := strings.Index(page, `<tr data-approval="`+id+`">`)
		require.GreaterOrEqual(t, i, 0, id)
		return page[i : i+strings.Index(page[i:], "</tr>")]
	}
	assert.Contains(t, row("a-resize"), "resize from m5.4xlarge to t3.nano")
	assert.Contains(t, row("a-fn"), "resize to 128 MiB, timeout 3s")
	assert.Contains(t, row("a-scale"), "scale_in from 8 (min 2, max 12) to 0 (min 0, max 12)")
	assert.Contains(t, row("a-stop"), "<td>stop</td>", "a stop changes nothing more")
}

package alert_test

import (
	"context"
	"encoding/json"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/stepclock"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
)

// endpoint is an httptest server that answers with the given statuses in
// turn (the last one repeats) and keeps the payloads it received.
type endpoint struct {
	mu       sync.Mutex
	statuses []int
	header   http.Header
	payloads []alert.Payload
	hang     bool
	// statusFor answers these alert IDs with their status instead.
	statusFor map[string]int
	*httptest.Server
}

func newEndpoint(t *testing.T, statuses ...int) *endpoint {
	t.Helper()
	e := &endpoint{statuses: statuses, header: http.Header{}}
	e.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.mu.Lock()
		hang := e.hang
		var p alert.Payload
		body, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(body, &p); err == nil {
			e.payloads = append(e.payloads, p)
		}
		e.header = r.Header.Clone()
		status := e.statuses[0]
		if len(e.statuses) > 1 {
			e.statuses = e.statuses[1:]
		}
		if s, ok := e.statusFor[p.Alert.ID]; ok {
			status = s
		}
		e.mu.Unlock()
		if hang {
			<-r.Context().Done() // until the client gives up
			return
		}
		if status == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "7")
		}
		w.WriteHeader(status)
	}))
	t.Cleanup(e.Close)
	return e
}

func (e *endpoint) attempts() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return len(e.payloads)
}

// postsByID counts the payloads received by alert ID.
func (e *endpoint) postsByID() map[string]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[string]int{}
	for _, p := range e.payloads {
		out[p.Alert.ID]++
	}
	return out
}

var firing = alert.Alert{ID: "safety_block/i-1", Rule: "safety_block", Severity: alert.SeverityWarning,
	State: alert.StateFiring, ResourceID: `i-1"<b>`, Summary: "blocked", Count: 1, StartsAt: t0, LastSeen: t0}

func TestWebhookRetriesWithBackoff(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, 500, 502, 200)
	clk := stepclock.New(t0)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL, Headers: map[string]string{"Authorization": "Bearer s3cret"}},
		alert.WithWebhookClock(clk))
	require.NoError(t, err)
	require.NoError(t, w.Notify(t.Context(), firing))
	assert.Equal(t, 3, ep.attempts())
	assert.Equal(t, []time.Duration{500 * time.Millisecond, time.Second}, clk.Waits(), "exponential backoff from 500ms")
	ep.mu.Lock()
	defer ep.mu.Unlock()
	assert.Equal(t, "application/json", ep.header.Get("Content-Type"))
	assert.Equal(t, "Bearer s3cret", ep.header.Get("Authorization"))
	p := ep.payloads[2]
	assert.Equal(t, "1", p.Version)
	assert.Equal(t, alert.StateFiring, p.Status)
	assert.Equal(t, firing, p.Alert, "the alert round-trips, resource name and all")
}

func TestWebhookGivesUp(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, 500)
	clk := stepclock.New(t0)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL, MaxAttempts: 3, Backoff: time.Second, MaxBackoff: 1500 * time.Millisecond},
		alert.WithWebhookClock(clk))
	require.NoError(t, err)
	err = w.Notify(t.Context(), firing)
	var se *alert.StatusError
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 500, se.Status)
	assert.True(t, se.Retryable)
	require.NotErrorIs(t, err, alert.ErrRejected)
	assert.Equal(t, 3, ep.attempts())
	assert.Equal(t, []time.Duration{time.Second, 1500 * time.Millisecond}, clk.Waits(), "capped by max_backoff")
}

func TestWebhookRejectedIsNotRetried(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, 400)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL}, alert.WithWebhookClock(stepclock.New(t0)))
	require.NoError(t, err)
	err = w.Notify(t.Context(), firing)
	require.ErrorIs(t, err, alert.ErrRejected)
	assert.Equal(t, 1, ep.attempts())
}

// An alert JSON cannot encode (a NaN value, from an event written to the
// Alerter directly: its Write does not validate) is refused for good, as
// a refusal, without a request: a retry would fail the same way, and kept
// pending it held back every later notification of the webhook.
func TestWebhookRefusesAnAlertItCannotEncode(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, 200)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL}, alert.WithWebhookClock(stepclock.New(t0)))
	require.NoError(t, err)
	bad := firing
	bad.Value = math.NaN()
	require.ErrorIs(t, w.Notify(t.Context(), bad), alert.ErrRejected)
	assert.Zero(t, ep.attempts())

	a, err := alert.New(alert.Config{}, alert.WithNotifier("hook", w))
	require.NoError(t, err)
	nan := event(monitor.KindFailure, "i-1", monitor.OutcomeFailed, 0)
	nan.Value = math.NaN()
	require.NoError(t, a.Write(t.Context(), []monitor.Event{nan, event(monitor.KindFailure, "i-2", monitor.OutcomeFailed, 0)}))
	require.ErrorIs(t, a.Deliver(t.Context()), alert.ErrRejected)
	assert.Equal(t, map[string]int{"pipeline_failure/i-2": 1}, ep.postsByID(), "the next notification is sent")
	st := a.Stats()[0]
	assert.Equal(t, 0, st.Pending)
	assert.Equal(t, 1, st.Rejected)
}

// Only a 2xx delivers; a 5xx, 408 and 429 are retried, any other status
// is refused at once.
func TestWebhookStatuses(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		status    int
		delivered bool
		retried   bool
	}{
		{200, true, false}, {204, true, false}, {299, true, false},
		{300, false, false}, {404, false, false}, {499, false, false},
		{408, false, true}, {429, false, true}, {500, false, true}, {503, false, true},
	} {
		ep := newEndpoint(t, tt.status)
		w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL, MaxAttempts: 2}, alert.WithWebhookClock(stepclock.New(t0)))
		require.NoError(t, err)
		err = w.Notify(t.Context(), firing)
		if tt.delivered {
			require.NoError(t, err, "%d", tt.status)
			assert.Equal(t, 1, ep.attempts(), "%d", tt.status)
			continue
		}
		var se *alert.StatusError
		require.ErrorAs(t, err, &se, "%d", tt.status)
		assert.Equal(t, tt.status, se.Status)
		assert.Equal(t, tt.retried, se.Retryable, "%d", tt.status)
		if tt.retried {
			assert.Equal(t, 2, ep.attempts(), "%d", tt.status)
			require.NotErrorIs(t, err, alert.ErrRejected, "%d", tt.status)
		} else {
			assert.Equal(t, 1, ep.attempts(), "%d", tt.status)
			require.ErrorIs(t, err, alert.ErrRejected, "%d", tt.status)
		}
	}
}

func TestWebhookRetryAfter(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, 429, 204)
	clk := stepclock.New(t0)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL}, alert.WithWebhookClock(clk))
	require.NoError(t, err)
	require.NoError(t, w.Notify(t.Context(), firing))
	assert.Equal(t, []time.Duration{7 * time.Second}, clk.Waits(), "the server's Retry-After")
}

// An endpoint that hangs: each attempt ends at the timeout, the attempts
// run out, and the error says the deadline passed.
func TestWebhookHangingEndpoint(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, 200)
	ep.mu.Lock()
	ep.hang = true
	ep.mu.Unlock()
	// A second per attempt: each attempt's request must reach the
	// server before it times out, and 50ms did not always on a loaded
	// machine with -race (one attempt counted of two).
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL, Timeout: time.Second, MaxAttempts: 2},
		alert.WithWebhookClock(stepclock.New(t0)))
	require.NoError(t, err)
	err = w.Notify(t.Context(), firing)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Equal(t, 2, ep.attempts())
}

// The same on fake time with an in-memory transport that hangs until the
// request's context ends: the attempts take exactly their timeouts and
// backoffs, and synctest.Test would fail if Notify left a goroutine
// behind.
func TestWebhookNoGoroutineLeftBehind(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		calls := 0
		hang := doerFunc(func(r *http.Request) (*http.Response, error) {
			calls++
			<-r.Context().Done()
			return nil, r.Context().Err()
		})
		w, err := alert.NewWebhook(alert.WebhookConfig{URL: "http://hooks.invalid/x", Timeout: 2 * time.Second, MaxAttempts: 3},
			alert.WithHTTPClient(hang))
		require.NoError(t, err)
		start := time.Now()
		err = w.Notify(t.Context(), firing)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, 3, calls)
		assert.Equal(t, 3*2*time.Second+500*time.Millisecond+time.Second, time.Since(start), "3 timeouts and 2 backoffs")

		// A context that ends during the backoff ends Notify at once.
		ctx, cancel := context.WithTimeout(t.Context(), 2100*time.Millisecond)
		defer cancel()
		start = time.Now()
		require.ErrorIs(t, w.Notify(ctx, firing), context.DeadlineExceeded)
		assert.Equal(t, 2100*time.Millisecond, time.Since(start))
	})
}

func TestWebhookConfig(t *testing.T) {
	t.Parallel()
	var ie *provider.InvalidError
	for _, c := range []struct {
		give  alert.WebhookConfig
		field string
	}{
		{alert.WebhookConfig{}, "url"},
		{alert.WebhookConfig{URL: "ftp://x/y"}, "url"},
		{alert.WebhookConfig{URL: "/relative"}, "url"},
		{alert.WebhookConfig{URL: "http://x", Timeout: -1}, "timeout"},
		{alert.WebhookConfig{URL: "http://x", MaxAttempts: -1}, "max_attempts"},
		{alert.WebhookConfig{URL: "http://x", Backoff: -1}, "backoff"},
		{alert.WebhookConfig{URL: "http://x", MaxBackoff: -1}, "max_backoff"},
	} {
		_, err := alert.NewWebhook(c.give)
		require.ErrorAs(t, err, &ie)
		assert.Equal(t, c.field, ie.Field)
	}
}

// The webhook as an Alerter's notifier: a 500 keeps the notification
// pending, the next Deliver sends it.
func TestWebhookWithAlerter(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, 500, 200)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL, MaxAttempts: 1})
	require.NoError(t, err)
	a, l := newAlerter(t, alert.Config{}, alert.WithNotifier("hook", w))
	require.NoError(t, l.Record(t.Context(), event("blocked", "i-1", "block", 0)))
	require.ErrorIs(t, a.Deliver(t.Context()), alert.ErrNotify)
	require.NoError(t, a.Deliver(t.Context()))
	assert.Equal(t, 2, ep.attempts())
	ep.mu.Lock()
	defer ep.mu.Unlock()
	assert.Equal(t, "safety_block/i-1", ep.payloads[1].Alert.ID)
}

type doerFunc func(r *http.Request) (*http.Response, error)

func (f doerFunc) Do(r *http.Request) (*http.Response, error) { return f(r) }

// A Webhook does not follow redirects: net/http would re-send the POST as
// a bodiless GET and count the new location's 200 as delivered. A 301 or
// 302 is a refusal (ErrRejected) naming the Location, with the default
// client and with a host's *http.Client alike (whose own policy is left
// as it was).
func TestWebhookRedirectIsRefusedNotFollowed(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var redirected []string // method and body of requests that followed the redirect
	mux := http.NewServeMux()
	mux.HandleFunc("/old", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/found", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new", http.StatusFound)
	})
	mux.HandleFunc("/new", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		redirected = append(redirected, r.Method+" "+string(b))
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	host := &http.Client{}
	for _, tt := range []struct {
		name, path string
		opts       []alert.WebhookOption
		status     int
	}{
		{"default client 301", "/old", nil, http.StatusMovedPermanently},
		{"default client 302", "/found", nil, http.StatusFound},
		{"host client 301", "/old", []alert.WebhookOption{alert.WithHTTPClient(host)}, http.StatusMovedPermanently},
	} {
		w, err := alert.NewWebhook(alert.WebhookConfig{URL: srv.URL + tt.path},
			append(tt.opts, alert.WithWebhookClock(stepclock.New(t0)))...)
		require.NoError(t, err)
		err = w.Notify(t.Context(), firing)
		require.ErrorIs(t, err, alert.ErrRejected, tt.name)
		var se *alert.StatusError
		require.ErrorAs(t, err, &se, tt.name)
		assert.Equal(t, tt.status, se.Status, tt.name)
		assert.Equal(t, "/new", se.Location, tt.name)
		assert.Contains(t, err.Error(), `redirect to "/new"`, tt.name)
	}
	mu.Lock()
	assert.Empty(t, redirected, "no request followed a redirect")
	mu.Unlock()
	assert.Nil(t, host.CheckRedirect, "the host's client is not changed")
}

// The backoff doubles up to MaxBackoff and stays there however many
// attempts are made: doubled without a bound it overflowed time.Duration
// after ~34 attempts and every later attempt was immediate.
func TestWebhookBackoffStaysCappedOverManyAttempts(t *testing.T) {
	t.Parallel()
	ep := newEndpoint(t, http.StatusServiceUnavailable)
	clk := stepclock.New(t0)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL, MaxAttempts: 40, MaxBackoff: time.Hour},
		alert.WithWebhookClock(clk))
	require.NoError(t, err)
	require.Error(t, w.Notify(t.Context(), firing))
	waits := clk.Waits()
	require.Len(t, waits, 39)
	assert.Equal(t, alert.DefaultBackoff, waits[0])
	for i := 1; i < len(waits); i++ {
		assert.Equal(t, min(2*waits[i-1], time.Hour), waits[i], "wait %d", i)
	}
	assert.Equal(t, time.Hour, waits[len(waits)-1])
}

// A webhook's network error names its URL; the hook's token (its path,
// as Slack's and Teams' are, its query, its userinfo) and the headers'
// values are masked, so that they reach neither the log nor Stats'
// LastError. The error still matches what it wraps.
func TestWebhookErrorMasksTheHooksSecrets(t *testing.T) {
	t.Parallel()
	const token = "T0001/B0002/Xq9sEcReTtOkEn"
	for _, u := range []string{
		"http://127.0.0.1:1/services/" + token,
		"http://127.0.0.1:1/hook?key=" + token,
		"http://bot:Xq9sEcReTtOkEn@127.0.0.1:1/",
	} {
		hook, err := alert.NewWebhook(alert.WebhookConfig{URL: u, MaxAttempts: 1,
			Headers: map[string]string{"X-Api-Key": "k3y-" + token}})
		require.NoError(t, err)
		err = hook.Notify(t.Context(), alert.Alert{ID: "x", State: alert.StateFiring})
		require.Error(t, err, u)
		assert.NotContains(t, err.Error(), token, u)
		assert.NotContains(t, err.Error(), "Xq9sEcReT", u)
		assert.Contains(t, err.Error(), "127.0.0.1:1", "the host stays: %s", u)
		var ue *url.Error
		assert.ErrorAs(t, err, &ue, "the chain is kept")
	}
}

// An invalid webhook URL is quoted with its userinfo, path and query
// masked: a config error is logged, and a hook's path is its token.
func TestInvalidWebhookURLIsQuotedMasked(t *testing.T) {
	t.Parallel()
	for _, u := range []string{
		"http://bot:T0001/B0002/Xq9sEcReT@hooks.example/",
		"ftp://hooks.example/services/T0001/B0002/Xq9sEcReT",
		"hooks.example/services/T0001/B0002/Xq9sEcReT?k=Xq9sEcReT",
	} {
		_, err := alert.NewWebhook(alert.WebhookConfig{URL: u})
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, u)
		assert.Equal(t, "url", inv.Field)
		assert.NotContains(t, err.Error(), "Xq9sEcReT", u)
	}
}

// A refused redirect's Location is masked like the hook's URL: a redirect
// to https keeps the path, which is the hook's token.
func TestRedirectLocationMasksTheHooksToken(t *testing.T) {
	t.Parallel()
	const token = "T0001/B0002/Xq9sEcReTtOkEn"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://hooks.example"+r.URL.Path, http.StatusMovedPermanently)
	}))
	defer srv.Close()
	hook, err := alert.NewWebhook(alert.WebhookConfig{URL: srv.URL + "/services/" + token})
	require.NoError(t, err)
	err = hook.Notify(t.Context(), alert.Alert{ID: "x", State: alert.StateFiring})
	require.ErrorIs(t, err, alert.ErrRejected)
	assert.NotContains(t, err.Error(), "Xq9sEcReT")
	assert.Contains(t, err.Error(), "hooks.example", "the target's host is named")
}

// A StatusError names the redirect it did not follow for every 3xx, from
// 300 to 399, and only the status for a 4xx or 5xx.
func TestStatusErrorTextRedirectRange(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]string{
		300: `alert: webhook answered 300, a redirect to "/new" (not followed: configure that URL)`,
		399: `alert: webhook answered 399, a redirect to "/new" (not followed: configure that URL)`,
		400: `alert: webhook answered 400`,
		503: `alert: webhook answered 503`,
	} {
		loc := ""
		if status < 400 {
			loc = "/new"
		}
		assert.Equal(t, want, (&alert.StatusError{Status: status, Location: loc}).Error(), "status %d", status)
	}
}

// An invalid webhook URL is quoted up to its host, the rest masked: the
// host tells which hook is meant; a path, even one right after the
// scheme or with no scheme at all, is masked.
func TestInvalidWebhookURLShowsItsHost(t *testing.T) {
	t.Parallel()
	for u, want := range map[string]string{
		"ftp://hooks.example/services/T0001/B0002/Xq9sEcReT": "ftp://hooks.example/xxxxx",
		"/services/T0001/B0002/Xq9sEcReT":                    "/xxxxx",
		"mailto:///Xq9sEcReT":                                "mailto:///xxxxx",
		"://hooks.example/Xq9sEcReT":                         "://hooks.example/xxxxx",
	} {
		_, err := alert.NewWebhook(alert.WebhookConfig{URL: u})
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv, u)
		assert.Equal(t, "url", inv.Field)
		assert.Equal(t, want, inv.Value, u)
		assert.NotContains(t, err.Error(), "Xq9sEcReT", u)
	}
}

// A StatusError carries the Location of every 3xx answer, 300 to 399, and
// of no other: a 400 that happens to send one is a plain refusal.
func TestWebhookLocationOnlyForRedirects(t *testing.T) {
	t.Parallel()
	for status, want := range map[int]string{300: "/new", 399: "/new", 400: "", 299: ""} {
		d := doerFunc(func(*http.Request) (*http.Response, error) {
			h := http.Header{}
			h.Set("Location", "/new")
			return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(http.NoBody)}, nil
		})
		w, err := alert.NewWebhook(alert.WebhookConfig{URL: "http://hooks.invalid/x", MaxAttempts: 1},
			alert.WithHTTPClient(d), alert.WithWebhookClock(stepclock.New(t0)))
		require.NoError(t, err)
		err = w.Notify(t.Context(), firing)
		if status == 299 {
			require.NoError(t, err, "a 2xx is delivered")
			continue
		}
		var se *alert.StatusError
		require.ErrorAs(t, err, &se, "status %d", status)
		assert.Equal(t, want, se.Location, "status %d", status)
	}
}

// A header that HTTP cannot carry (a name that is not a token, a value
// with a line break) is refused by the config, naming it and without
// quoting its value (a token): net/http refused every request carrying it,
// a failure the Webhook retried and the Alerter kept pending for ever. So
// is Content-Type, which the doc promises is always application/json: a
// header set there replaced it.
func TestWebhookConfigRefusesHeadersHTTPCannotCarry(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, value, field string
	}{
		{"X Token", "v", "headers"},
		{"", "v", "headers"},
		{"X-Token:", "v", "headers"},
		{"X-Token", "s3cret\r\nX-Injected: 1", `headers["X-Token"]`},
		{"X-Token", "s3cret\x00", `headers["X-Token"]`},
		{"X-Token", "s3cret\x7f", `headers["X-Token"]`},
		{"X-Token", "s3cret\x1f", `headers["X-Token"]`},
		{"content-type", "text/plain", "headers"},
	} {
		_, err := alert.NewWebhook(alert.WebhookConfig{URL: "https://hooks.example/x", Headers: map[string]string{tt.name: tt.value}})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%q: %q", tt.name, tt.value)
		assert.Equal(t, tt.field, ie.Field)
		assert.NotContains(t, err.Error(), "s3cret", "the value is not quoted")
	}
	_, err := alert.NewWebhook(alert.WebhookConfig{URL: "https://hooks.example/x",
		Headers: map[string]string{"X-Routing_Key.v2": "a b\tc ~!#"}})
	require.NoError(t, err, "a token name and a value with spaces and tabs are fine")
	// Every range's ends and the first and last of the other characters
	// a token allows (range ends made exclusive lived).
	for _, name := range []string{"a", "z", "A", "Z", "0", "9", "!", "~", "azAZ09!#$%&'*+-.^_`|~"} {
		_, err := alert.NewWebhook(alert.WebhookConfig{URL: "https://hooks.example/x", Headers: map[string]string{name: "v ~"}})
		require.NoError(t, err, "header name %q", name)
	}
}

// A Content-Type header set to JSON, the type the doc promises (as hosts
// copy it from their receiver's docs), is taken: the requests carry it
// as before. Validate refused every Content-Type, so a config that worked
// made NewWebhook fail, and the host's alerting with it; another type is
// still refused (TestWebhookConfigRefusesHeadersHTTPCannotCarry).
func TestWebhookConfigTakesAJSONContentType(t *testing.T) {
	t.Parallel()
	for _, h := range []map[string]string{
		{"Content-Type": "application/json"},
		{"content-type": "application/json; charset=utf-8"},
		{"CONTENT-TYPE": "Application/JSON"},
	} {
		ep := newEndpoint(t, 200)
		w, err := alert.NewWebhook(alert.WebhookConfig{URL: ep.URL, Headers: h})
		require.NoError(t, err, "%v", h)
		require.NoError(t, w.Notify(t.Context(), firing))
		ep.mu.Lock()
		ct := ep.header.Get("Content-Type")
		ep.mu.Unlock()
		mt, _, err := mime.ParseMediaType(ct)
		require.NoError(t, err)
		assert.Equal(t, "application/json", mt, "%v", h)
	}
	for _, v := range []string{"text/plain", "application/jsonx", "application/json;;", ""} {
		_, err := alert.NewWebhook(alert.WebhookConfig{URL: "https://hooks.example/x", Headers: map[string]string{"Content-Type": v}})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%q", v)
		assert.Equal(t, "headers", ie.Field)
	}
}

// A Webhook made without WithHTTPClient keeps its connections in a
// transport of its own: a part of the host that closes the default
// transport's idle connections (every httptest.Server.Close does) does
// not touch them, so it cannot cut a notification in flight, which the
// Webhook would then send again. Before, a parallel test's server
// teardown made the endpoint of TestRejectedNotificationIsDroppedNotRetried
// see one notification twice. Here the second notification reuses the
// first's connection although the default transport's idle connections
// were closed in between.
func TestWebhookKeepsItsConnectionsApart(t *testing.T) {
	t.Parallel()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: srv.URL})
	require.NoError(t, err)
	firing := alert.Alert{ID: "safety_block/i-1", State: alert.StateFiring}
	require.NoError(t, w.Notify(t.Context(), firing))
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
	require.NoError(t, w.Notify(t.Context(), firing))
	assert.Equal(t, int32(1), conns.Load(), "one connection, the webhook's own")
}

// A Retry-After too large for a time.Duration waits MaxBackoff, as any
// Retry-After longer than it does: its seconds overflowed, so a server
// asking for a very long wait was retried after the short backoff (a
// negative product) or after a fraction of a second (one that wrapped
// around to a small positive), or its Retry-After was ignored (past int64).
func TestWebhookHugeRetryAfterWaitsMaxBackoff(t *testing.T) {
	t.Parallel()
	for _, give := range []string{"9223372037", "18446744074", "99999999999999999999"} {
		assert.Equal(t, []time.Duration{time.Minute}, retryAfterWaits(t, give, time.Minute), "Retry-After %s", give)
	}
}

// The longest Retry-After a time.Duration holds, 9223372036 seconds, is
// waited as it is when MaxBackoff allows it: only one a second longer is
// out of range and waits the longest duration.
func TestWebhookLongestRetryAfterIsWaitedExactly(t *testing.T) {
	t.Parallel()
	for give, want := range map[string]time.Duration{
		"9223372036": 9223372036 * time.Second,
		"9223372037": math.MaxInt64,
	} {
		assert.Equal(t, []time.Duration{want}, retryAfterWaits(t, give, math.MaxInt64), "Retry-After %s", give)
	}
}

// retryAfterWaits notifies a webhook (Backoff 1s, MaxBackoff maxBackoff)
// whose server answers 503 with Retry-After give once, then 204, and
// returns the waits the webhook's clock saw.
func retryAfterWaits(t *testing.T, give string, maxBackoff time.Duration) []time.Duration {
	t.Helper()
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", give)
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	clk := stepclock.New(t0)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: srv.URL, Backoff: time.Second, MaxBackoff: maxBackoff},
		alert.WithWebhookClock(clk))
	require.NoError(t, err)
	require.NoError(t, w.Notify(t.Context(), firing))
	return clk.Waits()
}

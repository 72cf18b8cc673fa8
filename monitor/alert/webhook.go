package alert

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/provider"
)

// The WebhookConfig defaults.
const (
	DefaultWebhookTimeout = 5 * time.Second
	DefaultMaxAttempts    = 4
	DefaultBackoff        = 500 * time.Millisecond
	DefaultMaxBackoff     = 30 * time.Second
)

// WebhookConfig configures a Webhook, as a host loads it from JSON or YAML.
// URL is required; the zero value of every other field means its default.
type WebhookConfig struct {
	// URL is the endpoint notifications are POSTed to (http or https).
	// Required.
	URL string `json:"url" yaml:"url"`
	// Timeout bounds one attempt (connect, send, read the answer). Must be
	// ≥ 0. Default (0): 5s.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// MaxAttempts is how many times one notification is tried before
	// Notify fails (the Alerter then keeps it for its next Deliver). Must
	// be ≥ 0. Default (0): 4.
	MaxAttempts int `json:"max_attempts,omitempty" yaml:"max_attempts,omitempty"`
	// Backoff is the wait before the second attempt; it doubles for each
	// further attempt, up to MaxBackoff. A Retry-After answer (in seconds)
	// replaces it, within MaxBackoff. Must be ≥ 0. Default (0): 500ms.
	Backoff time.Duration `json:"backoff,omitempty" yaml:"backoff,omitempty"`
	// MaxBackoff caps the wait between attempts. Must be ≥ 0. Default (0):
	// 30s.
	MaxBackoff time.Duration `json:"max_backoff,omitempty" yaml:"max_backoff,omitempty"`
	// Headers are added to every request (an Authorization token, a
	// routing key). Names must be HTTP tokens and values free of control
	// characters other than tab. Content-Type is always application/json:
	// it may be set here only to that (with parameters, such as a
	// charset). Host, when set, must be a host with or without a port;
	// the request names it in place of the URL's host (a receiver behind
	// an ingress that routes by it).
	Headers map[string]string `json:"headers,omitempty" yaml:"headers,omitempty"`
}

// Validate returns a *provider.InvalidError naming the first wrong field:
// a URL that is not absolute http(s), a negative duration or count, or a
// header HTTP cannot carry, that sets Content-Type to another type than
// application/json or Host to something other than a host (its value is
// not quoted: it may be a token).
func (c WebhookConfig) Validate() error {
	u, err := url.Parse(c.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return provider.Invalid("url", shownURL(c.URL), "must be an absolute http or https URL")
	}
	switch {
	case c.Timeout < 0:
		return provider.Invalid("timeout", c.Timeout, "must be ≥ 0; 0 means the default 5s")
	case c.MaxAttempts < 0:
		return provider.Invalid("max_attempts", c.MaxAttempts, "must be ≥ 0; 0 means the default 4")
	case c.Backoff < 0:
		return provider.Invalid("backoff", c.Backoff, "must be ≥ 0; 0 means the default 500ms")
	case c.MaxBackoff < 0:
		return provider.Invalid("max_backoff", c.MaxBackoff, "must be ≥ 0; 0 means the default 30s")
	}
	names := make([]string, 0, len(c.Headers))
	for k := range c.Headers {
		names = append(names, k)
	}
	slices.Sort(names) // the first wrong one, every time
	for _, k := range names {
		switch {
		case !headerName(k):
			return provider.Invalid("headers", k, "a header's name must be an HTTP token (letters, digits and !#$%&'*+-.^_`|~)")
		case http.CanonicalHeaderKey(k) == "Content-Type" && !jsonType(c.Headers[k]):
			return provider.Invalid("headers", k, "is always application/json")
		case http.CanonicalHeaderKey(k) == "Host" && !hostValue(c.Headers[k]):
			return provider.Invalid("headers["+strconv.Quote(k)+"]", redact.Mask, "must be a host, with or without a port")
		case !headerValue(c.Headers[k]):
			return provider.Invalid("headers["+strconv.Quote(k)+"]", redact.Mask, "must have no control character but tab")
		}
	}
	return nil
}

// jsonType reports whether the Content-Type value s is application/json,
// the type the body always has.
func jsonType(s string) bool {
	mt, _, err := mime.ParseMediaType(s)
	return err == nil && mt == "application/json"
}

// headerName reports whether s is an HTTP token, as net/http requires of
// a header's name (RFC 9110, 5.6.2).
func headerName(s string) bool {
	if s == "" {
		return false
	}
	for i := range len(s) {
		switch b := s[i]; {
		case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9', strings.IndexByte("!#$%&'*+-.^_`|~", b) >= 0:
		default:
			return false
		}
	}
	return true
}

// hostValue reports whether s is a Host header net/http sends: a host,
// with or without a port, and nothing else.
func hostValue(s string) bool {
	u, err := url.Parse("http://" + s)
	return s != "" && err == nil && u.Host == s
}

// headerValue reports whether s is a header value net/http sends: no
// control character but tab.
func headerValue(s string) bool {
	for i := range len(s) {
		if b := s[i]; b < ' ' && b != '\t' || b == 0x7f {
			return false
		}
	}
	return true
}

// shownURL is s as an error may quote it: its userinfo, path and query
// masked (a hook's token), whether or not it parses.
func shownURL(s string) string {
	s = redact.URL(s)
	start := 0
	if i := strings.Index(s, "://"); i >= 0 {
		start = i + len("://")
	}
	if i := strings.IndexAny(s[start:], "/?#"); i >= 0 {
		s = s[:start+i] + "/" + redact.Mask
	}
	return s
}

func (c WebhookConfig) withDefaults() WebhookConfig {
	if c.Timeout == 0 {
		c.Timeout = DefaultWebhookTimeout
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.Backoff == 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	return c
}

// Doer sends HTTP requests: *http.Client implements it.
type Doer interface {
	Do(req *http.Request) (*http.Response, error)
}

var _ Doer = (*http.Client)(nil)

// WebhookOption wires a collaborator into a Webhook.
type WebhookOption func(*Webhook)

// WithHTTPClient sets the client requests go through. Default: a client
// like http.DefaultClient that does not follow redirects (each attempt is
// bounded by WebhookConfig.Timeout through its context). A nil d means the
// default.
//
// A Webhook never follows redirects: net/http re-sends a POST redirected by
// a 301, 302 or 303 as a GET without a body, so the endpoint's final 2xx
// would count as delivered while the payload never arrived. When d is an
// *http.Client, the Webhook uses a copy of it whose CheckRedirect returns
// http.ErrUseLastResponse (d itself is not changed); another Doer must not
// follow redirects itself. A 3xx answer is a refusal (ErrRejected, with a
// *StatusError naming the Location): configure the URL redirected to.
func WithHTTPClient(d Doer) WebhookOption { return func(w *Webhook) { w.client = d } }

// WithWebhookClock sets the clock the backoff waits on. Default: the real
// clock; nil means the default. NewWebhook refuses a nil pointer (a nil
// *clock.Mock).
func WithWebhookClock(c clock.Clock) WebhookOption { return func(w *Webhook) { w.clock = c } }

// ownTransport returns a clone of http.DefaultTransport (its proxy, dial
// and TLS settings) for a Webhook's own connections, or nil (the default
// transport itself) when the host replaced it with another RoundTripper.
// Another part of the process that closes the default transport's idle
// connections (httptest.Server.Close does) would otherwise break a
// notification in flight on one, which the Webhook then sends again: the
// endpoint would see it twice.
func ownTransport() http.RoundTripper {
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return nil
}

// Payload is the JSON body a Webhook POSTs: one alert per request.
//
//	{"version":"1","status":"firing","alert":{"id":"safety_block/i-1","rule":"safety_block",
//	 "severity":"warning","state":"firing","resource_id":"i-1","summary":"...","reason":"...",
//	 "count":1,"starts_at":"2026-03-02T10:00:00Z","last_seen":"2026-03-02T10:00:00Z"}}
type Payload struct {
	// Version is the payload's format version, "1".
	Version string `json:"version"`
	// Status is the alert's state, repeated for routers that look only at
	// the top level.
	Status State `json:"status"`
	// Alert is the alert as it was at the transition.
	Alert Alert `json:"alert"`
}

// Webhook is a Notifier that POSTs each notification as JSON (Payload) to
// a URL, bounding every attempt by a timeout and retrying network errors,
// 5xx, 408 and 429 answers with exponential backoff on its clock. Notify
// returns when the notification was accepted (2xx), refused (another
// status, a redirect included: ErrRejected, not retried; the Alerter
// drops it), the attempts ran out, or ctx ended; it follows no redirect
// (see WithHTTPClient). Its errors mask the URL's path, query and
// userinfo and the headers' values (a hook's token), so that they reach
// neither the log nor the Alerter's stats;
// it starts no goroutine and leaves no request behind. Without
// WithHTTPClient it keeps its connections in a transport of its own, a
// clone of http.DefaultTransport, so that a part of the host that closes
// the default transport's idle connections cannot cut a notification in
// flight (which would then be sent twice). A Webhook is safe
// for concurrent use. Make one with NewWebhook.
type Webhook struct {
	cfg    WebhookConfig
	client Doer
	clock  clock.Clock
	red    *redact.Redactor // masks the URL's token and the headers in errors
}

var _ Notifier = (*Webhook)(nil)

// NewWebhook returns a Webhook for cfg. It returns a
// *provider.InvalidError naming the field when cfg is invalid.
func NewWebhook(cfg WebhookConfig, opts ...WebhookOption) (*Webhook, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	w := &Webhook{cfg: cfg.withDefaults()}
	for _, o := range opts {
		o(w)
	}
	if check.Nil(w.client) {
		w.client = &http.Client{Transport: ownTransport(), CheckRedirect: noRedirect}
	} else if hc, ok := w.client.(*http.Client); ok {
		c := *hc // a copy: the host's client keeps its own policy
		c.CheckRedirect = noRedirect
		w.client = &c
	}
	switch {
	case w.clock == nil:
		w.clock = clock.Real{}
	case check.Nil(w.clock): // a nil *clock.Mock: not the default, and would panic
		return nil, provider.Invalid("clock", fmt.Sprintf("%T", w.clock), "must not be a nil pointer")
	}
	w.red = redact.New(webhookSecrets(cfg)...)
	return w, nil
}

// webhookSecrets are the parts of cfg a network error could print that
// may be a secret: the URL's path and query (a Slack or Teams hook's path
// is its token), its userinfo, and the headers' values.
func webhookSecrets(cfg WebhookConfig) []string {
	secrets := redact.URLSecrets(cfg.URL)
	if u, err := url.Parse(cfg.URL); err == nil {
		if u.Path != "" && u.Path != "/" {
			secrets = append(secrets, u.EscapedPath(), u.Path)
		}
		if u.RawQuery != "" {
			secrets = append(secrets, u.RawQuery)
		}
	}
	for _, v := range cfg.Headers {
		secrets = append(secrets, v)
	}
	return secrets
}

// noRedirect makes an http.Client return a redirect as the answer instead
// of following it (see WithHTTPClient).
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Notify POSTs a to the URL (see Webhook). Its error matches ErrRejected
// (with a *StatusError) for a refusal, and without one, nothing sent, for
// an alert JSON cannot encode (a NaN value); it wraps the last attempt's
// error (a *StatusError, a network error or context.DeadlineExceeded for
// an attempt that timed out) when the attempts ran out, and is ctx.Err()
// when ctx ended.
func (w *Webhook) Notify(ctx context.Context, a Alert) error {
	body, err := json.Marshal(Payload{Version: "1", Status: a.State, Alert: a})
	if err != nil {
		// A value JSON cannot carry (a NaN from an event written to the
		// Alerter directly): a retry would fail the same way.
		return fmt.Errorf("alert: webhook %s: encode: %w: %w", a.ID, ErrRejected, err)
	}
	wait := w.cfg.Backoff
	var last error
	for attempt := 1; ; attempt++ {
		retryAfter, err := w.attempt(ctx, body)
		if err == nil {
			return nil
		}
		last = err
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, ErrRejected) {
			return fmt.Errorf("alert: webhook %s: %w", a.ID, err)
		}
		if attempt >= w.cfg.MaxAttempts {
			return fmt.Errorf("alert: webhook %s: %d attempts: %w", a.ID, attempt, last)
		}
		d := min(wait, w.cfg.MaxBackoff)
		if retryAfter > 0 {
			d = min(retryAfter, w.cfg.MaxBackoff)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-w.clock.After(d):
		}
		// Double up to MaxBackoff, without overflowing: doubled without a
		// bound, wait turned negative after ~34 attempts and every later
		// attempt was immediate.
		if wait > w.cfg.MaxBackoff/2 {
			wait = w.cfg.MaxBackoff
		} else {
			wait *= 2
		}
	}
}

// attempt makes one request within the timeout. retryAfter is the
// server's Retry-After for 429 and 503 answers.
func (w *Webhook) attempt(ctx context.Context, body []byte) (retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("%w: %w", ErrRejected, w.red.Error(err)) // a retry would fail the same way
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "idlescale-alert/1")
	for k, v := range w.cfg.Headers {
		if http.CanonicalHeaderKey(k) == "Host" {
			req.Host = v // net/http sends Request.Host, never Header["Host"]
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := w.client.Do(req)
	if err != nil {
		// Its text names the URL: the hook's token is masked, so that it
		// reaches neither the log nor Stats' LastError.
		return 0, w.red.Error(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10)) // reuse the connection
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return 0, nil
	}
	retryable := resp.StatusCode >= 500 || resp.StatusCode == http.StatusRequestTimeout ||
		resp.StatusCode == http.StatusTooManyRequests
	retryAfter = parseRetryAfter(resp.Header.Get("Retry-After"))
	se := &StatusError{Status: resp.StatusCode, Retryable: retryable}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		// Not followed (see WithHTTPClient). A redirect to https keeps
		// the path, which may be the hook's token: masked as the URL's.
		se.Location = w.red.String(resp.Header.Get("Location"))
	}
	return retryAfter, se
}

// parseRetryAfter returns a Retry-After value in seconds as a duration: 0
// for none or one that is not a positive number of seconds, and the
// longest duration for one too large for a time.Duration (Notify caps it
// at MaxBackoff), which time.Duration(s)*time.Second would overflow.
func parseRetryAfter(v string) time.Duration {
	s, err := strconv.ParseUint(v, 10, 64)
	switch {
	case errors.Is(err, strconv.ErrRange), err == nil && s > uint64(math.MaxInt64/int64(time.Second)):
		return math.MaxInt64
	case err != nil || s == 0:
		return 0
	}
	return time.Duration(s) * time.Second
}

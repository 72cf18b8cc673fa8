package dashboard

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/monitor/report"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// snapshot is what the page and the JSON endpoints show at one now.
type snapshot struct {
	now       time.Time
	events    []monitor.Event // recent, with the older changes before them
	recent    []monitor.Event // the events in memory: the page's table
	resources []provider.Resource
	report    report.Report
	pending   []approval.Request
	errs      []string
}

// snap reads every source; a source that fails is reported in errs and
// the rest is still shown.
func (d *Dashboard) snap(ctx context.Context, withApprovals bool) snapshot {
	s := snapshot{now: d.clock.Now()}
	var err error
	if s.events, err = d.events.Query(monitor.Query{}); err != nil {
		s.errs = append(s.errs, "events: "+err.Error())
	}
	s.recent = s.events
	var from time.Time // the report's period: the events in memory
	if c, ok := d.events.(monitor.ChangeSource); ok && len(s.events) > 0 {
		// The changes older than the events in memory: realised savings
		// and capacity count from when they took effect.
		if s.events, from, err = monitor.WithChanges(c, s.events); err != nil {
			s.errs = append(s.errs, "changes: "+err.Error())
		}
		// Events dated after the clock (a replica's clock ahead): the
		// report's period ends at the clock, and they fall outside it.
		if from.After(s.now) {
			from = s.now
		}
	}
	if d.inv != nil {
		if s.resources, err = d.inv.List(ctx, provider.Filter{}); err != nil {
			s.errs = append(s.errs, "inventory: "+err.Error())
		}
	}
	var alerts []alert.Alert
	if d.alerts != nil {
		alerts = d.alerts.Alerts()
	}
	s.report, err = report.Build(report.Input{Title: d.cfg.Title, Now: s.now, From: from, Events: s.events,
		Resources: s.resources, Alerts: alerts})
	if err != nil {
		s.errs = append(s.errs, "report: "+err.Error())
	}
	if withApprovals && d.approvals != nil {
		if s.pending, err = d.approvals.List(ctx, approval.Filter{State: approval.Pending}); err != nil {
			s.errs = append(s.errs, "approvals: "+err.Error())
		}
	}
	return s
}

// chartsOf returns the host's charts, then the dashboard's.
func (d *Dashboard) chartsOf(ctx context.Context, s snapshot) ([]report.Chart, []string) {
	var out []report.Chart
	var errs []string
	if d.charts != nil {
		cs, err := d.charts.Charts(ctx, s.now)
		if err != nil {
			errs = append(errs, "charts: "+err.Error())
		}
		out = append(out, cs...)
	}
	from := s.now.Add(-d.cfg.ChartWindow)
	step := max(time.Minute, d.cfg.ChartWindow/96)
	out = append(out, report.IdleChart(s.report), report.SafetyChart(s.events),
		report.SavingsChart(s.events, s.resources, from, s.now, step),
		report.CostChart(s.events, s.resources, from, s.now, step))
	return out, errs
}

type pageData struct {
	Title     string
	Now       time.Time
	Report    report.Report
	Charts    []report.RenderedChart
	Pending   []approval.Request
	Approvals bool
	CanDecide bool
	Token     string
	Events    []monitor.Event
	Errors    []string
	Refresh   int
}

func (d *Dashboard) servePage(w http.ResponseWriter, r *http.Request) {
	s := d.snap(r.Context(), true)
	charts, errs := d.chartsOf(r.Context(), s)
	// One at a time: a chart that cannot be drawn (a host's with a NaN
	// threshold) is reported, and the others are still drawn.
	rendered := make([]report.RenderedChart, 0, len(charts))
	for _, c := range charts {
		r, err := report.Render(c)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		rendered = append(rendered, r...)
	}
	evs := s.recent
	if len(evs) > d.cfg.RecentEvents {
		evs = evs[len(evs)-d.cfg.RecentEvents:]
	}
	evs = slices.Clone(evs)
	slices.Reverse(evs)
	data := pageData{Title: d.cfg.Title, Now: s.now, Report: s.report, Charts: rendered, Pending: s.pending,
		Approvals: d.approvals != nil, CanDecide: d.auth != nil, Token: d.token, Events: evs,
		Errors: append(s.errs, errs...), Refresh: int(d.cfg.Refresh / time.Second)}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if err := d.page.Execute(w, data); err != nil {
		d.log.WarnContext(r.Context(), "dashboard: page", "err", err)
	}
}

// change says what a pending request's proposal would change beyond its
// action, as the page shows it: the size a resize goes from and to, the
// capacity a scale action goes from and to. An approval is bound to that
// target, so whoever approves must see it. Empty for other actions.
func change(p safety.Proposal) string {
	switch p.Action {
	case safety.ActionResize:
		to := "to " + p.TargetSize.String()
		if p.CurrentSize.IsZero() {
			return to
		}
		return "from " + p.CurrentSize.String() + " " + to
	case safety.ActionScaleIn, safety.ActionScaleOut:
		return "from " + capacityText(p.Current) + " to " + capacityText(p.Target)
	}
	return ""
}

// capacityText is c as "8 (min 2, max 12)".
func capacityText(c provider.CapacitySpec) string {
	return fmt.Sprintf("%d (min %d, max %d)", c.Desired, c.Min, c.Max)
}

// singleValued are the events endpoint's parameters that take one value
// (kind takes several).
var singleValued = []string{"resource", "source", "from", "to", "after_seq", "limit"}

// parseQuery reads the events endpoint's parameters, refusing unknown and
// malformed ones, and one that takes a single value given more than once,
// with a *provider.InvalidError naming the parameter.
func parseQuery(v url.Values) (monitor.Query, error) {
	var q monitor.Query
	// In name order, so that of two bad parameters the same one is named
	// every time.
	for _, name := range slices.Sorted(maps.Keys(v)) {
		vals := v[name]
		if len(vals) > 1 && slices.Contains(singleValued, name) {
			return q, provider.Invalid(name, strings.Join(vals, ","), "is given more than once; it takes one value")
		}
		val := vals[len(vals)-1]
		var err error
		switch name {
		case "resource":
			q.ResourceID = val
		case "source":
			q.Source = val
		case "kind":
			for _, x := range vals {
				for k := range strings.SplitSeq(x, ",") {
					kind := monitor.Kind(k)
					if verr := kind.Validate(); verr != nil {
						return q, provider.Invalid("kind", k, "is not an event kind")
					}
					q.Kinds = append(q.Kinds, kind)
				}
			}
		case "from", "to":
			t, err := parseTime(val)
			if err != nil {
				return q, provider.Invalid(name, val, "must be an RFC 3339 time")
			}
			if name == "from" {
				q.From = t
			} else {
				if t.IsZero() {
					// Before the first instant a time holds: nothing,
					// where the query reads a zero To as no bound.
					return q, provider.Invalid(name, val, "must be after 0001-01-01T00:00:00Z (leave it out for no bound)")
				}
				q.To = t
			}
		case "after_seq":
			if q.AfterSeq, err = strconv.ParseUint(val, 10, 64); err != nil {
				return q, provider.Invalid(name, val, numberFault(val, err, strconv.FormatUint(math.MaxUint64, 10)))
			}
		case "limit":
			if q.Limit, err = strconv.Atoi(val); err != nil || q.Limit < 0 {
				return q, provider.Invalid(name, val, numberFault(val, err, strconv.Itoa(math.MaxInt)))
			}
		default:
			return q, provider.Invalid(name, val, "is not a parameter of /api/events (resource, kind, source, from, to, after_seq, limit)")
		}
	}
	return q, q.Validate()
}

// numberFault says what is wrong with the number parameter val, which
// strconv refused with err (nil: a negative one): too large (a whole
// number beyond largest), or not a whole number ≥ 0.
func numberFault(val string, err error, largest string) string {
	if errors.Is(err, strconv.ErrRange) && !strings.HasPrefix(val, "-") {
		return "is too large: at most " + largest
	}
	return "must be a whole number ≥ 0"
}

// parseTime reads an RFC 3339 time from a query parameter. A query string
// reads "+" as a space, so a positive zone offset typed as it is
// ("…T04:00:00+01:00") arrives as "…T04:00:00 01:00": it is read as the
// "+" it was.
func parseTime(val string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, val)
	if err != nil && strings.Count(val, " ") == 1 {
		if t2, err2 := time.Parse(time.RFC3339, strings.Replace(val, " ", "+", 1)); err2 == nil {
			return t2, nil
		}
	}
	return t, err
}

// queryValues parses a raw query string as url.ParseQuery does, but
// returns a *provider.InvalidError naming the parameter of a pair it
// cannot read (a malformed escape, a ";"), where r.URL.Query drops the
// pair without a word, and the events would be filtered without it.
func queryValues(raw string) (url.Values, error) {
	v := url.Values{}
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		if pair == "" {
			continue
		}
		rawKey, rawVal, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(rawKey)
		if err != nil {
			return nil, provider.Invalid(rawKey, rawVal, "is not a well-formed query parameter: "+err.Error())
		}
		if strings.Contains(pair, ";") {
			return nil, provider.Invalid(key, rawVal, `has a ";", which does not separate parameters: use "&" (or %3B in a value)`)
		}
		val, err := url.QueryUnescape(rawVal)
		if err != nil {
			return nil, provider.Invalid(key, rawVal, "is not a well-formed query value: "+err.Error())
		}
		v[key] = append(v[key], val)
	}
	return v, nil
}

func (d *Dashboard) serveEvents(w http.ResponseWriter, r *http.Request) {
	v, err := queryValues(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	q, err := parseQuery(v)
	if err != nil {
		writeError(w, http.StatusBadRequest, err)
		return
	}
	evs, err := d.events.Query(q)
	switch {
	case errors.Is(err, provider.ErrInvalid):
		writeError(w, http.StatusBadRequest, err)
		return
	case err != nil:
		writeError(w, http.StatusBadGateway, fmt.Errorf("events: %w", err))
		return
	}
	if evs == nil {
		evs = []monitor.Event{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"events": evs})
}

func (d *Dashboard) serveReport(w http.ResponseWriter, r *http.Request) {
	s := d.snap(r.Context(), false)
	writeJSON(w, statusOf(s.errs), map[string]any{"report": s.report, "errors": orEmpty(s.errs)})
}

func (d *Dashboard) serveIdle(w http.ResponseWriter, r *http.Request) {
	s := d.snap(r.Context(), false)
	writeJSON(w, statusOf(s.errs), map[string]any{"idle": s.report.Idle, "errors": orEmpty(s.errs)})
}

func (d *Dashboard) serveAlerts(w http.ResponseWriter, _ *http.Request) {
	alerts := []alert.Alert{}
	if d.alerts != nil {
		alerts = append(alerts, d.alerts.Alerts()...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": alerts})
}

func (d *Dashboard) serveApprovals(w http.ResponseWriter, r *http.Request) {
	pending := []approval.Request{}
	if d.approvals != nil {
		got, err := d.approvals.List(r.Context(), approval.Filter{State: approval.Pending})
		if err != nil {
			writeError(w, http.StatusBadGateway, fmt.Errorf("approvals: %w", err))
			return
		}
		pending = append(pending, got...)
	}
	writeJSON(w, http.StatusOK, map[string]any{"enabled": d.approvals != nil, "can_decide": d.auth != nil, "pending": pending})
}

// chart finds the chart called name.
func (d *Dashboard) chart(r *http.Request, name string) (report.Chart, []string, bool) {
	s := d.snap(r.Context(), false)
	charts, errs := d.chartsOf(r.Context(), s)
	for _, c := range charts {
		if c.Name == name {
			return c, errs, true
		}
	}
	return report.Chart{}, errs, false
}

// chartsError is the answer for a chart not found while the host's chart
// source failed: it may be one of the host's.
func chartsError(name string, errs []string) error {
	return fmt.Errorf("chart %q not found; a chart source failed: %s", name, strings.Join(errs, "; "))
}

func (d *Dashboard) serveChartNames(w http.ResponseWriter, r *http.Request) {
	s := d.snap(r.Context(), false)
	charts, errs := d.chartsOf(r.Context(), s)
	names := make([]string, len(charts))
	for i, c := range charts {
		names[i] = c.Name
	}
	writeJSON(w, statusOf(errs), map[string]any{"charts": names, "errors": orEmpty(errs)})
}

func (d *Dashboard) serveChartJS(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	c, errs, ok := d.chart(r, name)
	switch {
	case !ok && len(errs) > 0:
		writeError(w, http.StatusBadGateway, chartsError(name, errs))
		return
	case !ok:
		writeError(w, http.StatusNotFound, provider.Invalid("name", name, "is not a chart of this dashboard"))
		return
	}
	writeJSON(w, http.StatusOK, c.ChartJS())
}

func (d *Dashboard) serveChartSVG(w http.ResponseWriter, r *http.Request) {
	file := r.PathValue("file")
	name, ok := strings.CutSuffix(file, ".svg")
	c, errs, found := d.chart(r, name)
	switch {
	case ok && !found && len(errs) > 0:
		writeError(w, http.StatusBadGateway, chartsError(name, errs))
		return
	case !ok || !found:
		writeError(w, http.StatusNotFound, provider.Invalid("name", file, "is not a chart of this dashboard (name.svg)"))
		return
	}
	svg, err := c.SVGString()
	if err != nil {
		// Drawn before anything is written: the answer says why, rather
		// than a 200 with an empty image.
		writeError(w, http.StatusBadGateway, err)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	_, _ = io.WriteString(w, svg)
}

// maxBody bounds the body of an approve or deny request.
const maxBody = 4 << 10

func (d *Dashboard) serveDecide(w http.ResponseWriter, r *http.Request) {
	if d.auth == nil {
		writeError(w, http.StatusForbidden, ErrReadOnly)
		return
	}
	got := r.Header.Get("X-CSRF-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(d.token)) != 1 {
		writeError(w, http.StatusForbidden, fmt.Errorf("%w: missing or wrong CSRF token", ErrForbidden))
		return
	}
	approver, err := d.auth.Authorize(r)
	if err != nil || approver == "" {
		writeError(w, http.StatusForbidden, fmt.Errorf("%w: %w", ErrForbidden, errors.Join(err, errIf(approver == "", "no approver"))))
		return
	}
	verb, id := r.PathValue("verb"), r.PathValue("id")
	if verb != "approve" && verb != "deny" {
		writeError(w, http.StatusNotFound, provider.Invalid("verb", verb, "must be approve or deny"))
		return
	}
	var body struct {
		Comment string `json:"comment"`
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case err != nil:
		writeError(w, http.StatusBadRequest, err)
		return
	case len(data) > maxBody:
		writeError(w, http.StatusBadRequest, provider.Invalid("body", len(data), "must be at most 4 KiB"))
		return
	case len(strings.TrimSpace(string(data))) > 0:
		if err := json.Unmarshal(data, &body); err != nil {
			writeError(w, http.StatusBadRequest, provider.Invalid("body", string(data), "must be JSON {\"comment\": \"...\"}"))
			return
		}
	}
	now := d.clock.Now()
	var req approval.Request
	if verb == "approve" {
		req, err = d.approvals.Approve(r.Context(), id, approver, now, body.Comment)
	} else {
		req, err = d.approvals.Deny(r.Context(), id, approver, now, body.Comment)
	}
	switch {
	case err == nil:
		d.log.InfoContext(r.Context(), "dashboard: approval decided", "id", id, "verb", verb, "approver", approver)
		writeJSON(w, http.StatusOK, map[string]any{"request": req})
	case errors.Is(err, approval.ErrUnknown):
		writeError(w, http.StatusNotFound, err)
	case errors.Is(err, approval.ErrSelfApproval):
		writeError(w, http.StatusForbidden, err)
	case errors.Is(err, approval.ErrTransition):
		writeError(w, http.StatusConflict, err)
	case errors.Is(err, provider.ErrInvalid):
		writeError(w, http.StatusBadRequest, err)
	default:
		writeError(w, http.StatusBadGateway, err)
	}
}

func errIf(cond bool, msg string) error {
	if cond {
		return errors.New(msg)
	}
	return nil
}

func statusOf(errs []string) int {
	if len(errs) > 0 {
		return http.StatusBadGateway
	}
	return http.StatusOK
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeJSON answers v with status. v is encoded before anything is
// written: a value JSON cannot carry (a NaN or infinite number a source
// gave: an alert's value) is answered 502 with the
// encoding's error, not a status whose body stops short.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusBadGateway
		body, _ = json.Marshal(map[string]string{"error": "encode: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(body, '\n'))
}

func writeError(w http.ResponseWriter, status int, err error) {
	writeJSON(w, status, map[string]string{"error": err.Error()})
}

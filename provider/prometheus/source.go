package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// Source reads resources, metrics and activity from one Prometheus server.
// It implements provider.Inventory, provider.MetricsSource,
// provider.ActivitySource and provider.Namer. It is safe for concurrent
// use; between calls it keeps only its configuration and, once learned,
// the server's range semantics (Config.Ranges). Each call reads the
// targets anew, so a target that appears or goes away is seen at once.
//
// No error it returns, line it logs or Warning it passes on shows a
// credential: the password (or token user name) of Config.Address, in any
// form, and whatever looks like one (an authorization header, a bearer
// token, a URL's userinfo) that a server or proxy echoed are masked. The
// causes in an error's chain (reached with errors.As) keep their own
// messages.
type Source struct {
	c         *compiled
	client    api.Client // for the build information, whose application v1.API does not decode
	api       v1.API
	log       *slog.Logger
	red       *redact.Redactor // masks the address's credentials and what looks like one
	onWarning func(Warning)

	mu     sync.Mutex
	ranges Ranges // RangesAuto until detected
}

var (
	_ provider.Inventory      = (*Source)(nil)
	_ provider.MetricsSource  = (*Source)(nil)
	_ provider.ActivitySource = (*Source)(nil)
	_ provider.Namer          = (*Source)(nil)
)

// Name is the value of Resource.Provider for resources of this driver.
const Name = "prometheus"

// New validates cfg (see Config.Validate) and returns a Source. It makes no
// network call and starts no goroutine; use Check to test the templates
// against the server.
func New(cfg Config, opts ...Option) (_ *Source, err error) {
	red := redact.New(redact.URLSecrets(cfg.Address)...)
	defer red.Errorp(&err)
	c, err := cfg.compile()
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", err)
	}
	o := options{rt: http.DefaultTransport}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	if o.rt == nil {
		o.rt = http.DefaultTransport
	}
	hc := &http.Client{Transport: statusTransport{base: o.rt, limit: c.cfg.MaxAnswerBytes}, CheckRedirect: checkRedirect}
	client, err := api.NewClient(api.Config{Address: c.cfg.Address, Client: hc})
	if err != nil {
		return nil, fmt.Errorf("prometheus: %w", provider.Invalid("config.address", redact.URL(cfg.Address), "is not a usable URL"))
	}
	return &Source{
		c: c, client: client, api: v1.NewAPI(client), red: red, log: slog.New(red.Handler(o.logger.Handler())),
		onWarning: o.onWarning, ranges: c.cfg.Ranges,
	}, nil
}

// Name returns "prometheus".
func (s *Source) Name() string { return Name }

// QueryMetric reads q.Metric of q.ResourceID on the grid of q (see
// provider.MetricsSource). The metric's template is rendered for the
// resource and reduced within each step by q.Statistic with the matching
// *_over_time function: mean avg_over_time, max max_over_time, min
// min_over_time, sum sum_over_time, count count_over_time, last
// last_over_time and pNN quantile_over_time(NN/100). A template that
// renders to a bare selector is reduced over its raw samples; any other
// expression over a subquery sampled every Config.Resolution (at most the
// step). Each step [t, t+Step) is evaluated at t+Step−1ms over a range of
// Step−1ms (Prometheus 2.x, whose ranges include their start) or Step
// (3.x, whose ranges exclude it; see Config.Ranges), so it holds exactly
// the samples of the step; times are used at millisecond precision. Range
// queries are asked at multiples of the step, each window moved back
// onto its step with an offset (`max_over_time(x[299999ms] offset 1ms)`),
// so that a query frontend that aligns queries with their step (Thanos'
// does by default, VictoriaMetrics for 50 points or more) answers the
// steps asked, and a results cache that keeps only aligned queries
// (Mimir's) keeps them. A call makes one instant query to find the
// resource (see List), one range query per Config.MaxPoints steps and,
// with RangesAuto, one build-information request on the first call (and
// on each later one while the server answers it with an error: set
// Config.Ranges to need none). Queries of more than Config.MaxPoints
// steps are split into several range queries. When q.End cuts the last step, that step reduces
// only the samples before q.End, like provider.Resample, with one more
// instant query.
//
// Steps without samples, including after a series went stale, are gaps;
// a non-finite value (a division by zero in a template) is a gap too and
// is reported to the warning function (one warning for each query's
// answer, counting them). Errors: an invalid query or a step
// that is not a whole number of milliseconds ≥ 2ms matches
// provider.ErrInvalid; a metric without a template
// provider.ErrUnsupported; a resource the targets query does not list
// provider.ErrNotFound; a template that returns several series
// ErrSeveralSeries (also when the range queries of a split read, or the
// cut last step's query, answer different label sets, as one range query
// over the window would answer both); an answer with points off the steps' grid, or of
// native histograms instead of numbers, ErrBadResult; server errors as
// documented on QueryError.
func (s *Source) QueryMetric(ctx context.Context, q provider.Query) (_ provider.Series, err error) {
	defer s.red.Errorp(&err)
	if err := q.Validate(); err != nil {
		return provider.Series{}, fmt.Errorf("prometheus: %w", err)
	}
	if q.Step < 2*time.Millisecond || q.Step%time.Millisecond != 0 {
		return provider.Series{}, fmt.Errorf("prometheus: %w", provider.Invalid("query.step", q.Step, "must be a whole number of milliseconds ≥ 2ms"))
	}
	t, ok := s.c.metrics[q.Metric]
	if !ok {
		return provider.Series{}, fmt.Errorf("prometheus: metric %s: no template configured: %w", q.Metric, provider.ErrUnsupported)
	}
	target, err := s.target(ctx, q.ResourceID)
	if err != nil {
		return provider.Series{}, err
	}
	expr, err := t.render(newData(s.c.cfg.IDLabel, q.ResourceID, s.c.cfg.RateWindow, target.labels))
	if err != nil {
		return provider.Series{}, fmt.Errorf("prometheus: metric %s: template: %w", q.Metric, err)
	}
	shorten, err := s.shorten(ctx)
	if err != nil {
		return provider.Series{}, err
	}
	res := min(s.c.cfg.Resolution, q.Step)
	reduce := func(offset time.Duration) string { return reduceExpr(expr, q.Statistic, q.Step-shorten, offset, res) }
	n := q.Steps()
	out := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step, Values: make([]float64, n)}
	for i := range out.Values {
		out.Values[i] = provider.Gap
	}
	full := int(q.End.Sub(q.Start) / q.Step)
	// series is the label set of the first query that answered one: the
	// others must answer the same, as one range query over the whole
	// window answers two series (ErrSeveralSeries) where its label set
	// changes.
	var series model.Metric
	same := func(promql string, m model.Metric) error {
		switch {
		case m == nil:
		case series == nil:
			series = m
		case !series.Equal(m):
			return &SeriesError{Query: promql, Series: []string{series.String(), m.String()}}
		}
		return nil
	}
	for lo := 0; lo < full; lo += s.c.cfg.MaxPoints {
		hi := min(full, lo+s.c.cfg.MaxPoints)
		promql, m, err := s.fill(ctx, reduce, q, lo, hi, out.Values)
		if err != nil {
			return provider.Series{}, err
		}
		if err := same(promql, m); err != nil {
			return provider.Series{}, err
		}
	}
	if full < n {
		// The last step is cut by q.End: reduce only [its start, End).
		// Like every step, it is evaluated at its last millisecond over a
		// window that reaches back to its start, which is 1ms longer on a
		// server whose ranges exclude their start.
		from := q.Start.Add(time.Duration(full) * q.Step)
		span := ceilMillis(q.End.Sub(from))
		w, at := span-shorten, from.Add(span-time.Millisecond)
		if w < time.Millisecond { // End cuts the last step to 1ms, on a server whose ranges include their start: no window of 1ms leaves End out
			w, at = time.Millisecond, from.Add(time.Millisecond)
		}
		promql := reduceExpr(expr, q.Statistic, w, 0, res)
		v, m, err := s.point(ctx, promql, at)
		if err != nil {
			return provider.Series{}, err
		}
		if err := same(promql, m); err != nil {
			return provider.Series{}, err
		}
		out.Values[full] = v
	}
	return out, nil
}

// shorten returns how much shorter than the span it must cover a window
// is: 1ms on servers whose ranges include their start (a window [t−r, t]
// evaluated at the step's end − 1ms must not reach the previous step's last
// millisecond), 0 on servers whose ranges exclude it. It asks the server's
// version when Config.Ranges is RangesAuto until it has an answer.
func (s *Source) shorten(ctx context.Context) (time.Duration, error) {
	s.mu.Lock()
	r := s.ranges
	s.mu.Unlock()
	if r == RangesAuto {
		info, err := s.buildinfo(ctx)
		var known bool
		switch {
		case err == nil:
			if r, known = rangesOf(info.Application, info.Version); !known {
				s.log.Warn("prometheus: cannot tell the range semantics from the build information; assuming ranges include their start (Prometheus 2.x): set config.ranges to say",
					"application", info.Application, "version", info.Version)
			}
		case errors.Is(err, errNoBuildinfo) && ctx.Err() == nil:
			// The server answered but has no build information (404, or
			// not in Prometheus's shape). A server error is no answer: it
			// fails the call, and the next one asks again.
			s.log.Warn("prometheus: no build information; assuming ranges include their start (Prometheus 2.x)", "err", err)
			r = RangesClosed
		default:
			return 0, translate(ctx, "(build information; set config.ranges to closed or left_open to need none)", err)
		}
		s.mu.Lock()
		s.ranges = r
		s.mu.Unlock()
	}
	if r == RangesLeftOpen {
		return 0, nil
	}
	return time.Millisecond, nil
}

// errNoBuildinfo marks an answer to the build information request that
// holds none: a client error (404: not served) or a body not in
// Prometheus's shape.
var errNoBuildinfo = errors.New("no build information")

// buildinfo is the part of a build information answer the driver reads:
// Prometheus's and Thanos' have a version; Mimir's says which application
// it is too ("Grafana Mimir").
type buildinfo struct {
	Application string `json:"application"`
	Version     string `json:"version"`
}

// buildinfo asks the server's build information. An answer without it
// is an error matching errNoBuildinfo (with the *v1.Error that
// client_golang would return); a server error (5xx, a status the
// transport maps, a connection that failed) is returned as is.
func (s *Source) buildinfo(ctx context.Context) (buildinfo, error) {
	u := s.client.URL("/api/v1/status/buildinfo", nil)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return buildinfo{}, err
	}
	resp, body, err := s.client.Do(ctx, req)
	if err != nil {
		return buildinfo{}, err
	}
	switch code := resp.StatusCode; {
	case code/100 == 5:
		return buildinfo{}, &v1.Error{Type: v1.ErrServer, Msg: fmt.Sprintf("server error: %d", code), Detail: truncate(string(body), 512)}
	case code/100 != 2:
		return buildinfo{}, fmt.Errorf("%w: %w", errNoBuildinfo, &v1.Error{Type: v1.ErrClient, Msg: fmt.Sprintf("client error: %d", code), Detail: truncate(string(body), 512)})
	}
	var answer struct {
		Status string    `json:"status"`
		Data   buildinfo `json:"data"`
	}
	if err := json.Unmarshal(body, &answer); err != nil || answer.Status != "success" {
		return buildinfo{}, fmt.Errorf("%w: %w", errNoBuildinfo, &v1.Error{Type: v1.ErrBadResponse, Msg: "the build information is not in Prometheus's shape", Detail: truncate(string(body), 512)})
	}
	return answer.Data, nil
}

// truncate returns s cut to at most n bytes, marked when cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// rangesOf returns the range semantics of a server from its build
// information, and whether its version tells them:
//
//   - Grafana Mimir (application "Grafana Mimir", its own version):
//     left-open from 2.15, which took up Prometheus 3's engine, closed
//     before; a weekly build ("r249-5bedc7a1") is not placed;
//   - Thanos (Prometheus's shape, its own version 0.x, which no
//     Prometheus with build information has): closed up to 0.36 (on
//     Prometheus 2.x), left-open from 0.38 (on 3.x); 0.37, built on a
//     Prometheus between the two, is not placed;
//   - Prometheus ("2.42.0+ds", "3.1.0"): left-open from 3.
//
// Another application or a version that does not parse is not placed.
func rangesOf(application, version string) (Ranges, bool) {
	major, minor, ok := majorMinor(version)
	switch {
	case strings.Contains(strings.ToLower(application), "mimir"):
		if !ok {
			return RangesClosed, false
		}
		if major > 2 || major == 2 && minor >= 15 {
			return RangesLeftOpen, true
		}
		return RangesClosed, true
	case application != "" || !ok:
		return RangesClosed, false
	case major == 0: // Thanos
		switch {
		case minor >= 38:
			return RangesLeftOpen, true
		case minor == 37:
			return RangesClosed, false
		}
		return RangesClosed, true
	case major >= 3:
		return RangesLeftOpen, true
	}
	return RangesClosed, true
}

// majorMinor parses the major and minor numbers of a version such as
// "2.42.0+ds" or "v0.38.0".
func majorMinor(version string) (major, minor int, ok bool) {
	maj, rest, _ := strings.Cut(strings.TrimPrefix(version, "v"), ".")
	mnr, _, _ := strings.Cut(rest, ".")
	mnr, _, _ = strings.Cut(mnr, "-")
	mnr, _, _ = strings.Cut(mnr, "+")
	var err1, err2 error
	major, err1 = strconv.Atoi(maj)
	minor, err2 = strconv.Atoi(mnr)
	return major, minor, err1 == nil && err2 == nil && major >= 0 && minor >= 0
}

// ceilMillis rounds d up to a whole number of milliseconds.
func ceilMillis(d time.Duration) time.Duration {
	if r := d % time.Millisecond; r != 0 {
		return d - r + time.Millisecond
	}
	return d
}

// point evaluates promql at ts and returns its one value and the series'
// labels, or a gap and nil when it returns nothing.
func (s *Source) point(ctx context.Context, promql string, ts time.Time) (float64, model.Metric, error) {
	vec, err := s.instant(ctx, promql, ts)
	if err != nil {
		return 0, nil, err
	}
	switch {
	case len(vec) == 0:
		return provider.Gap, nil, nil
	case len(vec) > 1:
		e := &SeriesError{Query: promql}
		for _, smp := range vec {
			e.Series = append(e.Series, smp.Metric.String())
		}
		return 0, nil, e
	}
	v := float64(vec[0].Value)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		s.warn(promql, []string{fmt.Sprintf("%v at %s is not finite; returned as a gap", v, ts.UTC().Format(time.RFC3339))}, nil)
		return provider.Gap, vec[0].Metric, nil
	}
	return v, vec[0].Metric, nil
}

// fill queries steps [lo, hi) of q and writes them into values. It
// returns the query and the labels of the series it answered (nil for
// none).
//
// Step k is evaluated at its last millisecond, t_k = q.Start + (k+1)·Step
// − 1ms. The range query is asked at the multiples of the step instead,
// from the first at or after t_lo, with an offset of the difference that
// moves each window back onto its step: a query frontend that aligns a
// range query's start and end with its step (Thanos' by default, Cortex
// and Mimir when configured, VictoriaMetrics) would otherwise evaluate
// every window up to a step away from where it was asked, and leaves
// these where they are. An answer off that grid is still refused.
func (s *Source) fill(ctx context.Context, reduce func(offset time.Duration) string, q provider.Query, lo, hi int, values []float64) (string, model.Metric, error) {
	first, offset := alignedStart(q.Start.Add(time.Duration(lo+1)*q.Step-time.Millisecond), q.Step)
	promql := reduce(offset)
	r := v1.Range{Start: first, End: first.Add(time.Duration(hi-lo-1) * q.Step), Step: q.Step}
	val, warnings, infos, err := s.api.QueryRange(ctx, promql, r)
	s.warn(promql, warnings, infos)
	if err != nil {
		return promql, nil, translate(ctx, promql, err)
	}
	if err := s.partial(promql, warnings); err != nil {
		return promql, nil, err
	}
	m, ok := val.(model.Matrix)
	if !ok {
		return promql, nil, &QueryError{Query: promql, Kind: ErrBadResult, Err: fmt.Errorf("result type %s, want matrix", typeOf(val))}
	}
	if len(m) > 1 {
		return promql, nil, seriesError(promql, m)
	}
	if len(m) == 0 {
		return promql, nil, nil
	}
	if len(m[0].Histograms) > 0 {
		return promql, nil, histogramError(promql, m[0].Metric)
	}
	var bad nonFinite
	for _, p := range m[0].Values {
		off := p.Timestamp.Time().Sub(first)
		k := lo + int(math.Round(float64(off)/float64(q.Step)))
		if dev := off - time.Duration(k-lo)*q.Step; dev <= -time.Millisecond || dev >= time.Millisecond {
			// Evaluated elsewhere than asked (a frontend that moved the
			// query): its window straddles two steps.
			return promql, nil, &QueryError{Query: promql, Kind: ErrBadResult, Err: fmt.Errorf("point at %s is off the grid of steps evaluated at %s + n·%s; was the query moved?",
				p.Timestamp.Time().UTC().Format(time.RFC3339Nano), first.UTC().Format(time.RFC3339Nano), q.Step)}
		}
		if k < lo || k >= hi {
			continue
		}
		v := float64(p.Value)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			bad.add(k, v)
			continue
		}
		values[k] = v
	}
	if bad.n > 0 {
		s.warn(promql, []string{bad.String(q.Start, q.Step)}, nil)
	}
	return promql, m[0].Metric, nil
}

// nonFinite counts the non-finite values of an answer, for one warning
// that counts them and names the first and the last step, rather than one
// for each step (a day of NaN at one-minute steps is 1,440 of them).
type nonFinite struct {
	n           int
	first, last int       // their steps
	kinds       []float64 // the distinct values (NaN, +Inf, -Inf), in the order met
}

func (b *nonFinite) add(k int, v float64) {
	if b.n == 0 {
		b.first = k
	}
	b.n, b.last = b.n+1, k
	for _, seen := range b.kinds {
		if seen == v || math.IsNaN(seen) && math.IsNaN(v) {
			return
		}
	}
	b.kinds = append(b.kinds, v)
}

// String is the warning, each step named by its number and start on the
// grid of start and step.
func (b *nonFinite) String(start time.Time, step time.Duration) string {
	at := func(k int) string { return start.Add(time.Duration(k) * step).UTC().Format(time.RFC3339) }
	if b.n == 1 {
		return fmt.Sprintf("%v at step %d at %s is not finite; returned as a gap", b.kinds[0], b.first, at(b.first))
	}
	kinds := make([]string, len(b.kinds))
	for i, v := range b.kinds {
		kinds[i] = fmt.Sprint(v)
	}
	return fmt.Sprintf("%d values from step %d at %s to step %d at %s are not finite (%s); returned as gaps",
		b.n, b.first, at(b.first), b.last, at(b.last), strings.Join(kinds, ", "))
}

// alignedStart returns the first multiple of step (whole milliseconds,
// counted from the Unix epoch) at or after t, at millisecond precision
// (t rounded to the nearest millisecond, as the server reads a time, so
// that these windows end where an instant query's at t would), and how
// far after t it is, in [0, step).
func alignedStart(t time.Time, step time.Duration) (time.Time, time.Duration) {
	ms, stepMs := t.Round(time.Millisecond).UnixMilli(), step.Milliseconds()
	offset := (stepMs - ms%stepMs) % stepMs // in [0, stepMs) for either sign of ms
	return time.UnixMilli(ms + offset), time.Duration(offset) * time.Millisecond
}

// reduceExpr wraps expr in the *_over_time function of stat over window
// ending offset before the evaluation time, through a subquery at res
// unless expr is a bare selector.
func reduceExpr(expr string, stat provider.Statistic, window, offset, res time.Duration) string {
	var inner string
	if isPlainSelector(expr) {
		inner = expr + "[" + promDuration(window) + "]"
	} else {
		inner = "(" + expr + ")[" + promDuration(window) + ":" + promDuration(res) + "]"
	}
	if offset > 0 {
		inner += " offset " + promDuration(offset)
	}
	switch stat {
	case provider.StatMax:
		return "max_over_time(" + inner + ")"
	case provider.StatMin:
		return "min_over_time(" + inner + ")"
	case provider.StatSum:
		return "sum_over_time(" + inner + ")"
	case provider.StatCount:
		return "count_over_time(" + inner + ")"
	case provider.StatLast:
		return "last_over_time(" + inner + ")"
	}
	if p, ok := stat.Percentile(); ok {
		return "quantile_over_time(" + strconv.FormatFloat(p/100, 'g', -1, 64) + ", " + inner + ")"
	}
	return "avg_over_time(" + inner + ")"
}

// instant runs an instant query at ts (zero: the server's now) and returns
// the vector.
func (s *Source) instant(ctx context.Context, promql string, ts time.Time) (model.Vector, error) {
	val, warnings, infos, err := s.api.Query(ctx, promql, ts)
	s.warn(promql, warnings, infos)
	if err != nil {
		return nil, translate(ctx, promql, err)
	}
	if err := s.partial(promql, warnings); err != nil {
		return nil, err
	}
	vec, ok := val.(model.Vector)
	if !ok {
		return nil, &QueryError{Query: promql, Kind: ErrBadResult, Err: fmt.Errorf("result type %s, want vector", typeOf(val))}
	}
	for _, smp := range vec {
		// client_golang decodes a native histogram's sample with Value
		// 0: read as a number, it is a count of 0 or an idle CPU.
		if smp.Histogram != nil {
			return nil, histogramError(promql, smp.Metric)
		}
	}
	return vec, nil
}

// histogramError refuses an answer of native histograms where numbers
// were expected.
func histogramError(promql string, m model.Metric) error {
	return &QueryError{Query: promql, Kind: ErrBadResult, Err: fmt.Errorf("series %s holds native histograms, not numbers; read one with histogram_count, histogram_sum or histogram_quantile in the template", m)}
}

// partial returns a *QueryError matching ErrPartialResult for an answer
// to promql that carries warnings, unless Config.AcceptWarnings is set.
func (s *Source) partial(promql string, warnings []string) error {
	if len(warnings) == 0 || s.c.cfg.AcceptWarnings {
		return nil
	}
	return &QueryError{Query: promql, Kind: ErrPartialResult,
		Err: fmt.Errorf("%s (set config.accept_warnings to read such answers as complete)", strings.Join(s.red.Strings(warnings), "; "))}
}

func (s *Source) warn(promql string, warnings, infos []string) {
	if len(warnings) == 0 && len(infos) == 0 {
		return
	}
	warnings, infos = s.red.Strings(warnings), s.red.Strings(infos)
	s.log.Warn("prometheus: warnings in answer", "query", promql, "warnings", warnings, "infos", infos)
	if s.onWarning != nil {
		s.onWarning(Warning{Query: s.red.String(promql), Warnings: warnings, Infos: infos})
	}
}

// translate maps an error of client_golang onto the driver's errors.
func translate(ctx context.Context, promql string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
		err = errors.Join(ctxErr, err)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return &QueryError{Query: promql, Err: err}
	}
	var se *StatusError
	if errors.As(err, &se) {
		return &QueryError{Query: promql, Kind: se, Err: err}
	}
	var large *answerTooLargeError
	if errors.As(err, &large) {
		return &QueryError{Query: promql, Kind: ErrBadResult, Err: err}
	}
	var apiErr *v1.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Type {
		case v1.ErrBadData:
			return &QueryError{Query: promql, Kind: ErrBadQuery, Err: err}
		case v1.ErrBadResponse:
			return &QueryError{Query: promql, Kind: ErrBadResult, Err: err}
		}
		return &QueryError{Query: promql, Err: err}
	}
	var re *redirectError
	if errors.As(err, &re) {
		return &QueryError{Query: promql, Err: err}
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &QueryError{Query: promql, Kind: ErrUnavailable, Err: err}
	}
	return &QueryError{Query: promql, Err: err}
}

func seriesError(promql string, m model.Matrix) error {
	e := &SeriesError{Query: promql}
	for _, ss := range m {
		e.Series = append(e.Series, ss.Metric.String())
	}
	return e
}

func typeOf(v model.Value) string {
	if v == nil {
		return "none"
	}
	return v.Type().String()
}

// maxRedirects is how many redirects a request follows, as net/http's
// default policy.
const maxRedirects = 10

// checkRedirect follows redirects that keep the request's method (307,
// 308, and any of a GET) and refuses one that would resend a POSTed query
// as a GET without its body (301, 302, 303 of a POST): Prometheus would
// reject the empty query as bad_data, which reads as a bad template.
func checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) >= maxRedirects {
		return fmt.Errorf("stopped after %d redirects", maxRedirects)
	}
	if first := via[0]; req.Method != first.Method {
		code := 0
		if req.Response != nil {
			code = req.Response.StatusCode
		}
		return &redirectError{Code: code, Method: first.Method, To: req.URL.String()}
	}
	return nil
}

// redirectError is a redirect that checkRedirect refused.
type redirectError struct {
	Code   int    // the redirect's HTTP status
	Method string // the method it would have changed
	To     string // where it leads
}

func (e *redirectError) Error() string {
	return fmt.Sprintf("the server redirects (HTTP %d) to %s, which would resend the %s as a GET without its query; set config.address to where it redirects",
		e.Code, e.To, e.Method)
}

// statusTransport turns the HTTP statuses that have a sentinel into a
// *StatusError, which client_golang would otherwise flatten into a message,
// and bounds the other answers' bodies to limit bytes (Config.MaxAnswerBytes).
type statusTransport struct {
	base  http.RoundTripper
	limit int64
}

func (t statusTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout,
		http.StatusUnauthorized, http.StatusForbidden:
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
		_ = resp.Body.Close()
		se := &StatusError{Code: resp.StatusCode}
		// Prometheus answers a query that ran past its timeout with 503
		// too: its error says so.
		var apiErr struct {
			Status    string `json:"status"`
			ErrorType string `json:"errorType"`
			Error     string `json:"error"`
		}
		if json.Unmarshal(body, &apiErr) == nil && apiErr.Status == "error" {
			se.Type, se.Message = apiErr.ErrorType, apiErr.Error
		}
		return nil, se
	}
	left := t.limit
	if resp.ContentLength > t.limit {
		left = 0 // refused at the first read, unread
	}
	resp.Body = &limitedBody{rc: resp.Body, left: left, limit: t.limit}
	return resp, nil
}

// limitedBody reads at most limit bytes of an answer; reading past them
// fails with an *answerTooLargeError, so that client_golang's read of the
// whole body stops there.
type limitedBody struct {
	rc          io.ReadCloser
	left, limit int64
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		var one [1]byte
		n, err := b.rc.Read(one[:])
		if n > 0 {
			return 0, &answerTooLargeError{limit: b.limit}
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// answerTooLargeError is an answer longer than Config.MaxAnswerBytes.
type answerTooLargeError struct{ limit int64 }

func (e *answerTooLargeError) Error() string {
	return fmt.Sprintf("the answer is larger than config.max_answer_bytes (%d bytes) and was not read: a template that returns many series (aggregate the extra labels away), or raise the limit", e.limit)
}

// Check sends every template, rendered for a resource that does not exist,
// to the server as an instant query, so that PromQL the server rejects is
// found at start-up rather than at the first query. It returns the errors
// of all templates joined; each names its template (config.metrics[cpu])
// and matches ErrBadQuery and provider.ErrInvalid when the server rejected
// the PromQL, ErrPartialResult when it answered with warnings (unless
// Config.AcceptWarnings), or the server error otherwise.
func (s *Source) Check(ctx context.Context) (err error) {
	defer s.red.Errorp(&err)
	const probe = "idlescale-check-probe"
	data := func(rng time.Duration) TemplateData {
		return newData(s.c.cfg.IDLabel, probe, rng, map[string]string{s.c.cfg.IDLabel: probe})
	}
	type job struct {
		field string
		t     *tmpl
		d     TemplateData
	}
	var jobs []job
	for _, m := range sortedKeys(s.c.metrics) {
		jobs = append(jobs, job{"config.metrics[" + string(m) + "]", s.c.metrics[m], data(s.c.cfg.RateWindow)})
	}
	for _, k := range sortedKeys(s.c.activity) {
		jobs = append(jobs, job{"config.activity[" + string(k) + "]", s.c.activity[k], data(time.Hour)})
	}
	jobs = append(jobs, job{"config.targets", s.c.targets, data(s.c.cfg.Lookback)})
	var errs []error
	for _, j := range jobs {
		promql, err := j.t.render(j.d)
		if err == nil {
			_, err = s.instant(ctx, promql, time.Time{})
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", j.field, err))
		}
		if ctx.Err() != nil {
			break
		}
	}
	return errors.Join(errs...)
}

package memory

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// metricSlot is one metric of a resource and its data.
type metricSlot struct {
	metric provider.Metric
	data   *metricData
}

// metric returns the data of metric m of the resource, or nil.
func (e *entry) metric(m provider.Metric) *metricData {
	for i := range e.metrics {
		if e.metrics[i].metric == m {
			return e.metrics[i].data
		}
	}
	return nil
}

// setMetric stores d as metric m of the resource (nil: removes it).
func (e *entry) setMetric(m provider.Metric, d *metricData) {
	for i := range e.metrics {
		if e.metrics[i].metric == m {
			if d == nil {
				e.metrics = slices.Delete(e.metrics, i, i+1)
			} else {
				e.metrics[i].data = d
			}
			return
		}
	}
	if d != nil {
		e.metrics = append(e.metrics, metricSlot{m, d})
	}
}

// metricData holds one metric of one resource, either as raw samples or as
// a regular series (8 bytes a step, for large generated fleets).
type metricData struct {
	samples []provider.Sample
	series  *provider.Series
	// wallStart is set when series.Start carries no monotonic clock
	// reading: a time's Sub from it is then the wall clocks' difference.
	wallStart bool
}

// AddSamples appends raw samples of metric m to resource id. The samples
// must satisfy provider.ValidateSamples and come after any sample already
// stored for that metric. A metric stored with SetSeries is replaced by the
// samples (no sample changes nothing). Samples later than the clock's now are stored but stay invisible
// to QueryMetric until the clock reaches them, so a trace can play out in
// (fake) time.
func (c *Cloud) AddSamples(id string, m provider.Metric, samples ...provider.Sample) (err error) {
	defer redact.Errorp(&err)
	if err := m.Validate(); err != nil {
		return fmt.Errorf("memory: add samples %q: %w", id, provider.Within("metric", err))
	}
	if err := provider.ValidateSamples(samples); err != nil {
		return fmt.Errorf("memory: add samples %q %s: %w", id, m, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.addSamplesLocked(id, m, samples)
}

// addSamplesLocked is AddSamples of valid samples; c.mu must be held for
// writing.
func (c *Cloud) addSamplesLocked(id string, m provider.Metric, samples []provider.Sample) error {
	e, ok := c.resources[id]
	if !ok {
		return notFound("add samples", id)
	}
	if len(samples) == 0 {
		return nil // nothing to add: a series stored with SetSeries stays
	}
	d := e.metric(m)
	if d == nil || d.series != nil {
		d = &metricData{}
		e.setMetric(m, d)
	}
	if n := len(d.samples); n > 0 && len(samples) > 0 && !samples[0].Time.After(d.samples[n-1].Time) {
		return provider.Invalid("samples[0].time", samples[0].Time.Format(time.RFC3339Nano),
			"must be after the last stored sample "+d.samples[n-1].Time.Format(time.RFC3339Nano))
	}
	d.samples = append(d.samples, samples...)
	return nil
}

// Replay stores a real trace as metric m of resource id, shifted in time so
// that its last sample falls at end (its spacing is kept). It replaces what
// was stored for that metric, at once: a query made meanwhile reads the
// old data or the trace, and on error nothing changed. Use it to serve a
// 2014 CloudWatch trace as the last two weeks of a resource in a dry run.
// end must be set and within 292 years (the range of time.Duration) of
// the last sample.
func (c *Cloud) Replay(id string, m provider.Metric, samples []provider.Sample, end time.Time) (err error) {
	defer redact.Errorp(&err)
	if err := m.Validate(); err != nil {
		return fmt.Errorf("memory: replay %q: %w", id, provider.Within("metric", err))
	}
	if len(samples) == 0 {
		return provider.Invalid("samples", 0, "a replay needs at least one sample")
	}
	if err := provider.ValidateSamples(samples); err != nil {
		return fmt.Errorf("memory: replay %q %s: %w", id, m, err)
	}
	if end.IsZero() {
		return provider.Invalid("end", end, "must be set")
	}
	last := samples[len(samples)-1].Time
	shift := end.Sub(last)
	if !last.Add(shift).Equal(end) { // Sub saturated
		return provider.Invalid("end", end.Format(time.RFC3339), "is more than 292 years from the trace's last sample "+last.Format(time.RFC3339))
	}
	moved := make([]provider.Sample, len(samples))
	for i, s := range samples {
		moved[i] = provider.Sample{Time: s.Time.Add(shift), Value: s.Value}
	}
	// Shifted, the samples are still valid and sorted: they replace the
	// metric's data in one step, so that no read sees neither trace.
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.resources[id]
	if !ok {
		return notFound("replay", id)
	}
	e.setMetric(m, &metricData{samples: moved})
	return nil
}

// SetSeries stores s as the metric s.Metric of resource s.ResourceID,
// replacing what was stored. The Cloud keeps s.Values (do not change them
// afterwards). Steps later than the clock's now are invisible to
// QueryMetric, as with AddSamples.
func (c *Cloud) SetSeries(s provider.Series) (err error) {
	defer redact.Errorp(&err)
	if err := s.Validate(); err != nil {
		return fmt.Errorf("memory: set series %q: %w", s.ResourceID, err)
	}
	if err := s.Metric.Validate(); err != nil {
		return fmt.Errorf("memory: set series %q: %w", s.ResourceID, provider.Within("metric", err))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.resources[s.ResourceID]
	if !ok {
		return notFound("set series", s.ResourceID)
	}
	e.setMetric(s.Metric, &metricData{series: &s, wallStart: s.Start == s.Start.Round(0)}) //nolint:staticcheck // == sees the monotonic reading Round(0) strips
	return nil
}

// QueryMetric implements provider.MetricsSource. A resource without data for
// q.Metric yields a series of gaps; an unknown resource
// provider.ErrNotFound. Only data up to the clock's now is visible.
func (c *Cloud) QueryMetric(ctx context.Context, q provider.Query) (_ provider.Series, err error) {
	defer redact.Errorp(&err)
	if err := q.Validate(); err != nil {
		return provider.Series{}, fmt.Errorf("memory: query metric: %w", err)
	}
	if _, err := c.enter(ctx, OpQueryMetric, q.ResourceID); err != nil {
		return provider.Series{}, err
	}
	now := c.clock.Now()
	c.mu.RLock()
	e, known := c.resources[q.ResourceID]
	var d *metricData
	if known {
		if stored := e.metric(q.Metric); stored != nil {
			// A copy taken under the lock: AddSamples appends to the
			// stored samples while this query resamples them.
			snapshot := *stored
			d = &snapshot
		}
	}
	c.mu.RUnlock()
	if !known {
		return provider.Series{}, notFound("query metric", q.ResourceID)
	}
	return query(&q, q.Steps(), d, now.Add(time.Nanosecond), nil)
}

// query answers the valid query q of steps steps (q.Steps()) from d (nil
// when the resource has no data for the metric) as of now, writing the
// values into dst's capacity (nil: a new slice).
// limit is now + 1 ns, the end of what is visible at now (a batch
// computes it once for all its queries, and the steps once for all its
// queries of one window).
func query(q *provider.Query, steps int, d *metricData, limit time.Time, dst []float64) (provider.Series, error) {
	// Data after now is not visible yet.
	visibleEnd := q.End
	if visibleEnd.After(limit) {
		visibleEnd = limit
	}
	var out provider.Series
	switch {
	case d == nil || !visibleEnd.After(q.Start):
		out = provider.Series{Values: gaps(dst, steps)}
	case d.series != nil:
		out = resampleSeries(dst, d.series, d.wallStart, q, steps, visibleEnd)
	default:
		// Samples are sorted and valid: resample only the window.
		lo, _ := slices.BinarySearchFunc(d.samples, q.Start, cmpSampleTime)
		hi, _ := slices.BinarySearchFunc(d.samples, visibleEnd, cmpSampleTime)
		var err error
		out, err = provider.Resample(*q, d.samples[lo:hi])
		if err != nil {
			return provider.Series{}, fmt.Errorf("memory: query metric: %w", err)
		}
	}
	out.ResourceID, out.Metric, out.Start, out.Step = q.ResourceID, q.Metric, q.Start, q.Step
	return out, nil
}

func cmpSampleTime(s provider.Sample, t time.Time) int { return s.Time.Compare(t) }

// gaps returns n gaps in dst's capacity (or a new slice).
func gaps(dst []float64, n int) []float64 {
	v := slices.Grow(dst[:0], n)[:n]
	for i := range v {
		v[i] = provider.Gap
	}
	return v
}

// resampleSeries reduces the stored regular series src onto the grid of q
// (its n = q.Steps() steps), using only steps of src that start before
// visibleEnd, into dst's capacity (or a new slice). It works in integer offsets from src.Start,
// so a fleet scan spends its time on the values, not on time arithmetic.
//
// wallStart says src.Start carries no monotonic clock reading.
func resampleSeries(dst []float64, src *provider.Series, wallStart bool, q *provider.Query, n int, visibleEnd time.Time) provider.Series {
	out := provider.Series{Values: slices.Grow(dst[:0], n)[:n]}
	sub := func(t time.Time) time.Duration {
		if wallStart {
			return subWall(t, src.Start)
		}
		return t.Sub(src.Start)
	}
	base := sub(q.Start)
	limit := sub(minTime(visibleEnd, q.End))
	// firstAt returns the index of the first step of src starting at or
	// after offset d, clamped to [0, len].
	firstAt := func(d time.Duration) int {
		if d <= 0 {
			return 0
		}
		i := d / src.Step
		if d%src.Step != 0 {
			i++
		}
		return int(min(i, time.Duration(len(src.Values))))
	}
	end := firstAt(limit)
	if q.Step == src.Step && base%src.Step == 0 && (q.Statistic == "" || q.Statistic == provider.StatMean ||
		q.Statistic == provider.StatMax || q.Statistic == provider.StatMin || q.Statistic == provider.StatLast) {
		// Same grid: every statistic of one value is the value.
		off := int(base / src.Step)
		for k := range out.Values {
			if i := off + k; i >= 0 && i < end {
				out.Values[k] = src.Values[i]
			} else {
				out.Values[k] = provider.Gap
			}
		}
		return out
	}
	var scratch []float64
	for k := range n {
		from := base + time.Duration(k)*q.Step
		lo, hi := firstAt(from), min(firstAt(from+q.Step), end)
		if hi < lo {
			hi = lo
		}
		out.Values[k], scratch = provider.Reduce(q.Statistic, src.Values[lo:hi], scratch)
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// subWall is t.Sub(u) for a u without a monotonic clock reading, when
// Sub is the difference of the wall clocks, without Sub's overflow check
// (an Add and an Equal) while the difference is far from overflowing.
func subWall(t, u time.Time) time.Duration {
	if s := t.Unix() - u.Unix(); s > -1<<32 && s < 1<<32 {
		return time.Duration(s)*time.Second + time.Duration(t.Nanosecond()-u.Nanosecond())
	}
	return t.Sub(u)
}

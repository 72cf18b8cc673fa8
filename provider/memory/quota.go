package memory

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/quota"
)

// QuotaEmulator answers metric reads as CloudWatch's GetMetricData does
// under its per-account-region quotas: it refuses a call over a per-call
// limit (more than Limits.MetricsPerCall queries, or more than
// Limits.PointsPerCall points in a call of several queries) with an error
// matching provider.ErrInvalid that names the limit, and a call over a rate
// limit (calls per second, data points per second for data older than
// Limits.RecentAge, and for recent data) with an error matching
// provider.ErrThrottled, as CloudWatch answers "Throttling: Rate exceeded".
//
// Each rate is a bucket on the emulator's clock that holds one second of
// its rate and refills continuously: at a standstill the limit's worth of
// calls or points in one instant is admitted and one more is throttled; a
// second later the bucket is full again. A call is admitted only when every
// bucket it takes from holds its cost (a call of recent data only does not
// wait on the old-points bucket), and then spends all of them; a refused
// call spends nothing. A single query longer than PointsPerCall is paged, one call per
// PointsPerCall points, as quota.CostOf counts it; when its pages cost more
// than a bucket holds, it is admitted once that bucket is full and leaves
// it in debt, so that later calls wait as they would behind its pages.
//
// QueryMetric is one call of one query; QueryMetrics (a
// provider.MetricsBatcher, as the AWS driver's GetMetricData is) is one
// call of all its reads. The reads themselves go to the wrapped source, in
// one batch when it is a provider.MetricsBatcher. QuotaEmulator is safe
// for concurrent use when the source is.
type QuotaEmulator struct {
	src provider.MetricsSource
	clk clock.Clock
	lim quota.Limits

	mu                 sync.Mutex
	calls, old, recent rateBucket
	used               QuotaUsage
}

// QuotaUsage is what a QuotaEmulator admitted and refused.
type QuotaUsage struct {
	// Cost is what the admitted calls consumed: calls (pages included),
	// data points, and of those the recent ones.
	quota.Cost
	// Throttled counts the calls refused by a rate limit.
	Throttled int `json:"throttled"`
	// Invalid counts the calls refused by a per-call limit.
	Invalid int `json:"invalid"`
}

// String renders the usage on one line.
func (u QuotaUsage) String() string {
	return fmt.Sprintf("%d calls, %d points (%d recent), %d throttled, %d invalid", u.Calls, u.Points, u.RecentPoints, u.Throttled, u.Invalid)
}

var _ provider.MetricsBatcher = (*QuotaEmulator)(nil)

// NewQuotaEmulator returns src read under the quotas lim, on clk (pass the
// clock of the Cloud or fleet behind src, so that recent data and the
// refill follow the same time). Every field of lim must be set and
// positive: an emulated quota has no defaults (start from
// quota.CloudWatch()); a zero or negative field is an error matching
// provider.ErrInvalid that names it. src and clk are required. A point rate
// below PointsPerCall, or a call rate below 1, is refused too: a call the
// per-call limits allow could never be admitted.
func NewQuotaEmulator(src provider.MetricsSource, clk clock.Clock, lim quota.Limits) (*QuotaEmulator, error) {
	if nilcheck.Is(src) {
		return nil, fmt.Errorf("memory: quota emulator: %w", provider.Invalid("source", nil, "must be set"))
	}
	if nilcheck.Is(clk) {
		return nil, fmt.Errorf("memory: quota emulator: %w", provider.Invalid("clock", nil, "must be set"))
	}
	if err := validateEmulatedLimits(lim); err != nil {
		return nil, fmt.Errorf("memory: quota emulator: %w", err)
	}
	return &QuotaEmulator{
		src: src, clk: clk, lim: lim,
		calls:  rateBucket{rate: lim.CallsPerSecond},
		old:    rateBucket{rate: lim.PointsPerSecond},
		recent: rateBucket{rate: lim.RecentPointsPerSecond},
	}, nil
}

func validateEmulatedLimits(l quota.Limits) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"calls_per_second", l.CallsPerSecond}, {"points_per_second", l.PointsPerSecond}, {"recent_points_per_second", l.RecentPointsPerSecond}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v <= 0 {
			return provider.Invalid("limits."+f.name, f.v, "must be a finite rate > 0 (an emulated quota has no defaults; start from quota.CloudWatch())")
		}
	}
	if l.RecentAge <= 0 {
		return provider.Invalid("limits.recent_age", l.RecentAge, "must be > 0 (CloudWatch: 3h)")
	}
	if l.MetricsPerCall <= 0 {
		return provider.Invalid("limits.metrics_per_call", l.MetricsPerCall, "must be > 0 (CloudWatch: 500)")
	}
	if l.PointsPerCall <= 0 {
		return provider.Invalid("limits.points_per_call", l.PointsPerCall, "must be > 0 (CloudWatch: 100800)")
	}
	if l.CallsPerSecond < 1 {
		return provider.Invalid("limits.calls_per_second", l.CallsPerSecond, "must be ≥ 1: a bucket holds one second of calls, and a call needs one")
	}
	for _, f := range []struct {
		name string
		v    float64
	}{{"points_per_second", l.PointsPerSecond}, {"recent_points_per_second", l.RecentPointsPerSecond}} {
		if f.v < float64(l.PointsPerCall) {
			return provider.Invalid("limits."+f.name, f.v, fmt.Sprintf("must be ≥ points_per_call %d: a bucket holds one second of points, and a full call could never be admitted", l.PointsPerCall))
		}
	}
	return nil
}

// Limits returns the emulated quotas.
func (e *QuotaEmulator) Limits() quota.Limits { return e.lim }

// Usage returns what the emulator has admitted and refused so far.
func (e *QuotaEmulator) Usage() QuotaUsage {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.used
}

// QueryMetric implements provider.MetricsSource: q is one call (or, longer
// than PointsPerCall, its pages), admitted or refused as a whole.
func (e *QuotaEmulator) QueryMetric(ctx context.Context, q provider.Query) (_ provider.Series, err error) {
	defer redact.Errorp(&err)
	if err := q.Validate(); err != nil {
		return provider.Series{}, fmt.Errorf("memory: quota emulator: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return provider.Series{}, fmt.Errorf("memory: quota emulator: %w", err)
	}
	if err := e.admit(quota.CostOf(q, e.clk.Now(), e.lim)); err != nil {
		return provider.Series{}, err
	}
	return e.src.QueryMetric(ctx, q)
}

// QueryMetrics implements provider.MetricsBatcher as one GetMetricData
// call of all the reads. A read with an invalid query fails alone and is
// not sent. A call of more than MetricsPerCall queries, or of several
// queries with more than PointsPerCall points in all, is refused with an
// error matching provider.ErrInvalid naming the limit; a call over a rate
// limit with an error matching provider.ErrThrottled; then, as when ctx
// has ended, every read sent carries the error, which QueryMetrics
// returns. Otherwise the reads go to the wrapped source (in one batch when
// it is a provider.MetricsBatcher) and carry their own errors. A call
// with no valid read spends nothing.
func (e *QuotaEmulator) QueryMetrics(ctx context.Context, reads []provider.MetricRead) (err error) {
	defer redact.Errorp(&err)
	sent := reads // the valid reads: reads itself, or a copy of them
	var idx []int // with a copy, where each is in reads
	for i := range reads {
		if err := reads[i].Query.Validate(); err != nil {
			if idx == nil {
				sent, idx = make([]provider.MetricRead, 0, len(reads)), make([]int, 0, len(reads))
				for j := range i {
					sent, idx = append(sent, reads[j]), append(idx, j)
				}
			}
			reads[i].Series, reads[i].Err = provider.Series{Values: reads[i].Series.Values[:0]}, redact.Error(fmt.Errorf("memory: quota emulator: %w", err))
			continue
		}
		if idx != nil {
			sent, idx = append(sent, reads[i]), append(idx, i)
		}
	}
	if len(sent) == 0 {
		return nil
	}
	defer func() {
		for k, i := range idx {
			reads[i] = sent[k]
		}
	}()
	if err := e.call(ctx, sent); err != nil {
		err = redact.Error(err) // once: the reads and the method carry one error
		for i := range sent {
			sent[i].Series, sent[i].Err = provider.Series{Values: sent[i].Series.Values[:0]}, err
		}
		return err
	}
	serr := provider.QueryMetrics(ctx, e.src, sent)
	var werr error
	if serr != nil {
		werr = redact.Error(fmt.Errorf("memory: quota emulator: %w", serr))
	}
	for i := range sent {
		switch r := &sent[i]; {
		case r.Err == nil:
		case serr != nil && errors.Is(r.Err, serr): // the source's call failed as a whole
			r.Err = werr
		default: // the read's own error, masked as QueryMetric's is
			r.Err = redact.Error(r.Err)
		}
	}
	return werr
}

// call admits one call of the valid reads, or returns why not.
func (e *QuotaEmulator) call(ctx context.Context, reads []provider.MetricRead) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("memory: quota emulator: %w", err)
	}
	if len(reads) > e.lim.MetricsPerCall {
		e.refuse()
		return fmt.Errorf("memory: quota emulator: %w", provider.Invalid("metrics_per_call", len(reads),
			fmt.Sprintf("a call carries at most %d metric queries", e.lim.MetricsPerCall)))
	}
	now := e.clk.Now()
	var c quota.Cost
	for i := range reads {
		qc := quota.CostOf(reads[i].Query, now, e.lim)
		c.Calls = max(c.Calls, qc.Calls)
		c.Points += qc.Points
		c.RecentPoints += qc.RecentPoints
	}
	if len(reads) > 1 && c.Points > e.lim.PointsPerCall {
		e.refuse()
		return fmt.Errorf("memory: quota emulator: %w", provider.Invalid("points_per_call", c.Points,
			fmt.Sprintf("a call of several queries returns at most %d data points", e.lim.PointsPerCall)))
	}
	return e.admit(c)
}

func (e *QuotaEmulator) refuse() {
	e.mu.Lock()
	e.used.Invalid++
	e.mu.Unlock()
}

// admit spends c from every bucket at the clock's now, or spends nothing
// and returns the throttling error naming the first limit c exceeds.
func (e *QuotaEmulator) admit(c quota.Cost) error {
	now := e.clk.Now()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range []struct {
		name string
		b    *rateBucket
		n    int
	}{{"calls_per_second", &e.calls, c.Calls}, {"points_per_second", &e.old, c.Points - c.RecentPoints}, {"recent_points_per_second", &e.recent, c.RecentPoints}} {
		// A cost over the bucket's size (a query paged into several calls)
		// is admitted when the bucket is full and leaves it in debt, as its
		// pages would spread over the time the refill takes. A call that
		// takes none of a bucket's tokens does not wait on its debt: the
		// rates are separate quotas.
		if have := b.b.refill(now); b.n > 0 && float64(b.n) > have && (float64(b.n) <= b.b.rate || have < b.b.rate) {
			e.used.Throttled++
			return fmt.Errorf("memory: quota emulator: %w: rate exceeded: %d wanted, %.0f left of limits.%s %v",
				provider.ErrThrottled, b.n, max(math.Floor(have), 0), b.name, b.b.rate)
		}
	}
	e.calls.tokens -= float64(c.Calls)
	e.old.tokens -= float64(c.Points - c.RecentPoints)
	e.recent.tokens -= float64(c.RecentPoints)
	e.used.Calls += c.Calls
	e.used.Points += c.Points
	e.used.RecentPoints += c.RecentPoints
	return nil
}

// rateBucket holds up to one second of rate tokens, refilled continuously;
// a cost larger than the bucket leaves it below zero.
type rateBucket struct {
	rate   float64
	tokens float64
	last   time.Time
}

// refill brings the bucket to now and returns the tokens it holds. A clock
// that went back refills nothing.
func (b *rateBucket) refill(now time.Time) float64 {
	switch {
	case b.last.IsZero():
		b.tokens, b.last = b.rate, now
	case now.After(b.last):
		b.tokens = min(b.rate, b.tokens+now.Sub(b.last).Seconds()*b.rate)
		b.last = now
	}
	return b.tokens
}

package quota

import (
	"context"
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// Limits are the metric-read quotas of one account and region. The zero
// value of a field means its CloudWatch GetMetricData default.
type Limits struct {
	// CallsPerSecond is the calls allowed per second. Default: 50.
	CallsPerSecond float64 `json:"calls_per_second,omitempty" yaml:"calls_per_second,omitempty"`
	// PointsPerSecond is the data points allowed per second for data older
	// than RecentAge. Default: 396,000.
	PointsPerSecond float64 `json:"points_per_second,omitempty" yaml:"points_per_second,omitempty"`
	// RecentPointsPerSecond is the data points allowed per second for data
	// younger than RecentAge. Default: 180,000.
	RecentPointsPerSecond float64 `json:"recent_points_per_second,omitempty" yaml:"recent_points_per_second,omitempty"`
	// RecentAge is the age below which data counts as recent. Default: 3h.
	RecentAge time.Duration `json:"recent_age,omitempty" yaml:"recent_age,omitempty"`
	// MetricsPerCall is the most metric queries one call may carry.
	// Default: 500.
	MetricsPerCall int `json:"metrics_per_call,omitempty" yaml:"metrics_per_call,omitempty"`
	// PointsPerCall is the most data points one call may return.
	// Default: 100,800.
	PointsPerCall int `json:"points_per_call,omitempty" yaml:"points_per_call,omitempty"`
}

// CloudWatch returns GetMetricData's documented default quotas.
func CloudWatch() Limits {
	return Limits{CallsPerSecond: 50, PointsPerSecond: 396_000, RecentPointsPerSecond: 180_000, RecentAge: 3 * time.Hour,
		MetricsPerCall: 500, PointsPerCall: 100_800}
}

func (l Limits) withDefaults() Limits {
	d := CloudWatch()
	if l.CallsPerSecond == 0 {
		l.CallsPerSecond = d.CallsPerSecond
	}
	if l.PointsPerSecond == 0 {
		l.PointsPerSecond = d.PointsPerSecond
	}
	if l.RecentPointsPerSecond == 0 {
		l.RecentPointsPerSecond = d.RecentPointsPerSecond
	}
	if l.RecentAge == 0 {
		l.RecentAge = d.RecentAge
	}
	if l.MetricsPerCall == 0 {
		l.MetricsPerCall = d.MetricsPerCall
	}
	if l.PointsPerCall == 0 {
		l.PointsPerCall = d.PointsPerCall
	}
	return l
}

// Validate checks every field; the error names the first wrong one.
func (l Limits) Validate() error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"calls_per_second", l.CallsPerSecond}, {"points_per_second", l.PointsPerSecond}, {"recent_points_per_second", l.RecentPointsPerSecond}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) || f.v < 0 {
			return provider.Invalid("limits."+f.name, f.v, "must be a finite rate > 0 (0 means the CloudWatch default)")
		}
	}
	if l.RecentAge < 0 {
		return provider.Invalid("limits.recent_age", l.RecentAge, "must be ≥ 0 (0 means the default 3h)")
	}
	if l.MetricsPerCall < 0 {
		return provider.Invalid("limits.metrics_per_call", l.MetricsPerCall, "must be > 0 (0 means the default 500)")
	}
	if l.PointsPerCall < 0 {
		return provider.Invalid("limits.points_per_call", l.PointsPerCall, "must be > 0 (0 means the default 100800)")
	}
	return nil
}

// Config configures a Budget. The zero value means the defaults.
type Config struct {
	// Limits are the account and region's quotas. Default: CloudWatch().
	Limits Limits `json:"limits,omitzero" yaml:"limits,omitempty"`
	// Share is the fraction of the per-second limits the budget spends, in
	// (0, 1]. Default: 0.1.
	Share float64 `json:"share,omitempty" yaml:"share,omitempty"`
	// MaxAttempts bounds a Source's attempts of one read when the backend
	// throttles, the first included. Default: 5.
	MaxAttempts int `json:"max_attempts,omitempty" yaml:"max_attempts,omitempty"`
	// Backoff is a Source's first wait after a throttled read; it doubles
	// after each further one, up to MaxBackoff. Default: 200ms.
	Backoff time.Duration `json:"backoff,omitempty" yaml:"backoff,omitempty"`
	// MaxBackoff bounds the wait between attempts. Default: 20s.
	MaxBackoff time.Duration `json:"max_backoff,omitempty" yaml:"max_backoff,omitempty"`
}

// Validate checks every field; the error names the first wrong one.
func (c Config) Validate() error {
	if err := c.Limits.Validate(); err != nil {
		return err
	}
	if math.IsNaN(c.Share) || c.Share < 0 || c.Share > 1 {
		return provider.Invalid("share", c.Share, "must be in (0, 1] (0 means the default 0.1)")
	}
	if c.MaxAttempts < 0 {
		return provider.Invalid("max_attempts", c.MaxAttempts, "must be ≥ 1 (0 means the default 5)")
	}
	if c.Backoff < 0 {
		return provider.Invalid("backoff", c.Backoff, "must be ≥ 0 (0 means the default 200ms)")
	}
	if c.MaxBackoff < 0 {
		return provider.Invalid("max_backoff", c.MaxBackoff, "must be ≥ 0 (0 means the default 20s)")
	}
	return nil
}

func (c Config) withDefaults() Config {
	c.Limits = c.Limits.withDefaults()
	if c.Share == 0 {
		c.Share = 0.1
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 5
	}
	if c.Backoff == 0 {
		c.Backoff = 200 * time.Millisecond
	}
	if c.MaxBackoff == 0 {
		c.MaxBackoff = 20 * time.Second
	}
	c.MaxBackoff = max(c.MaxBackoff, c.Backoff)
	return c
}

// Cost is what one call spends: the call itself and its data points,
// split into old and recent data (see Limits.RecentAge).
type Cost struct {
	Calls        int `json:"calls"`
	Points       int `json:"points"`
	RecentPoints int `json:"recent_points"`
}

// Usage is what a Budget has spent and waited.
type Usage struct {
	Cost
	// Throttled counts the reads the backend throttled (each retried or
	// given up).
	Throttled int `json:"throttled"`
	// Waited is the total delay the budget imposed on its reservations;
	// a wait that its context ended counts as far as it went.
	Waited time.Duration `json:"waited"`
}

// String renders the usage on one line.
func (u Usage) String() string {
	return fmt.Sprintf("%d calls, %d points (%d recent), %d throttled, waited %s", u.Calls, u.Points, u.RecentPoints, u.Throttled, u.Waited)
}

// bucket is a token bucket that may go into debt: a reservation larger
// than what is there waits until the rate has paid it back, so one call
// bigger than a second's allowance is possible and the average rate holds.
type bucket struct {
	rate   float64 // tokens per second
	burst  float64 // the most tokens held
	tokens float64
	last   time.Time
	// held are the reservations that may still be given back, by hold:
	// the most a refund may return. Had a reservation of x not been made,
	// the bucket would hold min(ceiling, x) more tokens than it does: the
	// refills since capped at the burst lost the rest (see refill).
	held map[uint64]float64
}

// refill adds what the rate has paid since the last reservation, up to
// the burst, and lowers the held reservations' ceilings to what the cap
// left of the difference they make.
func (b *bucket) refill(now time.Time) {
	if b.last.IsZero() {
		b.last, b.tokens = now, b.burst
	}
	if !now.After(b.last) {
		return
	}
	v := b.tokens + now.Sub(b.last).Seconds()*b.rate
	b.tokens, b.last = min(b.burst, v), now
	// Without the reservation the bucket would hold min(burst, v + x):
	// min(burst − v, x) more than min(burst, v) for v ≤ burst, and
	// nothing more once v reaches the burst.
	capped := max(0, b.burst-v)
	for h, c := range b.held {
		b.held[h] = min(c, capped)
	}
}

// reserve takes n tokens at now and returns how long the taker must wait;
// hold, when not zero, keeps the reservation refundable until release.
func (b *bucket) reserve(now time.Time, n float64, hold uint64) time.Duration {
	b.refill(now)
	if hold != 0 && n > 0 {
		if b.held == nil {
			b.held = map[uint64]float64{}
		}
		b.held[hold] = math.Inf(1)
	}
	if n <= 0 {
		return 0 // a call that takes none of these tokens does not wait on them
	}
	b.tokens -= n
	if b.tokens >= 0 {
		return 0
	}
	return nanos(math.Ceil(-b.tokens / b.rate * float64(time.Second)))
}

// nanos returns ns nanoseconds as a Duration, saturating at the longest
// Duration: a wait beyond it (292 years, a tiny rate) converted as it is
// overflows, and a negative or zero wait would pace nothing.
func nanos(ns float64) time.Duration {
	if ns >= math.MaxInt64 {
		return math.MaxInt64
	}
	return time.Duration(ns)
}

// release ends hold, giving back n of its tokens (n of the reservation
// the backend never spent; 0 when it spent it all): no more than the
// bucket would hold more had those n not been reserved (its ceiling). The
// refund is exact for a reservation refused alone; with several held at
// once it may return less than it could, never more.
func (b *bucket) release(hold uint64, n float64) {
	c, ok := b.held[hold]
	if !ok {
		return
	}
	delete(b.held, hold)
	r := min(c, n)
	if r <= 0 {
		return
	}
	b.tokens += r
	// The others' ceilings were measured without these r tokens: a cap
	// they share takes them first.
	for h, c := range b.held {
		b.held[h] = max(0, c-r)
	}
}

// Budget is a per-account-region budget of calls and data points per
// second (a Share of Limits). Every read reserves its Cost; a reservation
// beyond the budget returns the wait that keeps the average rate within
// it. Budget is safe for concurrent use; share one per account and region
// among everything that reads its metrics.
type Budget struct {
	cfg   Config
	clk   clock.Clock
	mu    sync.Mutex
	calls bucket
	old   bucket
	fresh bucket
	used  Usage
	holds uint64 // the last hold handed out
}

// Option wires a collaborator into a Budget.
type Option func(*Budget)

// WithClock sets the clock Wait reads and waits on. Default (also for
// nil): the real clock. A nil pointer (a nil *clock.Mock) is refused by
// NewBudget.
func WithClock(c clock.Clock) Option { return func(b *Budget) { b.clk = c } }

// NewBudget returns a Budget of cfg; the error names an invalid field.
func NewBudget(cfg Config, opts ...Option) (*Budget, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("quota: %w", err)
	}
	cfg = cfg.withDefaults()
	b := &Budget{cfg: cfg, clk: clock.Real{}}
	for _, o := range opts {
		o(b)
	}
	switch {
	case b.clk == nil:
		b.clk = clock.Real{}
	case nilcheck.Is(b.clk):
		return nil, fmt.Errorf("quota: %w", provider.Invalid("clock", fmt.Sprintf("%T", b.clk), "must not be a nil pointer"))
	}
	l, s := cfg.Limits, cfg.Share
	b.calls = bucket{rate: l.CallsPerSecond * s, burst: l.CallsPerSecond * s}
	b.old = bucket{rate: l.PointsPerSecond * s, burst: l.PointsPerSecond * s}
	b.fresh = bucket{rate: l.RecentPointsPerSecond * s, burst: l.RecentPointsPerSecond * s}
	return b, nil
}

// Config returns the configuration with defaults filled in.
func (b *Budget) Config() Config { return b.cfg }

// ReserveAt reserves c at now and returns how long the caller must wait
// before making the call; the reservation counts in Usage at once.
func (b *Budget) ReserveAt(now time.Time, c Cost) time.Duration {
	d, _ := b.reserveAt(now, c, false)
	return d
}

// reserveAt is ReserveAt, returning with held a hold that release ends.
func (b *Budget) reserveAt(now time.Time, c Cost, held bool) (time.Duration, uint64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	var hold uint64
	if held {
		b.holds++
		hold = b.holds
	}
	wait := max(b.calls.reserve(now, float64(c.Calls), hold),
		b.old.reserve(now, float64(c.Points-c.RecentPoints), hold),
		b.fresh.reserve(now, float64(c.RecentPoints), hold))
	b.used.Calls += c.Calls
	b.used.Points += c.Points
	b.used.RecentPoints += c.RecentPoints
	b.used.Waited += min(wait, math.MaxInt64-b.used.Waited) // saturating, as the wait does
	return wait, hold
}

// Wait reserves c now and waits until it may be spent, or until ctx ends:
// then it returns ctx.Err() and, the call not being made, gives the
// reservation back as a Source gives back a refused read's (as far as the
// budget would hold more had it never been made); Usage does not count
// it.
func (b *Budget) Wait(ctx context.Context, c Cost) error {
	hold, err := b.wait(ctx, c)
	b.release(hold, Cost{}, 0)
	return err
}

// wait is Wait, returning a hold that release ends; none (0) when it
// returns an error: a reservation whose wait ctx ended is given back.
func (b *Budget) wait(ctx context.Context, c Cost) (uint64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	start := b.clk.Now()
	d, hold := b.reserveAt(start, c, true)
	if d <= 0 {
		return hold, nil
	}
	select {
	case <-ctx.Done():
		// The call is not made, and the wait ended early.
		b.release(hold, c, d-min(d, max(0, b.clk.Now().Sub(start))))
		return 0, ctx.Err()
	case <-b.clk.After(d):
		return hold, nil
	}
}

// Usage returns what the budget has spent so far.
func (b *Budget) Usage() Usage {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// release ends hold, giving back c of its reservation, spent on reads the
// backend was never asked (the driver refused them itself:
// provider.ErrUnsupported; ctx ended while they waited for the budget;
// zero when there were none): Usage no longer
// counts c nor the unwaited part of its wait, and each bucket gets back the tokens it would hold more had c
// not been reserved — all of c while it was in debt, less once refills
// since reached its burst — so that nothing reaches the backend sooner
// than had those reads not been made.
func (b *Budget) release(hold uint64, c Cost, unwaited time.Duration) {
	if hold == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls.release(hold, float64(c.Calls))
	b.old.release(hold, float64(c.Points-c.RecentPoints))
	b.fresh.release(hold, float64(c.RecentPoints))
	b.used.Calls -= c.Calls
	b.used.Points -= c.Points
	b.used.RecentPoints -= c.RecentPoints
	b.used.Waited -= unwaited
}

func (b *Budget) throttled() {
	b.mu.Lock()
	b.used.Throttled++
	b.mu.Unlock()
}

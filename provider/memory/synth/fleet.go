package synth

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// MaxSize is the most resources a Fleet may have.
const MaxSize = 1_000_000_000

// Class is the behaviour a resource's generated CPU follows.
type Class uint8

// The classes, in the order Mix lists them.
const (
	// ClassIdle: CPU between 0.2 % and 2.2 %, the shape's texture scaled
	// into that band. A detector should call it idle.
	ClassIdle Class = iota
	// ClassBusy: CPU between 30 % and 85 %. Never idle.
	ClassBusy
	// ClassDaily: busy (25–75 % CPU) for 8 to 12 hours every day from a
	// seeded hour between 06:00 and 10:00 UTC, near idle (0.3–1.8 %) the
	// rest of the day: a candidate for a schedule, not for a stop.
	ClassDaily
	// ClassWeekly: near idle except one 4-hour window a week (60–95 % CPU)
	// at a seeded hour of the week: a weekly batch job, idle 98 % of the
	// time yet in use.
	ClassWeekly
	numClasses
)

// String returns the class's name: idle, busy, daily or weekly.
func (c Class) String() string {
	switch c {
	case ClassIdle:
		return "idle"
	case ClassBusy:
		return "busy"
	case ClassDaily:
		return "daily"
	case ClassWeekly:
		return "weekly"
	}
	return "class(" + strconv.Itoa(int(c)) + ")"
}

// Mix is the share of each Class in a fleet; the shares are finite, ≥ 0
// and sum to 1. The zero value means DefaultMix.
type Mix struct {
	// Idle is the share of ClassIdle.
	Idle float64 `json:"idle" yaml:"idle"`
	// Busy is the share of ClassBusy.
	Busy float64 `json:"busy" yaml:"busy"`
	// Daily is the share of ClassDaily.
	Daily float64 `json:"daily" yaml:"daily"`
	// Weekly is the share of ClassWeekly.
	Weekly float64 `json:"weekly" yaml:"weekly"`
}

// DefaultMix is 30 % idle, 40 % busy, 20 % daily and 10 % weekly.
func DefaultMix() Mix { return Mix{Idle: 0.3, Busy: 0.4, Daily: 0.2, Weekly: 0.1} }

func (m Mix) shares() [numClasses]float64 {
	return [numClasses]float64{m.Idle, m.Busy, m.Daily, m.Weekly}
}

// Validate checks the shares; the error names the first wrong one.
func (m Mix) Validate() error {
	sum := 0.0
	for c, v := range m.shares() {
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 {
			return provider.Invalid("mix."+Class(c).String(), v, "must be a finite share ≥ 0")
		}
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		return provider.Invalid("mix", fmt.Sprintf("%+v", m), fmt.Sprintf("the shares must sum to 1, not %g", sum))
	}
	return nil
}

// Config describes a generated fleet. Size, Shapes and Start are required.
type Config struct {
	// Size is the number of resources, in [1, MaxSize].
	Size int `json:"size" yaml:"size"`
	// Seed selects the fleet: the same Config gives the same resources
	// and series.
	Seed uint64 `json:"seed" yaml:"seed"`
	// Shapes are real traces whose texture the series follow, all on one
	// Step, which becomes the fleet's native resolution; gaps in them are
	// gaps in the series. Each needs a value that is not a gap. The fleet
	// copies them, normalised to [0, 1] (a flat shape normalises to 0).
	Shapes []provider.Series `json:"-" yaml:"-"`
	// Start is every resource's launch time and the start of its data.
	Start time.Time `json:"start" yaml:"start"`
	// Mix is the share of each Class. Default: DefaultMix().
	Mix Mix `json:"mix,omitzero" yaml:"mix,omitempty"`
	// Prefix starts every ID; the index follows, zero-padded to the width
	// of Size-1, so that IDs sort as indices do. The IDs must be valid
	// (provider.ValidateID): no white space or control characters, and
	// room for the digits within provider.MaxIDLength. Default: "i-".
	Prefix string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
	// Name is the provider name of the resources. Default: "synth".
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Region is the region of the resources. Default: none.
	Region string `json:"region,omitempty" yaml:"region,omitempty"`
}

// Validate reports the first invalid field as an error matching
// provider.ErrInvalid that names it.
func (c Config) Validate() error {
	if c.Size < 1 || c.Size > MaxSize {
		return provider.Invalid("size", c.Size, fmt.Sprintf("must be in [1, %d]", MaxSize))
	}
	if len(c.Shapes) == 0 {
		return provider.Invalid("shapes", 0, "need at least one real trace")
	}
	for i, s := range c.Shapes {
		field := fmt.Sprintf("shapes[%d]", i)
		if err := s.Validate(); err != nil {
			return provider.Within(field, err)
		}
		if s.Step != c.Shapes[0].Step {
			return provider.Invalid(field+".step", s.Step, "must equal shapes[0].step "+c.Shapes[0].Step.String())
		}
		if len(s.Values) == s.Gaps() {
			return provider.Invalid(field+".values", len(s.Values), "need a value that is not a gap")
		}
	}
	if c.Start.IsZero() {
		return provider.Invalid("start", c.Start, "must be set")
	}
	if y := c.Start.Year(); y < 1970 || y > 2200 {
		return provider.Invalid("start", c.Start.Format(time.RFC3339), "must be in [1970, 2200]")
	}
	if c.Mix != (Mix{}) {
		if err := c.Mix.Validate(); err != nil {
			return err
		}
	}
	if c.Prefix != "" {
		// The widest ID: the prefix and as many digits as Size−1 has.
		width := len(strconv.Itoa(c.Size - 1))
		if len(c.Prefix)+width > provider.MaxIDLength {
			return provider.Invalid("prefix", c.Prefix[:32]+"…", fmt.Sprintf("must leave room for the %d digits of the IDs within %d bytes (provider.MaxIDLength)", width, provider.MaxIDLength))
		}
		if err := provider.ValidateID(c.Prefix + "0"); err != nil {
			return provider.Invalid("prefix", c.Prefix, "must start valid resource IDs")
		}
	}
	return nil
}

// Option wires a collaborator of a Fleet.
type Option func(*Fleet)

// WithClock sets the clock that decides which steps are visible: steps
// starting after its now are gaps until it reaches them. Default: the
// wall clock (also for nil). *clock.Mock from github.com/benbjohnson/clock
// satisfies it; New refuses a nil one.
func WithClock(c clock.Clock) Option {
	return func(f *Fleet) {
		if c != nil {
			f.clk = c
		}
	}
}

// Fleet is a read-only fleet of Config.Size instances whose resources and
// metric series are computed on demand from the fleet's seed, the
// resource's index and the shapes: it stores nothing per resource. It
// implements provider.Inventory, provider.MetricsSource and the batch
// reads provider.ResourceBatcher and provider.MetricsBatcher, and is safe
// for concurrent use.
type Fleet struct {
	cfg        Config
	clk        clock.Clock
	step       time.Duration
	origin     time.Time   // the start of native step 0: Start rounded up to the step
	shapes     [][]float64 // normalised to [0, 1], gaps kept
	thresholds [numClasses - 1]uint64
	width      int
	mixOffset  uint64
}

var (
	_ provider.Inventory       = (*Fleet)(nil)
	_ provider.MetricsSource   = (*Fleet)(nil)
	_ provider.MetricsBatcher  = (*Fleet)(nil)
	_ provider.ResourceBatcher = (*Fleet)(nil)
	_ provider.Namer           = (*Fleet)(nil)
)

// New returns the fleet cfg describes; the error names an invalid field.
func New(cfg Config, opts ...Option) (*Fleet, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("synth: %w", err)
	}
	if cfg.Mix == (Mix{}) {
		cfg.Mix = DefaultMix()
	}
	if cfg.Prefix == "" {
		cfg.Prefix = "i-"
	}
	if cfg.Name == "" {
		cfg.Name = "synth"
	}
	f := &Fleet{clk: clock.Real{}, step: cfg.Shapes[0].Step, width: len(strconv.Itoa(cfg.Size - 1))}
	f.origin = cfg.Start.Truncate(f.step)
	if f.origin.Before(cfg.Start) {
		f.origin = f.origin.Add(f.step)
	}
	for _, s := range cfg.Shapes {
		f.shapes = append(f.shapes, normalise(s.Values))
	}
	cfg.Shapes = nil // copied
	f.cfg = cfg
	cum := 0.0
	shares := cfg.Mix.shares()
	for c := range f.thresholds {
		cum += shares[c]
		f.thresholds[c] = fraction64(cum)
	}
	f.mixOffset = splitmix(cfg.Seed ^ 0x6d69786f6666)
	for _, o := range opts {
		o(f)
	}
	if nilcheck.Is(f.clk) { // a nil *clock.Mock: not the default, and would panic
		return nil, fmt.Errorf("synth: %w", provider.Invalid("clock", fmt.Sprintf("%T", f.clk), "must not be a nil pointer"))
	}
	return f, nil
}

// fraction64 returns x·2⁶⁴, saturating at the largest uint64.
func fraction64(x float64) uint64 {
	if x >= 1 {
		return math.MaxUint64
	}
	return uint64(x * (1 << 63) * 2)
}

func normalise(v []float64) []float64 {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, x := range v {
		if !provider.IsGap(x) {
			lo, hi = min(lo, x), max(hi, x)
		}
	}
	// Halved when the range overflows (finite values far apart): the
	// ratio is the same.
	scale := 1.0
	if math.IsInf(hi-lo, 0) {
		scale = 0.5
	}
	out := make([]float64, len(v))
	for i, x := range v {
		switch {
		case provider.IsGap(x):
			out[i] = provider.Gap
		case hi > lo:
			out[i] = (x*scale - lo*scale) / (hi*scale - lo*scale)
		}
	}
	return out
}

// Name returns the provider name, Config.Name (default "synth").
func (f *Fleet) Name() string { return f.cfg.Name }

// Len returns the number of resources.
func (f *Fleet) Len() int { return f.cfg.Size }

// Step returns the native resolution of the series, the shapes' step.
func (f *Fleet) Step() time.Duration { return f.step }

// Metrics returns the metrics the fleet generates; every other metric
// reads as gaps.
func Metrics() []provider.Metric {
	return []provider.Metric{provider.MetricCPU, provider.MetricMemory, provider.MetricNetworkUtilization, provider.MetricDiskUtilization}
}

// ID returns the ID of resource i, in [0, Len()).
func (f *Fleet) ID(i int) string {
	s := strconv.Itoa(i)
	if pad := f.width - len(s); pad > 0 {
		return f.cfg.Prefix + "0000000000"[:pad] + s
	}
	return f.cfg.Prefix + s
}

// Index returns the index of the resource id and whether it is one of the
// fleet's.
func (f *Fleet) Index(id string) (int, bool) {
	if len(id) != len(f.cfg.Prefix)+f.width || id[:len(f.cfg.Prefix)] != f.cfg.Prefix {
		return 0, false
	}
	i := 0
	for _, r := range id[len(f.cfg.Prefix):] {
		if r < '0' || r > '9' {
			return 0, false
		}
		i = 10*i + int(r-'0')
	}
	return i, i < f.cfg.Size
}

// Class returns the class of resource i, in [0, Len()). The classes are
// spread over the indices by a low-discrepancy sequence, so every range of
// indices holds them in close to the Mix's shares.
func (f *Fleet) Class(i int) Class {
	x := uint64(i)*0x9e3779b97f4a7c15 + f.mixOffset
	for c, t := range f.thresholds {
		if x < t {
			return Class(c)
		}
	}
	return numClasses - 1
}

var hourlyCosts = [...]float64{0.0116, 0.0464, 0.096, 0.192, 0.384, 0.768}

// Resource returns resource i, in [0, Len()): a running instance launched
// at Config.Start.
func (f *Fleet) Resource(i int) provider.Resource {
	return provider.Resource{
		ID: f.ID(i), Kind: provider.KindInstance, Provider: f.cfg.Name, Region: f.cfg.Region,
		State: provider.StateRunning, LaunchTime: f.cfg.Start,
		HourlyCost: hourlyCosts[splitmix(f.cfg.Seed^uint64(i)^0x636f7374)%uint64(len(hourlyCosts))],
	}
}

// List implements provider.Inventory: the resources matching flt, sorted
// by ID. A filter with IDs looks them up; any other builds every resource.
func (f *Fleet) List(ctx context.Context, flt provider.Filter) (_ []provider.Resource, err error) {
	defer redact.Errorp(&err)
	if err := flt.Validate(); err != nil {
		return nil, fmt.Errorf("synth: list: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("synth: list: %w", err)
	}
	out := []provider.Resource{}
	if len(flt.IDs) > 0 {
		var idx []int
		for _, id := range flt.IDs {
			if i, ok := f.Index(id); ok {
				idx = append(idx, i)
			}
		}
		slices.Sort(idx)
		for _, i := range slices.Compact(idx) {
			if r := f.Resource(i); flt.Match(r) {
				out = append(out, r)
			}
		}
		return out, nil
	}
	for i := range f.cfg.Size {
		if i%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("synth: list: %w", err)
			}
		}
		if r := f.Resource(i); flt.Match(r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// Get implements provider.Inventory: an ID that is not the fleet's is
// provider.ErrNotFound, a malformed one provider.ErrInvalid.
func (f *Fleet) Get(ctx context.Context, id string) (_ provider.Resource, err error) {
	defer redact.Errorp(&err)
	if err := provider.ValidateID(id); err != nil {
		return provider.Resource{}, fmt.Errorf("synth: get: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return provider.Resource{}, fmt.Errorf("synth: get: %w", err)
	}
	i, ok := f.Index(id)
	if !ok {
		return provider.Resource{}, fmt.Errorf("synth: get %q: %w", id, provider.ErrNotFound)
	}
	return f.Resource(i), nil
}

// GetResources implements provider.ResourceBatcher: every read is
// answered as Get would answer it.
func (f *Fleet) GetResources(ctx context.Context, reads []provider.ResourceRead) error {
	for i := range reads {
		reads[i].Resource, reads[i].Err = f.Get(ctx, reads[i].ID)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("synth: get resources: %w", err)
	}
	return nil
}

// QueryMetric implements provider.MetricsSource. The series of a metric
// the fleet does not generate (see Metrics) is gaps, as are steps before
// Config.Start and after the clock's now; an unknown resource is
// provider.ErrNotFound.
func (f *Fleet) QueryMetric(ctx context.Context, q provider.Query) (provider.Series, error) {
	var scratch []float64
	return f.query(ctx, q, f.clk.Now(), nil, &scratch)
}

// QueryMetrics implements provider.MetricsBatcher: every read is answered
// as QueryMetric would answer it, its values written into the capacity of
// the read's Series.Values, at one time of the clock.
func (f *Fleet) QueryMetrics(ctx context.Context, reads []provider.MetricRead) error {
	var scratch []float64
	now := f.clk.Now() // one time for the whole batch
	for i := range reads {
		r := &reads[i]
		dst := r.Series.Values[:0]
		r.Series, r.Err = f.query(ctx, r.Query, now, dst, &scratch)
		if r.Err != nil {
			r.Series = provider.Series{Values: dst}
		}
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("synth: query metrics: %w", err)
	}
	return nil
}

// query answers q as of now.
func (f *Fleet) query(ctx context.Context, q provider.Query, now time.Time, dst []float64, scratch *[]float64) (_ provider.Series, err error) {
	defer redact.Errorp(&err)
	if err := q.Validate(); err != nil {
		return provider.Series{}, fmt.Errorf("synth: query metric: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return provider.Series{}, fmt.Errorf("synth: query metric: %w", err)
	}
	i, ok := f.Index(q.ResourceID)
	if !ok {
		return provider.Series{}, fmt.Errorf("synth: query metric %q: %w", q.ResourceID, provider.ErrNotFound)
	}
	out := provider.Series{ResourceID: q.ResourceID, Metric: q.Metric, Start: q.Start, Step: q.Step}
	out.Values = f.resample(dst, f.generator(i, q.Metric), q, now, scratch)
	return out, nil
}

// resample reduces the native series g onto the grid of q, using only the
// native steps that start at or before now, as memory.Cloud reduces a
// stored series, into dst's capacity.
func (f *Fleet) resample(dst []float64, g generator, q provider.Query, now time.Time, scratch *[]float64) []float64 {
	n := q.Steps()
	out := slices.Grow(dst[:0], n)[:n]
	step := f.step
	// firstAt returns the first native step starting at or after the
	// offset d from the origin, clamped to ≥ 0.
	firstAt := func(d time.Duration) int64 {
		if d <= 0 {
			return 0
		}
		k := d / step
		if d%step != 0 {
			k++
		}
		return int64(k)
	}
	limit := q.End
	if v := now.Add(time.Nanosecond); v.Before(limit) {
		limit = v
	}
	end := firstAt(limit.Sub(f.origin))
	base := q.Start.Sub(f.origin)
	if g.m == nil {
		for k := range out {
			out[k] = provider.Gap
		}
		return out
	}
	if q.Step == step && base%step == 0 && (q.Statistic == "" || q.Statistic == provider.StatMean ||
		q.Statistic == provider.StatMax || q.Statistic == provider.StatMin || q.Statistic == provider.StatLast) {
		off := int64(base / step)
		for k := range out {
			if j := off + int64(k); j >= 0 && j < end {
				out[k] = g.at(j)
			} else {
				out[k] = provider.Gap
			}
		}
		return out
	}
	buf := (*scratch)[:0]
	var red []float64
	for k := range out {
		from := base + time.Duration(k)*q.Step
		lo, hi := firstAt(from), min(firstAt(from+q.Step), end)
		buf = buf[:0]
		for j := lo; j < hi; j++ {
			buf = append(buf, g.at(j))
		}
		out[k], red = provider.Reduce(q.Statistic, buf, red)
	}
	*scratch = buf
	return out
}

// generator computes native step j of one metric of one resource.
type generator struct {
	f *Fleet
	p params
	m *metricGen
}

type metricGen struct {
	metric func(cpu, mem float64) float64
	mem    bool // needs the memory shape
}

var gens = map[provider.Metric]*metricGen{
	provider.MetricCPU:                {metric: func(cpu, _ float64) float64 { return cpu }},
	provider.MetricNetworkUtilization: {metric: func(cpu, _ float64) float64 { return 0.002 + 0.5*cpu }},
	provider.MetricDiskUtilization:    {metric: func(cpu, _ float64) float64 { return 0.001 + 0.3*cpu }},
	provider.MetricMemory:             {metric: func(_, mem float64) float64 { return mem }, mem: true},
}

// params are resource i's seeded parameters.
type params struct {
	class          Class
	shape, shape2  int
	phase, phase2  int64
	onFrom, onLen  int64   // daily: the busy hours of the day, UTC
	weekFrom       int64   // weekly: the first busy hour of the week
	memBase, memAt float64 // memory's level, and its rise while active
	memTex         float64 // the memory shape's weight
}

func (f *Fleet) params(i int) params {
	h := splitmix(f.cfg.Seed ^ uint64(i)*0xbf58476d1ce4e5b9)
	h2 := splitmix(h)
	h3 := splitmix(h2)
	p := params{class: f.Class(i)}
	p.shape = int(h % uint64(len(f.shapes)))
	p.shape2 = int(h2 % uint64(len(f.shapes)))
	p.phase = int64((h >> 20) % uint64(len(f.shapes[p.shape])))
	p.phase2 = int64((h2 >> 20) % uint64(len(f.shapes[p.shape2])))
	p.onFrom = 6 + int64(h3%5)
	p.onLen = 8 + int64((h3>>8)%5)
	p.weekFrom = int64((h3 >> 16) % 168)
	switch p.class {
	case ClassIdle:
		p.memBase, p.memTex = 0.03, 0.05
	case ClassBusy:
		p.memBase, p.memTex = 0.5, 0.1
	default:
		p.memBase, p.memAt, p.memTex = 0.03, 0.3, 0.05
	}
	return p
}

func (f *Fleet) generator(i int, m provider.Metric) generator {
	return generator{f: f, p: f.params(i), m: gens[m]}
}

// at returns native step j (≥ 0) of the metric.
func (g generator) at(j int64) float64 {
	sh := g.f.shapes[g.p.shape]
	u := sh[(j+g.p.phase)%int64(len(sh))]
	if provider.IsGap(u) {
		return provider.Gap
	}
	lo, hi := 0.0, 0.0
	active := 0.0
	switch g.p.class {
	case ClassIdle:
		lo, hi = 0.002, 0.022
	case ClassBusy:
		lo, hi, active = 0.30, 0.85, 1
	case ClassDaily:
		hod := g.f.hourAt(j) % 24
		if (hod-g.p.onFrom+24)%24 < g.p.onLen {
			lo, hi, active = 0.25, 0.75, 1
		} else {
			lo, hi = 0.003, 0.018
		}
	case ClassWeekly:
		how := g.f.hourAt(j) % 168
		if (how-g.p.weekFrom+168)%168 < 4 {
			lo, hi, active = 0.60, 0.95, 1
		} else {
			lo, hi = 0.002, 0.017
		}
	}
	cpu := lo + (hi-lo)*u
	mem := 0.0
	if g.m.mem {
		sh2 := g.f.shapes[g.p.shape2]
		u2 := sh2[(j+g.p.phase2)%int64(len(sh2))]
		if provider.IsGap(u2) {
			return provider.Gap
		}
		mem = g.p.memBase + g.p.memAt*active + g.p.memTex*u2
	}
	return g.m.metric(cpu, mem)
}

// hourAt returns the hours since the Unix epoch at the start of native
// step j (the epoch began a Thursday, 00:00 UTC).
func (f *Fleet) hourAt(j int64) int64 {
	ns := f.origin.UnixNano() + j*int64(f.step)
	return ns / int64(time.Hour)
}

// splitmix is SplitMix64's finaliser: a fast, well-mixed hash of x.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

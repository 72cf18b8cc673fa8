package scaling

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// The VerticalConfig defaults: Kubernetes' Vertical Pod Autoscaler's
// (p90 target, 15 % safety margin, 24 h half-life of the usage histogram,
// 8 days of history) and AWS Lambda's limits.
const (
	DefaultVerticalPercentile = 0.9
	DefaultVerticalMargin     = 0.15
	DefaultVerticalHalfLife   = 24 * time.Hour
	DefaultVerticalLookback   = 8 * 24 * time.Hour
	DefaultVerticalStep       = 5 * time.Minute
	DefaultVerticalMinChange  = 0.1
	DefaultTimeoutPercentile  = 0.99
	DefaultTimeoutHeadroom    = 0.5
	DefaultMemoryStepMiB      = 64
	LambdaMinMemoryMiB        = 128
	LambdaMaxMemoryMiB        = 10240
	LambdaMaxTimeout          = 900 * time.Second
	// MaxMemoryStepMiB is the largest VerticalConfig.MemoryStepMiB: 1024
	// MiB, leaving about ten sizes between Lambda's 128 and 10,240 MiB. A
	// larger step (65536, a 64 MiB step written in KiB) would round every
	// function up to the largest size.
	MaxMemoryStepMiB = 1024
)

// InstanceType is one entry of a vertical strategy's catalogue.
type InstanceType struct {
	// Name is the provider's size name, such as m5.large. Required.
	Name string `json:"name" yaml:"name"`
	// VCPU is its number of vCPUs (> 0).
	VCPU float64 `json:"vcpu" yaml:"vcpu"`
	// MemoryMiB is its memory (> 0).
	MemoryMiB int `json:"memory_mib" yaml:"memory_mib"`
	// HourlyCost is its price per hour (≥ 0), for choosing the cheapest
	// type that fits and for the plan's cost impact.
	HourlyCost float64 `json:"hourly_cost" yaml:"hourly_cost"`
}

// VerticalConfig configures the vertical strategy: percentile-based sizing
// of instances (choosing a type from a catalogue) and of functions
// (memory and timeout). The zero value means the defaults, except that
// instances need a catalogue.
type VerticalConfig struct {
	// Percentile is the usage quantile sized for, in (0, 1]. Default: 0.9.
	Percentile float64 `json:"percentile,omitempty" yaml:"percentile,omitempty"`
	// Margin is the headroom added to that quantile (≥ 0): the size is
	// quantile × (1 + Margin). Default: 0.15.
	Margin float64 `json:"margin,omitempty" yaml:"margin,omitempty"`
	// HalfLife is the age at which a sample weighs half as much as a new
	// one (a sample stamped after the decision's now weighs as a new
	// one). Default: 24h.
	HalfLife time.Duration `json:"half_life,omitempty" yaml:"half_life,omitempty"`
	// Lookback is how much history is read. Default: 8 days.
	Lookback time.Duration `json:"lookback,omitempty" yaml:"lookback,omitempty"`
	// Step is the metrics' grid step. Default: 5m.
	Step time.Duration `json:"step,omitempty" yaml:"step,omitempty"`
	// MinChange is the smallest relative change worth making (≥ 0): a new
	// function memory or timeout within it of the current one is not
	// recommended, so the size does not flap. Default: 0.1.
	MinChange float64 `json:"min_change,omitempty" yaml:"min_change,omitempty"`
	// InstanceTypes is the catalogue instances are sized from: the
	// types the host allows, with their vCPUs, memory and prices
	// (memory.LookupInstanceType has the in-memory cloud's). Required to
	// size instances.
	InstanceTypes []InstanceType `json:"instance_types,omitempty" yaml:"instance_types,omitempty"`
	// SameFamily keeps an instance in its type's family (the part of the
	// name before the first dot: m5 of m5.large). Default: false.
	SameFamily bool `json:"same_family,omitempty" yaml:"same_family,omitempty"`
	// MemoryStepMiB rounds a function's memory up to a multiple of it, in
	// MiB, at most MaxMemoryStepMiB (1024). Default: 64.
	MemoryStepMiB int `json:"memory_step_mib,omitempty" yaml:"memory_step_mib,omitempty"`
	// TimeoutPercentile is the duration quantile a function's timeout is
	// sized for, in (0, 1]. Default: 0.99.
	TimeoutPercentile float64 `json:"timeout_percentile,omitempty" yaml:"timeout_percentile,omitempty"`
	// TimeoutHeadroom is added to that quantile (≥ 0): the timeout is
	// quantile × (1 + TimeoutHeadroom), in whole seconds. Default: 0.5.
	TimeoutHeadroom float64 `json:"timeout_headroom,omitempty" yaml:"timeout_headroom,omitempty"`
}

// Validate returns an error matching provider.ErrInvalid naming the first
// wrong field.
func (c VerticalConfig) Validate() error {
	switch {
	case !finite(c.Percentile) || c.Percentile < 0 || c.Percentile > 1:
		return provider.Invalid("percentile", c.Percentile, fmt.Sprintf("must be in (0, 1] (0 means the default %g)", DefaultVerticalPercentile))
	case !finite(c.Margin) || c.Margin < 0:
		return provider.Invalid("margin", c.Margin, "must be a finite number ≥ 0")
	case c.HalfLife < 0:
		return provider.Invalid("half_life", c.HalfLife, "must be ≥ 0")
	case c.Lookback < 0:
		return provider.Invalid("lookback", c.Lookback, "must be ≥ 0")
	case c.Step < 0:
		return provider.Invalid("step", c.Step, "must be ≥ 0")
	case !finite(c.MinChange) || c.MinChange < 0:
		return provider.Invalid("min_change", c.MinChange, "must be a finite number ≥ 0")
	case c.MemoryStepMiB < 0:
		return provider.Invalid("memory_step_mib", c.MemoryStepMiB, "must be ≥ 0")
	case c.MemoryStepMiB > MaxMemoryStepMiB:
		return provider.Invalid("memory_step_mib", c.MemoryStepMiB, fmt.Sprintf("must be at most %d MiB (a step in MiB, not KiB): a larger one rounds every function up to %d MiB", MaxMemoryStepMiB, LambdaMaxMemoryMiB))
	case !finite(c.TimeoutPercentile) || c.TimeoutPercentile < 0 || c.TimeoutPercentile > 1:
		return provider.Invalid("timeout_percentile", c.TimeoutPercentile, fmt.Sprintf("must be in (0, 1] (0 means the default %g)", DefaultTimeoutPercentile))
	case !finite(c.TimeoutHeadroom) || c.TimeoutHeadroom < 0:
		return provider.Invalid("timeout_headroom", c.TimeoutHeadroom, "must be a finite number ≥ 0")
	}
	d := c.withDefaults()
	if d.Step > d.Lookback {
		return provider.Invalid("step", d.Step, "must be ≤ lookback")
	}
	seen := map[string]bool{}
	for i, t := range c.InstanceTypes {
		field := fmt.Sprintf("instance_types[%d]", i)
		switch {
		case t.Name == "":
			return provider.Invalid(field+".name", "", "is required")
		case seen[t.Name]:
			return provider.Invalid(field+".name", t.Name, "duplicate instance type")
		case !finite(t.VCPU) || t.VCPU <= 0:
			return provider.Invalid(field+".vcpu", t.VCPU, "must be > 0")
		case t.MemoryMiB <= 0:
			return provider.Invalid(field+".memory_mib", t.MemoryMiB, "must be > 0")
		case !finite(t.HourlyCost) || t.HourlyCost < 0:
			return provider.Invalid(field+".hourly_cost", t.HourlyCost, "must be ≥ 0")
		}
		seen[t.Name] = true
	}
	return nil
}

func (c VerticalConfig) withDefaults() VerticalConfig {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Percentile, DefaultVerticalPercentile)
	def(&c.Margin, DefaultVerticalMargin)
	def(&c.MinChange, DefaultVerticalMinChange)
	def(&c.TimeoutPercentile, DefaultTimeoutPercentile)
	def(&c.TimeoutHeadroom, DefaultTimeoutHeadroom)
	if c.HalfLife == 0 {
		c.HalfLife = DefaultVerticalHalfLife
	}
	if c.Lookback == 0 {
		c.Lookback = DefaultVerticalLookback
	}
	if c.Step == 0 {
		c.Step = DefaultVerticalStep
	}
	if c.MemoryStepMiB == 0 {
		c.MemoryStepMiB = DefaultMemoryStepMiB
	}
	return c
}

// Vertical sizes a resource from the weighted percentiles of its usage
// over the lookback (a series that covers more is read from Now −
// Lookback on), each sample weighing 2^(−age/HalfLife), at most 1 (a
// sample stamped after Now, by a metrics source whose clock is ahead,
// weighs as a new one):
//
//   - an instance (or database) gets the cheapest catalogue type with at
//     least p(cpu) × its vCPUs × (1 + Margin) vCPUs and p(memory) × its
//     memory × (1 + Margin) memory (cpu and memory are utilizations);
//   - a function gets p(memory) × its memory × (1 + Margin) rounded up to
//     MemoryStepMiB, and p99(duration) × (1 + TimeoutHeadroom) as its
//     timeout in whole seconds, within Lambda's limits (128–10,240 MiB,
//     1–900 s).
//
// A function's memory or timeout changes only by at least MinChange (a
// function without a timeout gets one). A usage that is negative or
// infinite is an error naming the metric and step, and so is an
// instance's vCPU count that is not finite (target.resource.size.vcpu). A resource whose
// current size is unknown keeps it, since usage is a share of that size:
// an instance whose type is not in the catalogue and whose vCPUs or
// memory the provider did not report, a function without memory.
//
// Its fitness is 0.9 times the share of the lookback covered by data:
// cpu's for an instance, memory's for a function, or its duration's when
// it has no memory data (as AWS publishes none without Lambda Insights,
// so that a function sized on its duration alone is not "no opinion"). It
// is safe for concurrent use.
type Vertical struct {
	cfg     VerticalConfig
	catalog map[string]InstanceType
}

var (
	_ Strategy     = (*Vertical)(nil)
	_ MetricNeeder = (*Vertical)(nil)
)

// NewVertical returns a Vertical strategy for cfg, or an error matching
// provider.ErrInvalid naming the wrong field.
func NewVertical(cfg VerticalConfig) (*Vertical, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("scaling: vertical: %w", err)
	}
	cfg = cfg.withDefaults()
	cfg.InstanceTypes = slices.Clone(cfg.InstanceTypes)
	v := &Vertical{cfg: cfg, catalog: map[string]InstanceType{}}
	for _, t := range cfg.InstanceTypes {
		v.catalog[t.Name] = t
	}
	return v, nil
}

// Needs implements MetricNeeder: cpu and memory utilization (instances)
// and memory and duration (functions) over the lookback. A target reads
// the ones its kind has.
func (s *Vertical) Needs() []Need {
	return []Need{s.need(provider.MetricCPU), s.need(provider.MetricMemory), s.need(provider.MetricDuration)}
}

// need is the strategy's Need of metric m: its peaks over the lookback.
func (s *Vertical) need(m provider.Metric) Need {
	return Need{Metric: m, Statistic: provider.StatMax, Step: s.cfg.Step, Lookback: s.cfg.Lookback}
}

// Recommend implements Strategy.
func (s *Vertical) Recommend(_ context.Context, st State) (Recommendation, error) {
	r := st.Target.Resource
	var reads [2]provider.Metric
	switch r.Kind {
	case provider.KindFunction:
		reads = [2]provider.Metric{provider.MetricMemory, provider.MetricDuration}
	case provider.KindInstance, provider.KindDatabase:
		if !finite(r.Size.VCPU) {
			// NaN passes every comparison with the catalogue's vCPUs:
			// the cheapest type would be taken, however busy.
			return Recommendation{}, fmt.Errorf("scaling: vertical: %w", provider.Invalid("target.resource.size.vcpu", r.Size.VCPU, "must be a finite number"))
		}
		reads = [2]provider.Metric{provider.MetricCPU, provider.MetricMemory}
	default:
		return Recommendation{}, fmt.Errorf("scaling: vertical: %w", provider.Invalid("target.resource.kind", r.Kind, "the vertical strategy sizes instances, databases and functions"))
	}
	for _, m := range reads {
		n := s.need(m)
		i, err := st.seriesIndex(&n)
		if err == nil && i >= 0 {
			err = checkUsage(&st.Metrics[i], m, st.Now.Add(-s.cfg.Lookback))
		}
		if err != nil {
			return Recommendation{}, fmt.Errorf("scaling: vertical: %w", err)
		}
	}
	if r.Kind == provider.KindFunction {
		return s.function(st), nil
	}
	return s.instance(st), nil
}

func (s *Vertical) instance(st State) Recommendation {
	cur := st.Target.Resource.Size
	if t, ok := s.catalog[cur.InstanceType]; ok {
		cur.VCPU, cur.MemoryMiB = t.VCPU, t.MemoryMiB
	}
	keepSize := func(reason string, fitness float64) Recommendation {
		return Recommendation{Reason: reason, Fitness: fitness}
	}
	if len(s.catalog) == 0 {
		return keepSize("no instance type catalogue", 0)
	}
	if cur.VCPU <= 0 {
		return keepSize(fmt.Sprintf("the size of %q is unknown", cur.InstanceType), 0)
	}
	if cur.MemoryMiB <= 0 {
		// Memory use is a share of the memory: without it the memory
		// needed is unknown, and a smaller type could not hold it.
		return keepSize(fmt.Sprintf("the memory of %q is unknown", cur.InstanceType), 0)
	}
	cpuQ, cpuCov, ok := s.quantile(st, provider.MetricCPU, s.cfg.Percentile)
	if !ok {
		rec := keepSize("no cpu data", 0)
		rec.NoData = true
		return rec
	}
	needCPU := cpuQ * cur.VCPU * (1 + s.cfg.Margin)
	needMem := float64(cur.MemoryMiB) // without memory data, keep at least the current memory
	inputs := []Input{{Name: fmt.Sprintf("cpu p%g", 100*s.cfg.Percentile), Value: cpuQ, Unit: "fraction"}, {Name: "vcpu needed", Value: needCPU}}
	if memQ, _, ok := s.quantile(st, provider.MetricMemory, s.cfg.Percentile); ok {
		needMem = memQ * float64(cur.MemoryMiB) * (1 + s.cfg.Margin)
		inputs = append(inputs, Input{Name: fmt.Sprintf("memory p%g", 100*s.cfg.Percentile), Value: memQ, Unit: "fraction"})
	}
	inputs = append(inputs, Input{Name: "memory needed", Value: needMem, Unit: "MiB"})
	best, found := InstanceType{}, false
	for _, t := range s.cfg.InstanceTypes {
		if s.cfg.SameFamily && family(t.Name) != family(cur.InstanceType) {
			continue
		}
		if t.VCPU < needCPU || float64(t.MemoryMiB) < needMem {
			continue
		}
		if !found || t.HourlyCost < best.HourlyCost || t.HourlyCost == best.HourlyCost && (t.VCPU < best.VCPU || t.VCPU == best.VCPU && t.Name < best.Name) {
			best, found = t, true
		}
	}
	fitness := 0.9 * cpuCov
	if !found {
		rec := keepSize(fmt.Sprintf("no catalogue type has %.2f vCPU and %.0f MiB", needCPU, needMem), fitness)
		rec.Inputs = inputs
		return rec
	}
	rec := Recommendation{Inputs: inputs, Fitness: fitness}
	if best.Name == cur.InstanceType {
		rec.Reason = fmt.Sprintf("%s fits: needs %.2f vCPU, %.0f MiB", best.Name, needCPU, needMem)
		return rec
	}
	rec.Size = provider.Size{InstanceType: best.Name, VCPU: best.VCPU, MemoryMiB: best.MemoryMiB}
	if curType, ok := s.catalog[cur.InstanceType]; ok {
		rec.Inputs = append(rec.Inputs, Input{Name: "cost per hour change", Value: best.HourlyCost - curType.HourlyCost})
	}
	rec.Reason = fmt.Sprintf("%s → %s: needs %.2f vCPU, %.0f MiB (p%g × (1 + %g))", cur.InstanceType, best.Name, needCPU, needMem, 100*s.cfg.Percentile, s.cfg.Margin)
	return rec
}

func (s *Vertical) function(st State) Recommendation {
	cur := st.Target.Resource.Size
	if cur.MemoryMiB <= 0 {
		// Usage is a share of the memory: without it there is no size
		// to scale, and a size without memory is not a function's.
		return Recommendation{Reason: "the function's memory is unknown"}
	}
	next := cur
	var (
		reasons []string
		inputs  []Input
		fitness float64
	)
	if q, cov, ok := s.quantile(st, provider.MetricMemory, s.cfg.Percentile); ok {
		need := q * float64(cur.MemoryMiB) * (1 + s.cfg.Margin)
		// Bounded before the conversion: int of a float beyond the int
		// range is undefined (math.MinInt64 on amd64, the minimum).
		step := float64(s.cfg.MemoryStepMiB)
		mem := clampInt(int(min(math.Ceil(need/step)*step, LambdaMaxMemoryMiB)), LambdaMinMemoryMiB, LambdaMaxMemoryMiB)
		inputs = append(inputs, Input{Name: fmt.Sprintf("memory p%g", 100*s.cfg.Percentile), Value: q, Unit: "fraction"}, Input{Name: "memory needed", Value: need, Unit: "MiB"})
		if relChange(float64(mem), float64(cur.MemoryMiB)) >= s.cfg.MinChange {
			next.MemoryMiB = mem
			reasons = append(reasons, fmt.Sprintf("memory %d → %d MiB", cur.MemoryMiB, mem))
		}
		fitness = 0.9 * cov
	}
	if q, cov, ok := s.quantile(st, provider.MetricDuration, s.cfg.TimeoutPercentile); ok {
		if fitness == 0 {
			// Without memory data (AWS publishes none for a function
			// without Lambda Insights) the recommendation rests on the
			// duration alone: its coverage is the fitness.
			fitness = 0.9 * cov
		}
		secs := min(math.Ceil(q*(1+s.cfg.TimeoutHeadroom)), LambdaMaxTimeout.Seconds()) // bounded before the conversion
		timeout := time.Duration(clampInt(int(secs), 1, int(LambdaMaxTimeout/time.Second))) * time.Second
		inputs = append(inputs, Input{Name: fmt.Sprintf("duration p%g", 100*s.cfg.TimeoutPercentile), Value: q, Unit: "s"})
		if cur.Timeout == 0 || relChange(float64(timeout), float64(cur.Timeout)) >= s.cfg.MinChange {
			next.Timeout = timeout
			reasons = append(reasons, fmt.Sprintf("timeout %s → %s", cur.Timeout, timeout))
		}
	}
	rec := Recommendation{Inputs: inputs, Fitness: fitness}
	switch {
	case len(inputs) == 0:
		rec.Reason, rec.NoData = "no memory or duration data", true
	case next == cur:
		rec.Reason = fmt.Sprintf("memory %d MiB and timeout %s fit", cur.MemoryMiB, cur.Timeout)
	default:
		rec.Size = next
		rec.Reason = strings.Join(reasons, ", ")
	}
	return rec
}

// quantile returns the weighted q-quantile of metric m over the State's
// series of the strategy's need of m (State.SeriesFor; Recommend checked
// that the State tells it apart), with weights halving every HalfLife
// of age (a sample after Now has age 0), the share of the lookback with
// data (samples stamped up to Now: one after it covers none of the
// lookback), and whether there was any. It reads the samples of the lookback only: a series may cover
// more (the longest need of the target's strategies of the metric,
// statistic and step).
func (s *Vertical) quantile(st State, m provider.Metric, q float64) (float64, float64, bool) {
	n := s.need(m)
	i, _ := st.seriesIndex(&n)
	if i < 0 {
		return 0, 0, false
	}
	ser := st.Metrics[i]
	type wv struct{ v, w float64 }
	var pts []wv
	var total float64
	covered := 0
	from := st.Now.Add(-s.cfg.Lookback)
	for i, v := range ser.Values {
		if provider.IsGap(v) || ser.TimeAt(i).Before(from) {
			continue
		}
		if !ser.TimeAt(i).After(st.Now) {
			covered++
		}
		// A sample stamped after Now (a source's clock ahead) weighs as
		// a new one: a negative age would weigh it above 1, doubling
		// every HalfLife ahead, until one skewed sample was the
		// quantile whatever the others said.
		age := max(st.Now.Sub(ser.TimeAt(i)), 0)
		w := math.Exp2(-float64(age) / float64(s.cfg.HalfLife))
		pts = append(pts, wv{v, w})
		total += w
	}
	if len(pts) == 0 || total == 0 {
		return 0, 0, false
	}
	slices.SortFunc(pts, func(a, b wv) int { return cmpFloat(a.v, b.v) })
	target := q * total
	acc := 0.0
	for _, p := range pts {
		acc += p.w
		if acc >= target*(1-1e-12) {
			return p.v, coverage(covered, s.cfg.Lookback, s.cfg.Step), true
		}
	}
	return pts[len(pts)-1].v, coverage(covered, s.cfg.Lookback, s.cfg.Step), true
}

// checkUsage returns an error matching provider.ErrInvalid, naming the
// metric m and the step, when ser holds a value that is no usage (a
// utilization, a duration): infinite or negative. Sized from, either made
// Lambda's minimums (128 MiB, a 1 s timeout). It reads the samples from
// from on (the lookback), as the vertical strategy's quantiles do.
func checkUsage(ser *provider.Series, m provider.Metric, from time.Time) error {
	for i, v := range ser.Values {
		switch {
		case ser.TimeAt(i).Before(from):
			continue
		case math.IsInf(v, 0):
			return badValue(ser, m, i, notFinite)
		case v < 0:
			return badValue(ser, m, i, "a usage must be ≥ 0")
		}
	}
	return nil
}

func coverage(n int, lookback, step time.Duration) float64 {
	return math.Min(1, float64(n)/float64(lookback/step))
}

func relChange(next, cur float64) float64 {
	if cur == 0 {
		return math.Inf(1)
	}
	return math.Abs(next-cur) / cur
}

// family returns an instance type's family: m5 of m5.large.
func family(name string) string {
	f, _, _ := strings.Cut(name, ".")
	return f
}

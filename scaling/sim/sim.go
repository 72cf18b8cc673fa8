package sim

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/scaling"
)

// Config is the replay's setting: how much demand an instance serves, how
// long capacity takes to arrive, the bounds and the price. The zero value
// of every field but CapacityPerInstance means its default.
type Config struct {
	// CapacityPerInstance is the demand one instance serves at full
	// utilization, in the demand's unit. Required, > 0.
	CapacityPerInstance float64 `json:"capacity_per_instance"`
	// TargetUtilization is the share of CapacityPerInstance an instance
	// may carry: a step violates the SLO when demand > capacity ×
	// CapacityPerInstance × TargetUtilization. In (0, 1]. Default: 0.6.
	TargetUtilization float64 `json:"target_utilization,omitempty"`
	// LeadTime is the provisioning delay: instances added at a step serve
	// LeadTime later (rounded up to whole steps). Removals take effect at
	// once. ≥ 0. Default: 0 (at once).
	LeadTime time.Duration `json:"lead_time,omitempty"`
	// Min is the lowest capacity, ≥ 0. nil means 1; 0 replays a group
	// that scales to zero, as scaling.TargetConfig's Min does (a group at
	// zero serves nothing: any demand then violates the SLO).
	Min *int `json:"min,omitempty"`
	// Max is the highest capacity; 0 means no bound. ≥ Min when set.
	Max int `json:"max,omitempty"`
	// From is the first replayed step: the steps before it are history
	// the strategies see but the metrics do not count. Zero means the
	// series' start.
	From time.Time `json:"from,omitzero"`
	// CostPerInstanceHour prices capacity. ≥ 0. Default: 1 (cost in
	// instance-hours).
	CostPerInstanceHour float64 `json:"cost_per_instance_hour,omitempty"`
	// Metric is the metric the strategies read the demand as. Default:
	// requests.
	Metric provider.Metric `json:"metric,omitempty"`
	// Utilization is the metric the strategies read the group's
	// utilization as: the demand over what the instances serving carry
	// at full utilization, d_t / (s_t·c), at most 1 as a saturated
	// group's CPU is (before Config.From, where no replay sized the
	// group, s_t is the oracle's). A group scaled to zero is saturated
	// while there is demand, and reports nothing (a gap) while there is
	// none. A strategy that reads it (an HPA or
	// target-tracking policy on CPU) is replayed as it runs on a real
	// group. A utilization metric (a fraction: cpu, memory, ...) or a
	// custom one, other than Metric. Default: cpu, or none when Metric is
	// cpu.
	Utilization provider.Metric `json:"utilization,omitempty"`
	// TargetID is the target's ID in the States, and the target a
	// policy's Limiter reserves for: a valid ratelimit target
	// (ratelimit.ValidateTarget). Default: "sim".
	TargetID string `json:"target_id,omitempty"`
	// MaxStepFraction and MinStep are the host's scaling.EngineConfig
	// ones: the engine plans a change in gradual steps of at most
	// MaxStepFraction of the desired capacity (and at least MinStep
	// instances), and a policy's Gate is asked about each (see
	// Policy.Gate). Defaults: the engine's, 0.5 (the safety gate's
	// gradual rule) and 1.
	MaxStepFraction float64 `json:"max_step_fraction,omitempty"`
	// MinStep is the host's scaling.EngineConfig.MinStep: a change (in
	// instances) always made in one step. ≥ 0. Default: 1.
	MinStep int `json:"min_step,omitempty"`
	// Resource is the group as its provider reports it, which a policy's
	// Gate reads in every proposal as it does the Autoscaler's: its
	// environment, role, tags, criticality and protection (a critical
	// rule), its time zone (business hours). Its ID is TargetID and its
	// Kind group (empty means those; another is refused), its Provider
	// "sim" and its State running when empty. Default: none of its
	// labels.
	Resource provider.Resource `json:"resource,omitzero"`
	// Baselines are the reactive baselines replayed beside the policies.
	// Default: one HPA-like baseline, "reactive" (tolerance 0.1, no
	// headroom). An empty, non-nil slice means none (in JSON, [] is none,
	// null or no field the default).
	Baselines []Baseline `json:"baselines,omitzero"`
	// SkipGaps replays a trace with gaps (NaN) after From: the strategies
	// see them as gaps and the metrics leave those steps out. Default:
	// false, a gap there is an error (ErrGap).
	SkipGaps bool `json:"skip_gaps,omitempty"`
	// KeepSteps keeps every counted step's record in the results
	// (Result.Steps), for charts: with SkipGaps, the gap steps, which the
	// metrics leave out, have none. Default: false (totals only).
	KeepSteps bool `json:"keep_steps,omitempty"`
}

// Baseline is a reactive policy: at every step it sizes the group for
// the last step's demand times (1 + Headroom), and keeps the capacity
// while that demand is within Tolerance of what the capacity carries at
// the target utilization (Kubernetes' HPA rule, tolerance 0.1).
type Baseline struct {
	// Name names the baseline in the results. Required, unique.
	Name string `json:"name"`
	// Headroom is the extra capacity, a share ≥ 0.
	Headroom float64 `json:"headroom,omitempty"`
	// Tolerance is the band of the utilization ratio within which the
	// capacity is kept, in [0, 1).
	Tolerance float64 `json:"tolerance,omitempty"`
}

// defaultTargetUtilization is Config.TargetUtilization's default.
const defaultTargetUtilization = 0.6

// DefaultBaseline is the default baseline: HPA-like, tolerance 0.1.
var DefaultBaseline = Baseline{Name: "reactive", Tolerance: 0.1}

// Validate returns an error matching provider.ErrInvalid naming the
// first wrong field.
func (c Config) Validate() error {
	switch {
	case !finite(c.CapacityPerInstance) || c.CapacityPerInstance <= 0:
		return provider.Invalid("capacity_per_instance", c.CapacityPerInstance, "is required: the demand one instance serves, > 0")
	case !finite(c.TargetUtilization) || c.TargetUtilization < 0 || c.TargetUtilization > 1:
		return provider.Invalid("target_utilization", c.TargetUtilization, "must be in (0, 1]")
	case c.CapacityPerInstance*cmp.Or(c.TargetUtilization, defaultTargetUtilization) == 0:
		// An instance's load underflows to 0: every demand would need
		// infinitely many instances.
		return provider.Invalid("capacity_per_instance", c.CapacityPerInstance,
			fmt.Sprintf("times target_utilization %g is 0 in float64: give the demand and the capacity in a larger unit", cmp.Or(c.TargetUtilization, defaultTargetUtilization)))
	case c.LeadTime < 0:
		return provider.Invalid("lead_time", c.LeadTime, "must be ≥ 0")
	case c.Min != nil && *c.Min < 0:
		return provider.Invalid("min", *c.Min, "must be ≥ 0")
	case c.Max < 0 || c.Max > 0 && c.Max < c.minimum():
		return provider.Invalid("max", c.Max, "must be 0 (no bound) or ≥ min")
	case !finite(c.CostPerInstanceHour) || c.CostPerInstanceHour < 0:
		return provider.Invalid("cost_per_instance_hour", c.CostPerInstanceHour, "must be a finite number ≥ 0")
	}
	if err := c.engine().Validate(); err != nil {
		return err // it names max_step_fraction or min_step
	}
	if c.TargetID != "" {
		// A policy's Limiter reserves under it.
		if err := ratelimit.ValidateTarget("target_id", c.TargetID); err != nil {
			return err
		}
	}
	if r := c.Resource; !reflect.ValueOf(r).IsZero() {
		d := c.withDefaults()
		switch {
		case r.ID != "" && r.ID != d.TargetID:
			return provider.Invalid("resource.id", r.ID, fmt.Sprintf("must be empty or the target_id, %q", d.TargetID))
		case r.Kind != "" && r.Kind != provider.KindGroup:
			return provider.Invalid("resource.kind", r.Kind, "must be empty or group: the simulator replays a group")
		}
		if err := d.Resource.Validate(); err != nil {
			return provider.Within("resource", err)
		}
	}
	for _, m := range []struct {
		field string
		m     provider.Metric
	}{{"metric", c.Metric}, {"utilization", c.Utilization}} {
		if m.m != "" {
			if err := m.m.Validate(); err != nil {
				return provider.Within(m.field, err)
			}
		}
	}
	if u := c.Utilization; u != "" {
		switch d := c.withDefaults(); {
		case u == d.Metric:
			return provider.Invalid("utilization", u, fmt.Sprintf("must differ from metric %s, the demand's", d.Metric))
		case !u.IsUtilization() && !u.IsCustom():
			return provider.Invalid("utilization", u, "must be a utilization metric (a fraction: cpu, memory, ...) or a custom one")
		}
	}
	seen := map[string]bool{OracleName: true}
	for i, b := range c.Baselines {
		f := fmt.Sprintf("baselines[%d]", i)
		if seen[b.Name] {
			return provider.Invalid(f+".name", b.Name, "must be set, unique and not "+OracleName)
		}
		if err := b.validate(); err != nil {
			return provider.Within(f, err)
		}
		seen[b.Name] = true
	}
	return nil
}

// validate returns an error matching provider.ErrInvalid naming the first
// wrong field of b.
func (b Baseline) validate() error {
	switch {
	case b.Name == "" || b.Name == OracleName:
		return provider.Invalid("name", b.Name, "must be set, unique and not "+OracleName)
	case !finite(b.Headroom) || b.Headroom < 0:
		return provider.Invalid("headroom", b.Headroom, "must be a finite number ≥ 0")
	case !finite(b.Tolerance) || b.Tolerance < 0 || b.Tolerance >= 1:
		return provider.Invalid("tolerance", b.Tolerance, "must be in [0, 1)")
	}
	return nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (c Config) withDefaults() Config {
	if c.TargetUtilization == 0 {
		c.TargetUtilization = defaultTargetUtilization
	}
	lo := c.minimum()
	c.Min = &lo // the caller's pointer is not kept
	if c.CostPerInstanceHour == 0 {
		c.CostPerInstanceHour = 1
	}
	if c.Metric == "" {
		c.Metric = provider.MetricRequests
	}
	if c.Utilization == "" && c.Metric != provider.MetricCPU {
		c.Utilization = provider.MetricCPU
	}
	if c.TargetID == "" {
		c.TargetID = "sim"
	}
	c.Resource = c.Resource.Clone() // nor the caller's tags
	c.Resource.ID, c.Resource.Kind = c.TargetID, provider.KindGroup
	c.Resource.Provider = cmp.Or(c.Resource.Provider, "sim")
	c.Resource.State = cmp.Or(c.Resource.State, provider.StateRunning)
	if c.Baselines == nil {
		c.Baselines = []Baseline{DefaultBaseline}
	}
	c.Baselines = slices.Clone(c.Baselines) // nor the caller's array
	return c
}

// engine is the configuration of a replay's engine: the host's steps.
func (c Config) engine() scaling.EngineConfig {
	return scaling.EngineConfig{MaxStepFraction: c.MaxStepFraction, MinStep: c.MinStep}
}

// minimum is Min with its default.
func (c Config) minimum() int {
	if c.Min == nil {
		return scaling.DefaultMin
	}
	return *c.Min
}

// OracleName is the oracle's name in the results.
const OracleName = "oracle"

// Policy is a strategy, or a target's strategies weighed as the engine
// weighs them, replayed by the simulator.
//
// At every step a scaling.Engine decides (Engine.Decide) and keeps the
// History as it does for the Autoscaler: each strategy gets a fresh State
// with the demand so far (Config.Metric), the group's utilization
// (Config.Utilization), the group's capacity (Desired: what it asked
// for; Current: the same, launching instances included; Ready: those
// that served the step before and still serve, the ones the utilization
// was measured on: an instance that has just come into service counts as
// launching for one more step, as Kubernetes' HPA treats a pod within its
// CPU initialization period) and the History of the target's
// recommendations and changes, as much of it as the strategies say they
// read (HistoryWindower; the engine's default HistoryRetention, 2 h, for
// one that does not say). The series are at the demand's step, and a
// strategy reads them as at the step its needs name (a scaling.Predictive
// forecasts at its own Step only; a target value or threshold counts its
// window, and the age of its latest value, which its fitness falls with,
// in its own steps), so Run refuses a strategy whose need names another
// step than the demand's: set the strategy's step to the demand's.
//
// What is replayed is the policy's decisions, and the plan's gradual
// steps as far as the Gate is concerned (see Gate); a change then takes
// effect at once or after Config.LeadTime: the settling and verification
// of each step are not replayed.
//
// Every replay's target is Config.TargetID, so a strategy that keeps
// state per target (a scaling.Predictive keeps its model) or a Limiter
// (its budget) must be a new one for each policy and each Run: one shared
// by two replays would carry one's state into the other. Run refuses a
// Predictive or a Limiter that two of its policies share.
type Policy struct {
	// Name names it in the results. Required, unique.
	Name string
	// Strategy recommends the capacity at every step, as a target's only
	// strategy named Name. Required unless Candidates are given; a
	// policy has one or the other.
	Strategy scaling.Strategy
	// Candidates are a target's strategies, in policy order, weighed at
	// every step as the Autoscaler weighs them: the pinned one (Pinned)
	// or the fittest recommendation is carried out, a strategy that fails
	// is skipped, and each keeps its recommendations in the History under
	// its own name. scaling.TargetConfig.Candidates builds them from a
	// policy file's target; its bounds (TargetConfig.Bounds) are this
	// simulator's Config.Min and Max. Result.Chosen counts the steps on
	// which each was chosen; a step on which none recommends (the pinned
	// one included) stops the replay with the error.
	Candidates []scaling.Candidate
	// Pinned names the candidate carried out whatever the others'
	// fitness (scaling.TargetConfig.Strategy). Empty: the fittest at each
	// step.
	Pinned string
	// Limiter, when set, rate-limits the changes (a *ratelimit.Limiter):
	// every change reserves its units at the step's time; an allowed
	// reservation makes the whole change (or its Granted units when
	// fewer), a clamped one its Granted units, a denied one nothing, as
	// the engine reads them (one granting no unit, allowed or clamped,
	// or a clamped one more than asked, stops the replay with an error
	// naming reservation.granted). A nil pointer is refused (leave
	// it unset for none). The change the Gate lets through is reserved
	// in one request, where the engine reserves each of its plan's steps
	// as it makes them, minutes apart: a budget of events sees one per
	// change here.
	Limiter scaling.Reserver
	// Gate, when set, passes every change through the safety rules (a
	// *safety.Engine), before the limiter, with its side-effect-free
	// Evaluate at the step's time, as the engine passes it: step by step
	// of the plan the engine makes of the change (gradual steps of at
	// most Config.MaxStepFraction of the group, and at least
	// Config.MinStep instances, the host's EngineConfig's), each with
	// the proposal the
	// engine makes of it (Requester scaling.DefaultRequester, the
	// target's resource). The change goes as far as the steps the gate
	// allows before the first it refuses (a decision not allowed, or a
	// *safety.BlockedError of no failure, as scaling.Gate says): a change
	// whose first step it refuses is not made, and the replay goes on. A
	// failure of the gate (safety.IsFailure: a rule that failed, any
	// other error) stops the replay (fail closed). A nil pointer is
	// refused (leave it unset for none).
	Gate scaling.Gate
}

// Progress reports how far a replay is.
type Progress struct {
	// Policy is the policy or baseline being replayed.
	Policy string
	// Done and Total are the steps replayed and to replay.
	Done, Total int
}

// Option wires a collaborator into a Simulator.
type Option func(*Simulator)

// WithProgress calls f as a replay advances (about every 1 % of the steps
// and at the end of each policy), from the goroutine running Run.
func WithProgress(f func(Progress)) Option { return func(s *Simulator) { s.progress = f } }

// Simulator replays demand traces through scaling strategies on a
// simulated clock (each step's time in the States), far faster than real
// time. It is safe for concurrent use when the policies' strategies and
// limiters are, and are not shared between Runs (see Policy): each Run
// keeps its own state, its own engine and History among them.
type Simulator struct {
	cfg      Config
	min      int // *cfg.Min
	progress func(Progress)
}

// New returns a Simulator for cfg, or an error matching
// provider.ErrInvalid naming the wrong field.
func New(cfg Config, opts ...Option) (*Simulator, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("sim: %w", err)
	}
	s := &Simulator{cfg: cfg.withDefaults()}
	s.min = *s.cfg.Min
	for _, o := range opts {
		o(s)
	}
	return s, nil
}

// Config returns a copy of the configuration with its defaults.
func (s *Simulator) Config() Config {
	c := s.cfg
	lo := s.min
	c.Min = &lo
	c.Baselines = slices.Clone(c.Baselines)
	c.Resource = c.Resource.Clone()
	return c
}

// ErrGap is matched by the error for a gap (NaN) in the replayed part of a
// trace: the metrics would have no demand to compare with. Gaps before
// Config.From are history, left to the strategies' gap rules.
var ErrGap = errors.New("sim: gap in the replayed demand")

// Run replays demand through every policy, the oracle and the baselines.
// The oracle sizes every step for its own demand, n_t = ⌈d_t / (c·u)⌉
// (within Min and Max); the policies and baselines decide at the start of
// step t seeing the demand of the steps before it. It returns an error
// for an invalid trace (no step to replay, a negative or infinite value
// anywhere in it, the history before Config.From included, a gap in the
// replayed part unless Config.SkipGaps, a replayed step needing more
// than 2^30 instances), an invalid policy, a strategy's error (naming
// the step), an error matching provider.ErrInvalid naming
// cost_per_instance_hour when a cost overflows, or ctx's error when ctx
// ends before the last replay has made its last decision.
func (s *Simulator) Run(ctx context.Context, demand provider.Series, policies ...Policy) (*Report, error) {
	tr, err := s.prepare(demand)
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{OracleName: true}
	for _, b := range s.cfg.Baselines {
		seen[b.Name] = true
	}
	stateful := map[any]string{} // the policies' strategies and limiters that keep per-target state
	for i, p := range policies {
		if p.Name == "" || seen[p.Name] {
			return nil, fmt.Errorf("sim: %w", provider.Invalid(fmt.Sprintf("policies[%d].name", i), p.Name, "must be set and unique among policies, baselines and the oracle"))
		}
		if err := s.validatePolicy(p, demand.Step); err != nil {
			return nil, fmt.Errorf("sim: %w", provider.Within(fmt.Sprintf("policies[%d]", i), err))
		}
		if err := shared(stateful, p, fmt.Sprintf("policies[%d]", i)); err != nil {
			return nil, fmt.Errorf("sim: %w", err)
		}
		seen[p.Name] = true
	}
	rep := &Report{Config: s.Config(), Start: tr.series.TimeAt(tr.from), Step: tr.series.Step, Steps: len(tr.series.Values) - tr.from}
	if rep.Oracle, err = s.oracle(tr); err != nil {
		return nil, err
	}
	all := append([]Policy(nil), policies...)
	for _, b := range s.cfg.Baselines {
		all = append(all, Policy{Name: b.Name, Strategy: &reactive{s: s, b: b, step: demand.Step}})
	}
	for _, p := range all {
		r, err := s.replay(ctx, tr, p, rep.Oracle)
		if err != nil {
			return nil, err
		}
		rep.Results = append(rep.Results, r)
	}
	return rep, nil
}

// trace is a validated demand series and its first replayed step.
type trace struct {
	series provider.Series
	from   int
	oracle []int // the oracle's capacity per step (from on)
	need   []int // the capacity each step needs, unbounded (from on)
	// start is the capacity serving before step from, every replay's and
	// the oracle's: the one the step before needs (within Min and Max),
	// or, without one (no history, a gap), the oracle's first or Min.
	start int
}

func (s *Simulator) prepare(demand provider.Series) (*trace, error) {
	if demand.Step <= 0 {
		return nil, fmt.Errorf("sim: %w", provider.Invalid("demand.step", demand.Step, "must be > 0"))
	}
	if demand.Start.IsZero() {
		return nil, fmt.Errorf("sim: %w", provider.Invalid("demand.start", demand.Start, "must be set"))
	}
	from := 0
	if !s.cfg.From.IsZero() {
		i, ok := demand.Index(s.cfg.From)
		if !ok || s.cfg.From.Sub(demand.Start)%demand.Step != 0 {
			return nil, fmt.Errorf("sim: %w", provider.Invalid("from", s.cfg.From, fmt.Sprintf("must be a step boundary inside the demand [%s, %s)", demand.Start, demand.End())))
		}
		from = i
	}
	if from >= len(demand.Values) {
		return nil, fmt.Errorf("sim: %w", provider.Invalid("demand.values", len(demand.Values), "no step to replay"))
	}
	for i, v := range demand.Values {
		switch {
		case math.IsInf(v, 0) || v < 0:
			return nil, fmt.Errorf("sim: %w", provider.Invalid(fmt.Sprintf("demand.values[%d]", i), v, "demand must be finite and ≥ 0"))
		case math.IsNaN(v) && i >= from && !s.cfg.SkipGaps:
			return nil, fmt.Errorf("%w: step %d (%s); replay from after it (Config.From) or fill it", ErrGap, i, demand.TimeAt(i).Format(time.RFC3339))
		}
	}
	n := len(demand.Values) - from
	tr := &trace{series: demand, from: from, oracle: make([]int, n), need: make([]int, n)}
	for i := range tr.oracle {
		tr.oracle[i], tr.need[i] = -1, -1 // a gap: not counted
		if v := demand.Values[from+i]; !math.IsNaN(v) {
			tr.need[i] = s.need(v, 0)
			if v/(s.cfg.CapacityPerInstance*s.cfg.TargetUtilization)*(1-1e-12) > maxInstances {
				// Beyond what need counts: maxInstances would count as
				// enough, a violation as none.
				return nil, fmt.Errorf("sim: %w", provider.Invalid(fmt.Sprintf("demand.values[%d]", from+i), v,
					fmt.Sprintf("needs more than %d instances of %g at utilization %g: is capacity_per_instance in the demand's unit?", maxInstances, s.cfg.CapacityPerInstance, s.cfg.TargetUtilization)))
			}
			tr.oracle[i] = s.bound(tr.need[i])
		}
	}
	tr.start = max(tr.oracle[0], s.min)
	if from > 0 && !math.IsNaN(demand.Values[from-1]) {
		tr.start = s.bound(s.need(demand.Values[from-1], 0))
	}
	return tr, nil
}

// maxInstances is the most instances need counts (a replayed step that
// needs more is refused).
const maxInstances = 1 << 30

// need is ⌈d·(1+headroom) / (c·u)⌉: the fewest instances that carry
// the demand at the target utilization, d·(1+headroom) ≤ n·c·u, to the
// rounding of the division (a relative 1e-12; any demand > 0 needs one),
// at most maxInstances.
func (s *Simulator) need(d, headroom float64) int {
	per := s.cfg.CapacityPerInstance * s.cfg.TargetUtilization
	return int(math.Min(math.Ceil(d*(1+headroom)/per*(1-1e-12)), maxInstances))
}

func (s *Simulator) bound(n int) int {
	n = max(n, s.min)
	if s.cfg.Max > 0 {
		n = min(n, s.cfg.Max)
	}
	return n
}

// leadSteps is the provisioning delay in whole steps (rounded up), at
// most steps+1: a delay past the trace's end is one no launch outlives.
func (s *Simulator) leadSteps(step time.Duration, steps int) int {
	n := s.cfg.LeadTime / step
	if s.cfg.LeadTime%step != 0 {
		n++
	}
	return int(min(n, time.Duration(steps)+1))
}

// oracle is the oracle's result, or ErrGap when every replayed step of
// tr is a gap.
func (s *Simulator) oracle(tr *trace) (Result, error) {
	m := newMeter(s.cfg, tr)
	prev := tr.start
	for i, n := range tr.oracle {
		if n < 0 {
			n = prev // a gap: the oracle keeps its capacity
		}
		m.step(i, n, n, "")
		prev = n
	}
	r := m.result(OracleName)
	if r.Metrics.Steps == 0 {
		return Result{}, fmt.Errorf("%w: every replayed step is a gap", ErrGap)
	}
	return r, s.checkCost(r)
}

// checkCost returns an error naming the price when r's cost overflows to
// infinity (a finite price so large that the report's JSON could not hold
// the cost, nor the table its ratio).
func (s *Simulator) checkCost(r Result) error {
	if math.IsInf(r.Metrics.Cost, 0) {
		return fmt.Errorf("sim: %s: %w", r.Name, provider.Invalid("cost_per_instance_hour", s.cfg.CostPerInstanceHour,
			fmt.Sprintf("prices %g capacity-hours at more than the largest float64", r.Metrics.CapacityHours)))
	}
	return nil
}

// reactive is the strategy of baseline b. It reads no History.
type reactive struct {
	s    *Simulator
	b    Baseline
	step time.Duration // the demand's
}

// HistoryWindow implements scaling.HistoryWindower: none is read.
func (r *reactive) HistoryWindow() time.Duration { return 0 }

// Needs implements scaling.MetricNeeder: the demand of the last step.
func (r *reactive) Needs() []scaling.Need {
	return []scaling.Need{{Metric: r.s.cfg.Metric, Lookback: r.step, Step: r.step}}
}

// Recommend implements scaling.Strategy.
func (r *reactive) Recommend(_ context.Context, st scaling.State) (scaling.Recommendation, error) {
	s, b := r.s, r.b
	per := s.cfg.CapacityPerInstance * s.cfg.TargetUtilization
	cur := st.Target.Capacity.Desired
	rec := scaling.Recommendation{Capacity: st.Target.Capacity.CapacitySpec, Proposal: cur, Fitness: 1}
	ser, ok := st.Series(s.cfg.Metric)
	if !ok || len(ser.Values) == 0 || math.IsNaN(ser.Values[len(ser.Values)-1]) {
		rec.Reason = "no demand for the last step"
		return rec, nil
	}
	v := ser.Values[len(ser.Values)-1]
	if cur > 0 && math.Abs(v*(1+b.Headroom)/(float64(cur)*per)-1) <= b.Tolerance {
		rec.Reason = "within tolerance"
		return rec, nil
	}
	rec.Proposal = s.need(v, b.Headroom)
	rec.Capacity.Desired = s.bound(rec.Proposal)
	rec.Reason = "reactive"
	return rec, nil
}

// launch is capacity on its way.
type launch struct{ at, n int }

// replay runs one policy over the trace.
func (s *Simulator) replay(ctx context.Context, tr *trace, p Policy, oracle Result) (Result, error) {
	c := s.cfg
	ser := tr.series
	lead := s.leadSteps(ser.Step, len(tr.oracle))
	cands := p.candidates()
	lookback, readsUtil := reads(cands, ser.Step, len(ser.Values), c.Utilization)
	eng, err := scaling.NewEngine(c.engine(), scaling.Cloud{Scaler: decideOnly{}}, decideOnly{})
	if err != nil {
		return Result{}, fmt.Errorf("sim: %s: %w", p.Name, err)
	}
	m := newMeter(c, tr)
	target := scaling.Target{
		ID:       c.TargetID,
		Resource: c.Resource.Clone(), // the replay's own: a strategy or rule that wrote to its tags would not change the simulator's
		Min:      s.min,
		Max:      c.Max,
	}
	if target.Max == 0 {
		target.Max = max(maxInstances, s.min) // no bound, and never below Min: the engine would refuse every recommendation
	}
	actual := tr.start
	var util []float64 // the utilization, when a strategy reads it
	if readsUtil {
		util = make([]float64, len(ser.Values))
		for j, d := range ser.Values[:tr.from] {
			util[j] = s.utilization(d, s.bound(s.need(d, 0)))
		}
	}
	metrics := make([]provider.Series, 1, 2)
	var chosen map[string]int
	if len(p.Candidates) > 0 {
		chosen = make(map[string]int, len(cands))
		for _, c := range cands {
			chosen[c.Name] = 0 // one never chosen says so
		}
	}
	var pending []launch
	total := len(tr.oracle)
	every := max(1, total/100)
	for i := range total {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, fmt.Errorf("sim: %s: %w", p.Name, err)
			}
		}
		t := tr.from + i
		now := ser.TimeAt(t)
		served := actual // during the step before
		kept := pending[:0]
		for _, l := range pending {
			if l.at <= i {
				actual += l.n
			} else {
				kept = append(kept, l)
			}
		}
		pending = kept
		desired := actual
		for _, l := range pending {
			desired += l.n
		}
		lo := max(0, t-lookback)
		target.Capacity = provider.Capacity{
			CapacitySpec: provider.CapacitySpec{Min: target.Min, Max: target.Max, Desired: desired},
			Current:      desired, Ready: served, // the step's arrivals are not ready yet
		}
		metrics = metrics[:1]
		metrics[0] = provider.Series{ResourceID: c.TargetID, Metric: c.Metric, Start: ser.TimeAt(lo), Step: ser.Step, Values: ser.Values[lo:t:t]}
		if util != nil {
			metrics = append(metrics, provider.Series{ResourceID: c.TargetID, Metric: c.Utilization, Start: ser.TimeAt(lo), Step: ser.Step, Values: util[lo:t:t]})
		}
		st := scaling.State{Now: now, Target: target, Metrics: metrics} // the engine's History: Decide reads it
		d, err := eng.Decide(ctx, st, cands, p.Pinned)
		if err != nil {
			return Result{}, fmt.Errorf("sim: %s at %s: %w", p.Name, now.Format(time.RFC3339), err)
		}
		rec := d.Chosen
		if chosen != nil && tr.oracle[i] >= 0 { // as the metrics, gaps left out
			chosen[rec.Strategy]++
		}
		want := s.bound(rec.Capacity.Desired)
		if want != desired && p.Gate != nil {
			// The gate is asked about the plan the engine makes of the
			// change: its gradual steps.
			d.Target = target
			d.Chosen.Capacity = provider.CapacitySpec{Min: target.Min, Max: target.Max, Desired: want}
			want, err = s.allowed(ctx, p.Gate, eng.Plan(d, scaling.PlanOptions{}), now)
			if err != nil {
				return Result{}, fmt.Errorf("sim: %s at %s: safety: %w", p.Name, now.Format(time.RFC3339), err)
			}
		}
		if want != desired && p.Limiter != nil {
			want, err = s.limit(ctx, p.Limiter, now, desired, want)
			if err != nil {
				return Result{}, fmt.Errorf("sim: %s at %s: rate limit: %w", p.Name, now.Format(time.RFC3339), err)
			}
		}
		switch {
		case want > desired && lead == 0:
			actual += want - desired
		case want > desired:
			pending = append(pending, launch{at: i + lead, n: want - desired})
		case want < desired:
			drop := desired - want
			for k := len(pending) - 1; k >= 0 && drop > 0; k-- {
				d := min(drop, pending[k].n)
				pending[k].n -= d
				drop -= d
			}
			actual -= drop
		}
		if want != desired {
			from := provider.CapacitySpec{Min: target.Min, Max: target.Max, Desired: desired}
			to := from
			to.Desired = want
			eng.RecordChange(c.TargetID, scaling.Change{At: now, PlanID: "sim", Step: 1, Strategy: rec.Strategy, From: from, To: to})
		}
		if util != nil {
			util[t] = s.utilization(ser.Values[t], actual)
		}
		m.step(i, actual, want, rec.Strategy)
		if s.progress != nil && (i%every == 0 || i == total-1) {
			s.progress(Progress{Policy: p.Name, Done: i + 1, Total: total})
		}
	}
	// ctx is read every 64 steps: one that ended since may have failed
	// a decision that another candidate then made (a fallback).
	if err := ctx.Err(); err != nil {
		return Result{}, fmt.Errorf("sim: %s: %w", p.Name, err)
	}
	r := m.result(p.Name)
	r.Chosen = chosen
	r.Metrics.relativeTo(oracle.Metrics)
	return r, s.checkCost(r)
}

// candidates are the strategies p weighs: its Candidates, or its Strategy
// named as the policy.
func (p *Policy) candidates() []scaling.Candidate {
	if len(p.Candidates) > 0 {
		return p.Candidates
	}
	return []scaling.Candidate{{Name: p.Name, Strategy: p.Strategy}}
}

// validatePolicy returns an error matching provider.ErrInvalid naming
// what is wrong with p but its name: no strategy or both kinds, a Gate
// or Limiter that is a nil pointer, a candidate without a name or
// strategy or named twice, an HPA strategy named otherwise than its
// candidate (it would not find its own recommendations), a need that scaling.Need.Validate refuses (the
// Autoscaler's policy refuses it), a metric the simulator does not
// replay, a need whose step is not the demand's (step), a pinned name
// that is no candidate's.
func (s *Simulator) validatePolicy(p Policy, step time.Duration) error {
	switch {
	case nilcheck.Is(p.Strategy) && len(p.Candidates) == 0:
		return provider.Invalid("strategy", nil, "is required (or candidates)")
	case !nilcheck.Is(p.Strategy) && len(p.Candidates) > 0:
		return provider.Invalid("candidates", len(p.Candidates), "a policy has a strategy or candidates, not both")
	case p.Gate != nil && nilcheck.Is(p.Gate):
		return provider.Invalid("gate", fmt.Sprintf("%T", p.Gate), "is a nil pointer: leave Gate unset for no safety rules")
	case p.Limiter != nil && nilcheck.Is(p.Limiter):
		return provider.Invalid("limiter", fmt.Sprintf("%T", p.Limiter), "is a nil pointer: leave Limiter unset for no rate limits")
	}
	names := map[string]bool{}
	for j, c := range p.candidates() {
		f, nameField := fmt.Sprintf("candidates[%d]", j), fmt.Sprintf("candidates[%d].name", j)
		what := "name the candidate so"
		if len(p.Candidates) == 0 {
			f, nameField = "strategy", "name"
			what = fmt.Sprintf("name the policy so, or build the strategy with scaling.NewHPA(cfg, %q)", p.Name)
		}
		switch {
		case c.Name == "" || names[c.Name]:
			return provider.Invalid(nameField, c.Name, "must be set and unique in the policy")
		case nilcheck.Is(c.Strategy):
			return provider.Invalid(f+".strategy", nil, "is required")
		}
		names[c.Name] = true
		if h, ok := c.Strategy.(*scaling.HPA); ok && h.Name() != c.Name {
			return provider.Invalid(nameField, c.Name, fmt.Sprintf("an HPA strategy finds its recommendations in the History by its own name %q: %s", h.Name(), what))
		}
		if mn, ok := c.Strategy.(scaling.MetricNeeder); ok {
			for k, n := range mn.Needs() {
				if err := n.Validate(); err != nil {
					// As TargetConfig.Candidates refuses a custom strategy's.
					return provider.Within(fmt.Sprintf("%s.needs[%d]", f, k), err)
				}
				if n.Metric != s.cfg.Metric && (n.Metric != s.cfg.Utilization || n.Metric == "") {
					return provider.Invalid(fmt.Sprintf("%s.needs[%d].metric", f, k), n.Metric,
						fmt.Sprintf("the simulator replays the demand as %s and the utilization as %q (Config.Metric, Config.Utilization)", s.cfg.Metric, s.cfg.Utilization))
				}
				if n.Step != step {
					// The series is at the demand's step, and the strategy
					// reads it as at its own: a Predictive keeps the
					// capacity at every step; a target value or threshold
					// counts its window and its data's age in its steps.
					what := "a strategy reads its metrics at its need's step"
					if _, ok := c.Strategy.(*scaling.Predictive); ok {
						what = "a predictive strategy forecasts at its step"
					}
					return provider.Invalid(fmt.Sprintf("%s.needs[%d].step", f, k), n.Step,
						fmt.Sprintf("%s, and the simulator replays the demand at its own, %s: set the strategy's step to it", what, step))
				}
			}
		}
	}
	if p.Pinned != "" && !names[p.Pinned] {
		return provider.Invalid("pinned", p.Pinned, "names no candidate of the policy")
	}
	return nil
}

// shared returns an error matching provider.ErrInvalid when p (at field f)
// has a scaling.Predictive or a Limiter that a policy seen before has too
// (in seen, with its field; p's are added): each replay's target is
// Config.TargetID, so the later replay would start from the state the
// earlier one left (a model fitted on the whole trace, a spent budget).
// Other strategies keep nothing of a target between calls.
func shared(seen map[any]string, p Policy, f string) error {
	check := func(v any, field string) error {
		if nilcheck.Is(v) || reflect.ValueOf(v).Kind() != reflect.Pointer {
			return nil
		}
		if prev, ok := seen[v]; ok {
			return provider.Invalid(field, nil, fmt.Sprintf("is %s's too: it keeps state per target, and the replays share one; give each policy its own", prev))
		}
		seen[v] = field
		return nil
	}
	if err := check(p.Limiter, f+".limiter"); err != nil {
		return err
	}
	for j, c := range p.candidates() {
		if _, ok := c.Strategy.(*scaling.Predictive); !ok {
			continue
		}
		field := fmt.Sprintf("%s.candidates[%d].strategy", f, j)
		if len(p.Candidates) == 0 {
			field = f + ".strategy"
		}
		if err := check(c.Strategy, field); err != nil {
			return err
		}
	}
	return nil
}

// reads returns how many steps before a decision the candidates read
// (the whole series when one does not say: not a MetricNeeder) and
// whether one may read the utilization metric u.
func reads(cands []scaling.Candidate, step time.Duration, n int, u provider.Metric) (lookback int, util bool) {
	for _, c := range cands {
		mn, ok := c.Strategy.(scaling.MetricNeeder)
		if !ok {
			return n, u != ""
		}
		for _, need := range mn.Needs() {
			k := need.Lookback / step // rounded up below: Lookback + step − 1 overflows for the longest
			if need.Lookback%step != 0 {
				k++
			}
			lookback = max(lookback, int(min(k, time.Duration(n))))
			util = util || u != "" && need.Metric == u
		}
	}
	return lookback, util
}

// utilization is demand d's share of what n instances carry at full
// utilization, at most 1 (a saturated group); NaN for a gap, and when no
// instance serves and there is no demand (no instance reports one).
func (s *Simulator) utilization(d float64, n int) float64 {
	if n == 0 {
		if d > 0 {
			return 1 // all of nothing: saturated
		}
		return provider.Gap
	}
	return math.Min(d/(float64(n)*s.cfg.CapacityPerInstance), 1)
}

// decideOnly is the cloud and the gate of a replay's engine, which only
// decides (Engine.Decide, History, RecordChange): the simulator applies
// the decisions itself and asks the policy's own Gate and Limiter.
// Anything that reaches it is a bug, refused.
type decideOnly struct{}

var errDecideOnly = errors.New("sim: the replay's engine only decides; the simulator applies its decisions")

func (decideOnly) Capacity(context.Context, string) (provider.Capacity, error) {
	return provider.Capacity{}, errDecideOnly
}

func (decideOnly) SetCapacity(context.Context, string, provider.CapacitySpec) error {
	return errDecideOnly
}

func (decideOnly) Check(context.Context, safety.Proposal) (safety.Decision, error) {
	return safety.Decision{}, errDecideOnly
}

func (decideOnly) Evaluate(context.Context, safety.Proposal) (safety.Decision, error) {
	return safety.Decision{}, errDecideOnly
}

// allowed asks the gate about each step of plan, in order, with the
// proposal the engine makes of it (Engine.Preview's, side-effect free at
// now), and returns the desired capacity the steps it allows lead to:
// the plan stops at the first step it refuses, as the engine's does. A
// failure of the gate (safety.IsFailure) is an error.
func (s *Simulator) allowed(ctx context.Context, g scaling.Gate, plan scaling.Plan, now time.Time) (int, error) {
	reached := plan.From.Desired
	for _, st := range plan.Steps {
		d, err := g.Evaluate(ctx, safety.Proposal{
			ID: fmt.Sprintf("%s/%d", plan.ID, st.Index), Action: st.Action, Resource: plan.Target.Resource,
			Current: st.From, Target: st.To, Requester: scaling.DefaultRequester, Source: plan.ID, Reason: plan.Reason, Now: now,
		})
		if safety.IsFailure(d, err) {
			return plan.From.Desired, fmt.Errorf("step %d: %w", st.Index, err)
		}
		// A refusal, which a *safety.Engine returns with a
		// *safety.BlockedError (scaling.Gate's contract), is no failure:
		// the step is not made, nor the ones after it.
		if err != nil || !d.Allowed {
			break
		}
		reached = st.To.Desired
	}
	return reached, nil
}

// limit asks the limiter for the change from desired to want and returns
// the capacity it allows, reading the reservation as the engine does when
// it carries out a change: Allowed is the whole change, Clamped its
// Granted units (an error, fail closed, unless 1 to the units asked),
// anything else none.
func (s *Simulator) limit(ctx context.Context, l scaling.Reserver, now time.Time, desired, want int) (int, error) {
	dir, units := ratelimit.Up, want-desired
	if units < 0 {
		dir, units = ratelimit.Down, -units
	}
	r, err := l.ReserveAt(ctx, now, ratelimit.Request{Target: s.cfg.TargetID, Direction: dir, Units: units})
	if err != nil {
		return desired, err
	}
	granted := 0
	if r.OK() {
		// As the engine reads a grant: one of no unit (Allowed or
		// Clamped) or a clamp to more than asked is the limiter failing;
		// an Allowed one of fewer units than asked moves those, as a
		// clamp does, never more.
		if r.Granted < 1 || r.Outcome == ratelimit.Clamped && r.Granted > units {
			return desired, provider.Invalid("reservation.granted", r.Granted, fmt.Sprintf("a change of %d units must be granted 1 to %d (%s)", units, units, r.Outcome))
		}
		granted = min(r.Granted, units)
	}
	if dir == ratelimit.Down {
		return desired - granted, nil
	}
	return desired + granted, nil
}

package scaling

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/internal/safefile"
	"github.com/idlescale/idlescale/internal/yamlconf"
	"github.com/idlescale/idlescale/provider"
)

// The Config defaults.
const (
	DefaultInterval    = 15 * time.Second // Kubernetes' HPA sync period
	DefaultConcurrency = 8
	DefaultPlanTTL     = 15 * time.Minute
	DefaultMin         = 1  // the HPA's minReplicas default
	DefaultMax         = 10 // a low ceiling against a runaway scale out
)

// Config is the autoscaler's policy: how often it evaluates, whether it
// acts, and the targets with their strategies. A host loads it from YAML
// or JSON (ParseConfig, LoadConfigFile); NewAutoscaler validates it once.
// The zero value of every field but Targets means its default.
//
//	interval: 15s
//	execute: true
//	targets:
//	  - id: web
//	    min: 2
//	    max: 20
//	    strategies:
//	      - type: hpa
//	        hpa:
//	          metrics:
//	            - type: resource
//	              resource: {name: cpu, target: {type: utilization, average_utilization: 60}}
//	          behavior:
//	            scale_down: {stabilization_window: 5m}
//	      - type: threshold
//	  - id: reports
//	    strategy: nightly          # pinned
//	    strategies:
//	      - name: nightly
//	        type: scheduled
//	        scheduled:
//	          time_zone: Europe/Berlin
//	          actions:
//	            - {name: night, schedule: "0 20 * * *", desired: 1}
//	            - {name: day, schedule: "0 7 * * 1-5", desired: 6}
type Config struct {
	// Interval is the time between two evaluations of a target.
	// Default: 15s (Kubernetes' HPA sync period).
	Interval time.Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
	// Concurrency bounds the batches of targets read and evaluated, and
	// the plans executed, at once; a batch's metric reads that a driver
	// makes one by one (provider.WithBatchConcurrency) are made one after
	// another. Default: 8.
	Concurrency int `json:"concurrency,omitempty" yaml:"concurrency,omitempty"`
	// BatchSize is how many targets are read together, in one call per
	// kind of read when the provider batches (see Autoscaler). Default 0:
	// a quarter of the targets per worker, at most 256, which keeps every
	// worker busy when reading is cheap (the memory cloud). A provider
	// whose requests are rate-limited wants fewer, larger batches: the
	// Kubernetes driver makes up to eight requests a batch and namespace,
	// so at client-go's default 5 requests a second 100 deployments in
	// batches of 3 take about a minute a pass, in one batch of 256 under
	// two seconds.
	BatchSize int `json:"batch_size,omitempty" yaml:"batch_size,omitempty"`
	// Execute makes the autoscaler act. Default: false, a dry run that
	// decides, plans and asks the safety gate (Evaluate) what it would
	// allow, and changes nothing.
	Execute bool `json:"execute,omitempty" yaml:"execute,omitempty"`
	// PlanTTL is how old an interrupted plan may be and still be resumed;
	// older ones are stopped and the next decision starts afresh.
	// Default: 15m.
	PlanTTL time.Duration `json:"plan_ttl,omitempty" yaml:"plan_ttl,omitempty"`
	// Targets are the targets, with unique IDs. At least one.
	Targets []TargetConfig `json:"targets" yaml:"targets"`
}

// TargetConfig is one target's policy.
type TargetConfig struct {
	// ID identifies the target (events, history, rate-limit budget).
	// Required, unique.
	ID string `json:"id" yaml:"id"`
	// Resource is the provider's resource ID. Default: ID. Two targets
	// of an executing Config may not have the same resource (a preview
	// may compare two policies of one).
	Resource string `json:"resource,omitempty" yaml:"resource,omitempty"`
	// Min is the lowest desired capacity of a group. nil means 1 (0 is
	// allowed: scaling to zero).
	Min *int `json:"min,omitempty" yaml:"min,omitempty"`
	// Max is the highest desired capacity of a group; ≥ Min. 0 means 10
	// (DefaultMax; a Min above it needs Max set): a low ceiling against a
	// runaway scale out, which never scales a group in. A group found above it
	// (sized by someone else, or counting vCPUs or MiB) fails its
	// evaluation with an error matching provider.ErrInvalid naming max,
	// and is not changed, until Max is set.
	Max int `json:"max,omitempty" yaml:"max,omitempty"`
	// Strategy pins the strategy of this name; empty picks the fittest
	// recommendation at each evaluation.
	Strategy string `json:"strategy,omitempty" yaml:"strategy,omitempty"`
	// Strategies are the target's strategies. At least one.
	Strategies []StrategySpec `json:"strategies" yaml:"strategies"`
	// Verify configures the verification of each step.
	Verify VerifyConfig `json:"verify,omitzero" yaml:"verify,omitempty"`
	// InstanceHourlyCost is the price per hour of one unit of the group's
	// desired capacity, for plans' cost impact: one instance, or one
	// capacity unit of a group that counts in them (an Auto Scaling group
	// with instance weights, or whose desired capacity counts vCPUs or
	// MiB). 0 derives it from the resource's HourlyCost.
	InstanceHourlyCost float64 `json:"instance_hourly_cost,omitempty" yaml:"instance_hourly_cost,omitempty"`
}

// VerifyConfig configures how a target's steps are verified.
type VerifyConfig struct {
	// Timeout is the deadline for a step to settle, and for its signals'
	// data to be published, up to the window's end, once the window
	// ended. 0 means the engine's
	// VerifyTimeout (10m). A MissingIsZero signal's PublishDelay must not
	// be longer than a Timeout set here; with none, it is cut to the
	// engine's VerifyTimeout, which the policy does not know.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
	// Window is how long the signals must stay healthy after a step
	// settled. 0 means the engine's VerifyWindow (2m).
	Window time.Duration `json:"window,omitempty" yaml:"window,omitempty"`
	// Signals are the metrics watched after a scale in or a resize, the
	// changes that can starve a service. Empty means
	// DefaultScaleInSignal (CPU mean at most 0.9), except for a function,
	// which has no CPU metric: none.
	Signals []Signal `json:"signals,omitempty" yaml:"signals,omitempty"`
	// ScaleOutSignals are the metrics watched after a scale out. Empty
	// means none: a scale out is verified once its instances are ready.
	// A signal here rolls back a scale out that left it unhealthy, so
	// it must be one that more capacity cannot make worse (an error rate
	// a bad launch template raises), never the load the scale out
	// answers: rolling back a scale out because CPU is still high would
	// make it higher. An error count is published only when errors
	// happen (CloudWatch's Errors, HTTPCode_Target_5XX_Count): set its
	// MissingIsZero, or a quiet window, without data, is unknown and
	// rolls the step back, and one with a few errors is waited for
	// until the Timeout.
	ScaleOutSignals []Signal `json:"scale_out_signals,omitempty" yaml:"scale_out_signals,omitempty"`
}

// Validate checks the durations and signals.
func (v VerifyConfig) Validate() error {
	if err := nonNegative("timeout", v.Timeout); err != nil {
		return err
	}
	if err := nonNegative("window", v.Window); err != nil {
		return err
	}
	for i, s := range v.Signals {
		if err := v.validSignal(s); err != nil {
			return provider.Within(fmt.Sprintf("signals[%d]", i), err)
		}
	}
	for i, s := range v.ScaleOutSignals {
		if err := v.validSignal(s); err != nil {
			return provider.Within(fmt.Sprintf("scale_out_signals[%d]", i), err)
		}
	}
	return nil
}

// validSignal checks s, and that its PublishDelay is not longer than
// the Timeout when one is set (the engine's VerifyTimeout is not known
// here: the delay is cut to it).
func (v VerifyConfig) validSignal(s Signal) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if v.Timeout > 0 && s.PublishDelay > v.Timeout {
		return provider.Invalid("publish_delay", s.PublishDelay, fmt.Sprintf("must be ≤ the timeout (%s)", v.Timeout))
	}
	return nil
}

// StrategyType names a built-in strategy.
type StrategyType string

// The strategy types.
const (
	StrategyThreshold   StrategyType = "threshold"    // up above 0.8, down below 0.3 (Threshold)
	StrategyTargetValue StrategyType = "target_value" // nomad-autoscaler's target-value (TargetValue)
	StrategyHPA         StrategyType = "hpa"          // Kubernetes' HPA, exactly (HPA)
	StrategyStep        StrategyType = "step"         // EC2 Auto Scaling step scaling (Step)
	StrategyVertical    StrategyType = "vertical"     // percentile-based sizing (Vertical)
	StrategyScheduled   StrategyType = "scheduled"    // cron schedules (Scheduled)
	StrategyPredictive  StrategyType = "predictive"   // forecast-driven, both directions (Predictive)
	StrategyCustom      StrategyType = "custom"       // a host's strategy, registered with WithStrategy
)

// String returns the type's name.
func (t StrategyType) String() string { return string(t) }

// Validate returns an error matching provider.ErrInvalid, naming the
// value, unless t is a known StrategyType.
func (t StrategyType) Validate() error {
	switch t {
	case StrategyThreshold, StrategyTargetValue, StrategyHPA, StrategyStep, StrategyVertical, StrategyScheduled, StrategyPredictive, StrategyCustom:
		return nil
	}
	return provider.Invalid("type", string(t), "must be one of threshold, target_value, hpa, step, vertical, scheduled, predictive, custom")
}

// MarshalText encodes t as its name (empty when unset); an unknown value is
// an error.
func (t StrategyType) MarshalText() ([]byte, error) {
	return enumtext.Marshal(t, StrategyType.Validate)
}

// UnmarshalText decodes a known name or empty text; other text is an error
// matching provider.ErrInvalid naming it.
func (t *StrategyType) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(t, b, StrategyType.Validate)
}

// StrategySpec is one strategy of a target: its type and the matching
// configuration (the block named like the type; none means the defaults,
// for the types that have them).
type StrategySpec struct {
	// Name names the strategy in the target (recommendations, events,
	// Strategy pinning). Default: the type. Unique in the target; for a
	// custom strategy, the name it was registered under.
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// Type is the strategy's type. Required.
	Type StrategyType `json:"type" yaml:"type"`
	// Threshold configures a threshold strategy (optional).
	Threshold *ThresholdConfig `json:"threshold,omitempty" yaml:"threshold,omitempty"`
	// TargetValue configures a target_value strategy (required for it).
	TargetValue *TargetValueConfig `json:"target_value,omitempty" yaml:"target_value,omitempty"`
	// HPA configures an hpa strategy (optional: CPU at 80 %).
	HPA *HPAConfig `json:"hpa,omitempty" yaml:"hpa,omitempty"`
	// Step configures a step strategy (required for it).
	Step *StepConfig `json:"step,omitempty" yaml:"step,omitempty"`
	// Vertical configures a vertical strategy (optional, but instances
	// need its catalogue).
	Vertical *VerticalConfig `json:"vertical,omitempty" yaml:"vertical,omitempty"`
	// Scheduled configures a scheduled strategy (required for it).
	Scheduled *ScheduledConfig `json:"scheduled,omitempty" yaml:"scheduled,omitempty"`
	// Predictive configures a predictive strategy (required for it: its
	// capacity_per_instance has no default).
	Predictive *PredictiveConfig `json:"predictive,omitempty" yaml:"predictive,omitempty"`
}

// name returns the spec's name: Name, or the type.
func (s StrategySpec) name() string {
	if s.Name != "" {
		return s.Name
	}
	return string(s.Type)
}

// build validates the spec and makes its strategy. custom resolves custom
// strategies by name.
func (s StrategySpec) build(custom map[string]Strategy) (Strategy, error) {
	if err := s.Type.Validate(); err != nil {
		return nil, err
	}
	blocks := map[StrategyType]bool{
		StrategyThreshold: s.Threshold != nil, StrategyTargetValue: s.TargetValue != nil, StrategyHPA: s.HPA != nil,
		StrategyStep: s.Step != nil, StrategyVertical: s.Vertical != nil, StrategyScheduled: s.Scheduled != nil,
		StrategyPredictive: s.Predictive != nil,
	}
	for t, set := range blocks {
		if set && t != s.Type {
			return nil, provider.Invalid(string(t), nil, fmt.Sprintf("is set for a strategy of type %s", s.Type))
		}
	}
	var (
		st  Strategy
		err error
	)
	switch s.Type {
	case StrategyThreshold:
		var c ThresholdConfig
		if s.Threshold != nil {
			c = *s.Threshold
		}
		st, err = NewThreshold(c)
	case StrategyTargetValue:
		if s.TargetValue == nil {
			return nil, provider.Invalid("target_value", nil, "is required for type target_value")
		}
		st, err = NewTargetValue(*s.TargetValue)
	case StrategyHPA:
		var c HPAConfig
		if s.HPA != nil {
			c = *s.HPA
		}
		st, err = NewHPA(c, s.name())
	case StrategyStep:
		if s.Step == nil {
			return nil, provider.Invalid("step", nil, "is required for type step")
		}
		st, err = NewStep(*s.Step)
	case StrategyVertical:
		var c VerticalConfig
		if s.Vertical != nil {
			c = *s.Vertical
		}
		st, err = NewVertical(c)
	case StrategyScheduled:
		if s.Scheduled == nil {
			return nil, provider.Invalid("scheduled", nil, "is required for type scheduled")
		}
		st, err = NewScheduled(*s.Scheduled)
	case StrategyPredictive:
		if s.Predictive == nil {
			return nil, provider.Invalid("predictive", nil, "is required for type predictive")
		}
		st, err = NewPredictive(*s.Predictive)
	case StrategyCustom:
		c, ok := custom[s.Name]
		if !ok || nilcheck.Is(c) {
			return nil, provider.Invalid("name", s.Name, "no custom strategy is registered under this name (WithStrategy)")
		}
		return c, nil
	}
	if err != nil {
		// Name the block: "hpa.metrics[0]...".
		var inv *provider.InvalidError
		if errors.As(err, &inv) {
			return nil, provider.Within(string(s.Type), inv)
		}
		return nil, err
	}
	return st, nil
}

// Validate checks the whole policy: durations, unique target IDs, bounds
// (0 ≤ Min ≤ Max), every strategy's configuration (a schedule that does
// not parse, an unknown metric source, a threshold ≤ 0), unique strategy
// names and a pinned strategy that exists. Custom strategies are checked
// for a name only; NewAutoscaler resolves them. The error matches
// provider.ErrInvalid and names the field ("targets[1].strategies[0].scheduled.actions[0].schedule").
func (c Config) Validate() error { return c.validate(nil) }

func (c Config) validate(custom map[string]Strategy) error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"interval", c.Interval}, {"plan_ttl", c.PlanTTL}} {
		if err := nonNegative(d.name, d.v); err != nil {
			return err
		}
	}
	if c.BatchSize < 0 {
		return provider.Invalid("batch_size", c.BatchSize, "must be ≥ 0 (0: the default)")
	}
	if c.Concurrency < 0 {
		return provider.Invalid("concurrency", c.Concurrency, "must be ≥ 0")
	}
	if len(c.Targets) == 0 {
		return provider.Invalid("targets", nil, "at least one target is required")
	}
	ids := map[string]bool{}
	resources := map[string]int{} // resource → the index of its target
	for i, t := range c.Targets {
		field := fmt.Sprintf("targets[%d]", i)
		if ids[t.ID] {
			return provider.Invalid(field+".id", t.ID, "duplicate target ID")
		}
		ids[t.ID] = true
		ct, err := t.compile(custom)
		if err != nil {
			return provider.Within(field, err)
		}
		if j, ok := resources[ct.resource]; ok && c.Execute {
			// Two controllers of one resource would each plan, limit and
			// record its changes apart, and undo each other's. (Previews
			// may compare two policies of one resource.)
			return provider.Invalid(field+".resource", ct.resource, fmt.Sprintf("is targets[%d]'s resource too: one target per resource", j))
		}
		resources[ct.resource] = i
	}
	return nil
}

// compiled is a target's policy made usable.
type compiled struct {
	// What every pass reads comes first, the policy as written after it
	// (a fleet pass reads ten thousand targets: fewer cache lines each).
	resource   string
	min, max   int
	candidates []Candidate
	needs      []Need
	hpa        *HPA // the first HPA strategy, for a PodSource (set by shareHPAs)
	cfg        TargetConfig
}

// compile validates a target's policy and builds its strategies. custom
// nil only checks custom strategies' names.
func (t TargetConfig) compile(custom map[string]Strategy) (compiled, error) {
	out := compiled{cfg: t, resource: t.Resource}
	out.min, out.max = t.Bounds()
	if t.ID == "" {
		return out, provider.Invalid("id", "", "is required")
	}
	if out.resource == "" {
		out.resource = t.ID
	}
	if err := provider.ValidateID(out.resource); err != nil {
		return out, provider.Within("resource", err)
	}
	if t.Max == 0 && out.min > DefaultMax {
		return out, provider.Invalid("max", t.Max, fmt.Sprintf("must be set (≥ min %d)", out.min))
	}
	switch {
	case out.min < 0:
		return out, provider.Invalid("min", out.min, "must be ≥ 0")
	case out.max < out.min:
		return out, provider.Invalid("max", out.max, fmt.Sprintf("must be ≥ min %d", out.min))
	case !finite(t.InstanceHourlyCost) || t.InstanceHourlyCost < 0:
		return out, provider.Invalid("instance_hourly_cost", t.InstanceHourlyCost, "must be a finite number ≥ 0")
	}
	if err := t.Verify.Validate(); err != nil {
		return out, provider.Within("verify", err)
	}
	if len(t.Strategies) == 0 {
		return out, provider.Invalid("strategies", nil, "at least one strategy is required")
	}
	names := map[string]bool{}
	for i, s := range t.Strategies {
		field := fmt.Sprintf("strategies[%d]", i)
		name := s.name()
		if names[name] {
			return out, provider.Invalid(field+".name", name, "duplicate strategy name in the target")
		}
		names[name] = true
		if s.Type == StrategyCustom && custom == nil {
			if s.Name == "" {
				return out, provider.Invalid(field+".name", "", "a custom strategy needs the name it is registered under")
			}
			continue
		}
		st, err := s.build(custom)
		if err != nil {
			return out, provider.Within(field, err)
		}
		out.candidates = append(out.candidates, Candidate{Name: name, Strategy: st})
		if n, ok := st.(MetricNeeder); ok {
			needs := n.Needs()
			for j, nd := range needs { // a custom strategy's: the built-ins' are valid
				if err := nd.Validate(); err != nil {
					return out, provider.Within(fmt.Sprintf("%s.needs[%d]", field, j), err)
				}
			}
			out.needs = mergeNeeds(out.needs, needs)
		}
	}
	if t.Strategy != "" && !names[t.Strategy] {
		return out, provider.Invalid("strategy", t.Strategy, "names no strategy of the target")
	}
	return out, nil
}

// Bounds returns the target's bounds as the Autoscaler keeps its group
// within them: Min (nil: DefaultMin) and Max (0: DefaultMax, or Min when
// that is larger). They are not validated (Config.Validate and
// Candidates do that). A replay of the target (package scaling/sim) sets
// its Config.Min and Max to them.
func (t TargetConfig) Bounds() (lo, hi int) {
	lo, hi = DefaultMin, t.Max
	if t.Min != nil {
		lo = *t.Min
	}
	if hi == 0 {
		hi = max(DefaultMax, lo)
	}
	return lo, hi
}

// Candidates validates the target's policy and builds its strategies,
// in policy order and named as the policy names them, as NewAutoscaler
// does: the candidates Engine.Decide weighs for the target (its pinned
// one is t.Strategy). custom resolves the strategies of type custom by
// the name they are registered under (WithStrategy's); a custom
// strategy that custom does not hold is an error. A host replays a
// target of its policy with them (package scaling/sim). Each call builds
// new strategies: a Predictive keeps its models per target, so a replay
// and the Autoscaler do not share them. The error matches
// provider.ErrInvalid and names the field ("strategies[0].hpa.metrics[0]...").
func (t TargetConfig) Candidates(custom map[string]Strategy) ([]Candidate, error) {
	if custom == nil {
		custom = map[string]Strategy{} // nil means "names only" to compile
	}
	c, err := t.compile(custom)
	if err != nil {
		return nil, err
	}
	return c.candidates, nil
}

// mergeNeeds adds add to needs, one need per metric, statistic (empty
// meaning mean) and step, with the longest lookback: the reads of a
// target, whose series its strategies find by these three
// (State.SeriesFor).
func mergeNeeds(needs, add []Need) []Need {
next:
	for _, n := range add {
		for i := range needs {
			if needs[i].Metric == n.Metric && meanIfEmpty(needs[i].Statistic) == meanIfEmpty(n.Statistic) && needs[i].Step == n.Step {
				needs[i].Lookback = max(needs[i].Lookback, n.Lookback)
				continue next
			}
		}
		needs = append(needs, n)
	}
	return needs
}

func (c Config) withDefaults() Config {
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.PlanTTL == 0 {
		c.PlanTTL = DefaultPlanTTL
	}
	return c
}

// MaxConfigBytes is the largest policy ParseConfig and LoadConfigFile
// read, in bytes (1 MiB): a policy of a thousand targets takes a few
// hundred KiB, and a host pointed at a log or a device by mistake gets
// an error rather than reading it whole.
const MaxConfigBytes = 1 << 20

// ParseConfig decodes a policy from YAML or JSON (JSON is YAML) and
// validates it. Unknown fields, trailing documents, more than
// MaxConfigBytes (r is read no further) and a nil r are errors;
// durations are written as Go durations ("15s", "5m"). The error matches
// provider.ErrInvalid and names the field for invalid values.
func ParseConfig(r io.Reader) (Config, error) {
	if r == nil {
		return Config{}, provider.Invalid("config", nil, "no reader")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("scaling: read config: %w", err)
	}
	if len(data) > MaxConfigBytes {
		return Config{}, provider.Invalid("config", fmt.Sprintf("over %d bytes", MaxConfigBytes), "is larger than MaxConfigBytes")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil {
		if errors.Is(err, io.EOF) {
			return Config{}, provider.Invalid("config", "", "is empty")
		}
		if err := yamlconf.Locate(data, reflect.TypeFor[Config](), err); errors.Is(err, provider.ErrInvalid) {
			return Config{}, fmt.Errorf("scaling: parse config: %w", err) // a value refused by its type, located
		}
		return Config{}, fmt.Errorf("scaling: parse config: %w", errors.Join(provider.ErrInvalid, err))
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Config{}, provider.Invalid("config", nil, "has more than one document")
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("scaling: config: %w", err)
	}
	return c, nil
}

// LoadConfigFile reads and parses the policy file at path (ParseConfig).
// The file must be a regular file of at most MaxConfigBytes: a device, a
// named pipe, a directory or a larger file is refused, unread, with an
// error matching provider.ErrInvalid. Errors name the path; one the file
// cannot be opened with is the *fs.PathError of os.Stat or os.Open.
func LoadConfigFile(path string) (Config, error) {
	f, err := safefile.Open(path, "config", MaxConfigBytes)
	if err != nil {
		var ierr *provider.InvalidError
		if errors.As(err, &ierr) {
			return Config{}, fmt.Errorf("%s: scaling: load config: %w", path, err)
		}
		return Config{}, fmt.Errorf("scaling: load config: %w", err)
	}
	defer f.Close()
	c, err := ParseConfig(f)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

package reaper

import (
	"maps"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety/approval"
)

// The Config defaults.
const (
	DefaultMinConfidence  = 0.8
	DefaultMaxActions     = 10
	DefaultRequester      = "reaper"
	DefaultVerifyTimeout  = 5 * time.Minute
	DefaultVerifyInterval = 10 * time.Second
	DefaultInterval       = time.Hour
)

// Config is the reaper's policy, as a host loads it from JSON or YAML. The
// zero value means the defaults: a dry run that would stop idle resources
// whose verdict has at least 0.8 confidence, at most 10 actions per run.
type Config struct {
	// Execute makes the reaper act. Default: false, a dry run that reads the
	// fleet, decides and reports what it would do, and changes nothing (no
	// provider call that mutates, no approval request, no rate-limit budget,
	// no audit event).
	Execute bool `json:"execute,omitempty" yaml:"execute,omitempty"`
	// MinConfidence is the least verdict confidence, in (0, 1], for a
	// resource to be acted on (see Select). Default (0): 0.8, the default
	// ActThreshold of the detector's Ensemble, which recommends an action
	// only above it: with both defaults the reaper acts on what the
	// ensemble recommends and asks for no more. A lower value changes
	// nothing unless the ensemble's threshold is lowered too.
	MinConfidence float64 `json:"min_confidence,omitempty" yaml:"min_confidence,omitempty"`
	// Actions are the detector actions the reaper may carry out: stop,
	// terminate and downsize (a resize, which needs a Fleet.Resizer and
	// WithSizer; the downsize of a group, a lower capacity, is the
	// scaling package's and is skipped). Default: [stop]. Terminate and
	// downsize are opt-in.
	// With terminate allowed and a *detector.Ensemble (or a type that
	// embeds one: any detector.TerminateReporter), the scan reads the
	// activity of the kinds the ensemble terminates (detector.Terminable:
	// functions, volumes, load balancers) over its
	// EvidenceConfig.TerminateWindow (28 days by default), the evidence a
	// terminate needs: any use in it blocks the terminate. The activity
	// source must keep that long: a count that covers less (its
	// provider.ActivityCount.Since: a Prometheus server keeps 15 days by
	// default) blocks the terminate too; the AWS driver reads CloudWatch
	// at the period it keeps.
	// A host's own detector reads the activity window it reports
	// (detector.Needs), and its TerminateWindow for those kinds if it is
	// a detector.TerminateReporter.
	Actions []detector.Action `json:"actions,omitempty" yaml:"actions,omitempty"`
	// MaxActions bounds the actions taken (or, in a dry run, planned) per
	// run; candidates beyond it are deferred to a later run. An action
	// taken is a provider call that changed the resource or may have: one
	// the provider refused saying that nothing changed
	// (provider.ChangedNothing: denied, throttled), or one not made,
	// does not count; after a throttled one (provider.ErrThrottled) the
	// run's other candidates are deferred, so that a backend that asks
	// for fewer calls is not called once per candidate. Must be ≥ 0.
	// Default (0): 10, so that a wrong
	// verdict or policy touches at most ten resources before a person
	// reads a report.
	MaxActions int `json:"max_actions,omitempty" yaml:"max_actions,omitempty"`
	// Requester is the name the reaper gives in safety proposals and
	// approval requests; approvers must differ from it. Default: "reaper".
	Requester string `json:"requester,omitempty" yaml:"requester,omitempty"`
	// VerifyTimeout is how long, on the reaper's clock, an action may take
	// to reach its target state before it is reported unverified. Must be
	// ≥ 0. Default (0): 5m.
	VerifyTimeout time.Duration `json:"verify_timeout,omitempty" yaml:"verify_timeout,omitempty"`
	// VerifyInterval is the time between two polls of the provider while
	// verifying. Must be ≥ 0 and at most VerifyTimeout. Default (0): 10s,
	// or VerifyTimeout when that is shorter.
	VerifyInterval time.Duration `json:"verify_interval,omitempty" yaml:"verify_interval,omitempty"`
	// Interval is how long Run waits, on the reaper's clock, after one run
	// ends before it starts the next. Must be ≥ 0.
	// Default (0): 1h.
	Interval time.Duration `json:"interval,omitempty" yaml:"interval,omitempty"`
	// Filter selects the resources considered. Default: every resource.
	Filter provider.Filter `json:"filter,omitzero" yaml:"filter,omitempty"`
	// FleetTag is a tag key whose value names the fleet a resource belongs
	// to, for the safety engine's per-fleet share limit; the fleet's size
	// is the number of listed resources with the same value. The listed
	// resources without the tag (or with an empty value) are one fleet
	// of their own, named "(untagged)", share-limited as the others
	// (fail closed: a tag never set does not lift the limit). An
	// executing reaper with a FleetTag needs WithHistory, to record what
	// the limit counts. Default: "" (every resource is its own fleet and
	// is not share-limited).
	FleetTag string `json:"fleet_tag,omitempty" yaml:"fleet_tag,omitempty"`
}

// withDefaults returns c with its zero fields set to the defaults.
func (c Config) withDefaults() Config {
	if c.MinConfidence == 0 {
		c.MinConfidence = DefaultMinConfidence
	}
	if len(c.Actions) == 0 {
		c.Actions = []detector.Action{detector.ActionStop}
	}
	if c.MaxActions == 0 {
		c.MaxActions = DefaultMaxActions
	}
	if c.Requester == "" {
		c.Requester = DefaultRequester
	}
	if c.VerifyTimeout == 0 {
		c.VerifyTimeout = DefaultVerifyTimeout
	}
	if c.VerifyInterval == 0 {
		c.VerifyInterval = min(DefaultVerifyInterval, c.VerifyTimeout)
	}
	if c.Interval == 0 {
		c.Interval = DefaultInterval
	}
	return c
}

// Validate returns a *provider.InvalidError (matching provider.ErrInvalid)
// naming the first wrong field: a confidence outside (0, 1] or not finite,
// an action that is not stop, terminate or downsize, or repeated, a
// negative count or duration, a verify interval longer than the verify
// timeout, or a Requester approval.CheckIdentity refuses.
func (c Config) Validate() error {
	if math.IsNaN(c.MinConfidence) || c.MinConfidence < 0 || c.MinConfidence > 1 {
		return provider.Invalid("min_confidence", c.MinConfidence, "must be in (0, 1]; 0 means the default 0.8")
	}
	for i, a := range c.Actions {
		field := "actions[" + strconv.Itoa(i) + "]"
		switch a {
		case detector.ActionStop, detector.ActionTerminate, detector.ActionDownsize:
		default:
			return provider.Invalid(field, a, "must be stop, terminate or downsize")
		}
		if slices.Index(c.Actions, a) != i {
			return provider.Invalid(field, a, "is repeated")
		}
	}
	if c.MaxActions < 0 {
		return provider.Invalid("max_actions", c.MaxActions, "must be ≥ 0; 0 means the default 10")
	}
	if c.VerifyTimeout < 0 {
		return provider.Invalid("verify_timeout", c.VerifyTimeout, "must be ≥ 0")
	}
	if c.VerifyInterval < 0 {
		return provider.Invalid("verify_interval", c.VerifyInterval, "must be ≥ 0")
	}
	if c.Interval < 0 {
		return provider.Invalid("interval", c.Interval, "must be ≥ 0")
	}
	d := c.withDefaults()
	if d.VerifyInterval > d.VerifyTimeout {
		return provider.Invalid("verify_interval", c.VerifyInterval, "must not exceed verify_timeout "+d.VerifyTimeout.String())
	}
	if err := c.Filter.Validate(); err != nil {
		return err // its field is already "filter..."
	}
	if c.Requester != "" {
		if err := approval.CheckIdentity("requester", c.Requester); err != nil {
			return err
		}
	}
	return nil
}

// clone returns a copy of c that shares no slice or map with it: the
// actions and every field of the filter.
func (c Config) clone() Config {
	c.Actions = slices.Clone(c.Actions)
	f := &c.Filter
	f.IDs, f.Kinds, f.States = slices.Clone(f.IDs), slices.Clone(f.Kinds), slices.Clone(f.States)
	f.InstanceTypes, f.Tags = slices.Clone(f.InstanceTypes), maps.Clone(f.Tags)
	return c
}

// allows reports whether a is among the configured actions.
func (c Config) allows(a detector.Action) bool { return slices.Contains(c.Actions, a) }

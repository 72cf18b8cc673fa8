package detector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// ActivityConfig configures the activity strategy. The zero value means
// the defaults: every activity kind, scale 10, idle after 30 minutes quiet.
type ActivityConfig struct {
	// Kinds lists the activity kinds that count. Default (nil): all of
	// provider.ActivityKinds(). A non-nil empty list counts none: the
	// signal is always unknown (no activity data), no terminate is
	// recommended (it needs activity showing no use), and the reaper's
	// read before acting (Ensemble.Recheck) finds no use. Encoded, nil is
	// left out and an empty list is kept ([]), so that a round trip keeps
	// the one from the other.
	Kinds []provider.ActivityKind `json:"kinds,omitzero" yaml:"kinds,omitempty"`
	// Scale is the event count at which a kind's activity score
	// 1 − exp(−count/Scale) reaches 1 − 1/e. Must be > 0. Default: 10.
	Scale float64 `json:"scale,omitempty" yaml:"scale,omitempty"`
	// Quiet is how long a resource must see no activity before it counts
	// as idle. Default: 30m.
	Quiet time.Duration `json:"quiet,omitempty" yaml:"quiet,omitempty"`
}

// clone returns c with a copy of Kinds (nil stays nil, empty stays
// empty); see UtilizationConfig.clone.
func (c ActivityConfig) clone() ActivityConfig {
	c.Kinds = slices.Clone(c.Kinds)
	return c
}

// IsZero reports whether c is the zero value, the defaults: a non-nil
// empty Kinds is not (it counts none). The omitzero of encoding/json and
// the omitempty of YAML ask it.
func (c ActivityConfig) IsZero() bool { return reflect.ValueOf(c).IsZero() }

// MarshalYAML encodes c as its fields are tagged, and a non-nil empty
// Kinds as [], which omitempty would leave out: read back, the missing
// key would be nil, every kind.
func (c ActivityConfig) MarshalYAML() (any, error) {
	type plain ActivityConfig // without this method
	return yamlKeepingEmpty(plain(c), emptySlice("kinds", c.Kinds))
}

func (c ActivityConfig) withDefaults() ActivityConfig {
	if c.Kinds == nil {
		c.Kinds = provider.ActivityKinds()
	}
	if c.Scale == 0 {
		c.Scale = 10
	}
	if c.Quiet == 0 {
		c.Quiet = 30 * time.Minute
	}
	return c
}

// Validate checks the kinds, that Scale is finite and > 0 (0 means the
// default) and Quiet ≥ 0.
func (c ActivityConfig) Validate() error {
	for i, k := range c.Kinds {
		if err := k.Validate(); err != nil {
			var ie *provider.InvalidError
			if errors.As(err, &ie) { // named by its place: activity.kinds[i]
				return invalid(fmt.Sprintf("activity.kinds[%d]", i), string(k), ie.Reason)
			}
			return err
		}
	}
	if math.IsNaN(c.Scale) || math.IsInf(c.Scale, 0) || c.Scale < 0 {
		return invalid("activity.scale", c.Scale, "must be a finite number > 0 (0 means the default 10)")
	}
	if c.Quiet < 0 {
		return invalid("activity.quiet", c.Quiet, "must be ≥ 0 (0 means the default 30m)")
	}
	return nil
}

// Activity is the activity strategy. Each observed kind scores
// a = 1 − exp(−count/Scale); the idle score is 1 − max(a). The resource is
// idle when no counted kind has had an event for at least Quiet: a kind's
// Last time is used when the source knows it, otherwise its count over the
// input's activity window, which must then cover at least Quiet (the part
// the count covers: from its Since, when the source kept less). Without
// activity data the signal is unknown. It is safe for concurrent use.
type Activity struct{ cfg ActivityConfig }

// NewActivity returns the activity strategy for cfg, or an error matching
// provider.ErrInvalid naming the wrong field.
func NewActivity(cfg ActivityConfig) (*Activity, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Activity{cfg: cfg.clone().withDefaults()}, nil
}

// Config returns the configuration with defaults filled in, a copy:
// changing its Kinds does not change a.
func (a *Activity) Config() ActivityConfig { return a.cfg.clone() }

// Detect implements Detector.
func (a *Activity) Detect(ctx context.Context, in Input) (Verdict, error) {
	return detectOne(ctx, &in, SignalActivity, a.evaluate)
}

// recent reports whether c shows use within Quiet before now: its Last
// when the source knows it, else any event in the input's window.
func (a *Activity) recent(now time.Time, c provider.ActivityCount) bool {
	if !c.Last.IsZero() {
		return now.Sub(c.Last) < a.cfg.Quiet
	}
	return c.Count > 0
}

func (a *Activity) evaluate(in *Input, r *result) error {
	from := in.ActivityFrom
	if from.IsZero() {
		from = in.Now.Add(-a.cfg.Quiet)
	}
	r.window = Window{From: from, To: in.Now}
	if in.ActivityErr != nil {
		r.state = Unknown
		r.add(Reason{Signal: SignalActivity, Code: ReasonSourceError, Err: in.ActivityErr})
		return nil
	}
	seen := 0
	busiest := 0.0
	quiet := true
	window := in.Now.Sub(from)
	short := time.Duration(math.MaxInt64) // the shortest cover of a kind without a last event
	var shortKind provider.ActivityKind   // its kind
	quietFor := window                    // since the latest event or the shortest cover, when quiet
	for _, c := range in.Activity {
		if !slices.Contains(a.cfg.Kinds, c.Kind) {
			continue
		}
		seen++
		act := 1 - math.Exp(-c.Count/a.cfg.Scale)
		busiest = max(busiest, act)
		if a.recent(in.Now, c) {
			quiet = false
		}
		covers := c.Covers(from, in.Now)
		if c.Last.IsZero() {
			// Without a last event, quiet rests on the count's cover.
			if covers < short {
				short, shortKind = covers, c.Kind
			}
			quietFor = min(quietFor, covers)
		} else {
			quietFor = min(quietFor, in.Now.Sub(c.Last))
		}
		if c.Count > 0 {
			r.add(Reason{Signal: SignalActivity, Code: ReasonActive, Kind: c.Kind, Value: c.Count, Duration: covers})
		}
	}
	if seen == 0 {
		r.state = Unknown
		r.add(Reason{Signal: SignalActivity, Code: ReasonNoActivity})
		return nil
	}
	r.score = 1 - busiest
	switch {
	case !quiet:
		r.state = NotIdle
		r.score = min(r.score, 0.49)
	case short < a.cfg.Quiet:
		// A count over less than Quiet cannot prove quiet.
		r.state = Unknown
		r.score = 0
		r.add(Reason{Signal: SignalActivity, Code: ReasonShortHistory, Kind: shortKind, Duration: short, Limit: float64(a.cfg.Quiet)})
	default:
		r.state = Idle
		r.score = max(r.score, 0.51)
		r.add(Reason{Signal: SignalActivity, Code: ReasonQuiet, Duration: max(quietFor, a.cfg.Quiet)})
	}
	return nil
}

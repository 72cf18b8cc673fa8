package provider

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // the zone database, for a host image without one (distroless, scratch): a zone that does not load makes a resource protected
	"unicode"

	"github.com/idlescale/idlescale/internal/enumtext"
)

// Kind is the kind of a resource. The set is closed: Validate accepts the
// built-in kinds only. The zero value "" means not set; Resource.Validate
// refuses it.
type Kind string

// The resource kinds known to the library. Drivers may report other kinds
// only through Kind values that pass Validate.
const (
	KindInstance     Kind = "instance"      // a virtual machine
	KindGroup        Kind = "group"         // a horizontally scaled group (Auto Scaling group, deployment)
	KindFunction     Kind = "function"      // a serverless function
	KindDatabase     Kind = "database"      // a managed database instance
	KindVolume       Kind = "volume"        // a block-storage volume
	KindLoadBalancer Kind = "load_balancer" // a load balancer
)

// Kinds lists every built-in Kind.
func Kinds() []Kind {
	return []Kind{KindInstance, KindGroup, KindFunction, KindDatabase, KindVolume, KindLoadBalancer}
}

// Validate returns an *InvalidError unless k is a built-in Kind.
func (k Kind) Validate() error {
	if slices.Contains(Kinds(), k) {
		return nil
	}
	return Invalid("kind", string(k), "must be one of instance, group, function, database, volume, load_balancer")
}

// String returns the kind's value, such as "instance".
func (k Kind) String() string { return string(k) }

// MarshalText returns the kind's value.
func (k Kind) MarshalText() ([]byte, error) { return []byte(k), nil }

// UnmarshalText sets k from text: "" (not set) or a built-in kind; any
// other value is an *InvalidError naming it.
func (k *Kind) UnmarshalText(text []byte) error { return enumtext.Unmarshal(k, text, Kind.Validate) }

// State is the lifecycle state of a resource, following EC2's vocabulary.
// Groups, functions and load balancers that have no lifecycle are
// StateRunning while they exist. A volume is StateRunning while attached
// to an instance and StateStopped while detached (serving nothing, its
// storage still billed): the detector recommends deleting only a detached
// volume, so a driver that cannot tell reports StateRunning. The zero
// value "" means not set: Resource.Validate refuses it, and drivers always
// set a state (the memory provider's Add reads an unset state as running).
type State string

// The lifecycle states.
const (
	StatePending    State = "pending"    // starting
	StateRunning    State = "running"    // running and billed
	StateStopping   State = "stopping"   // on its way to stopped
	StateStopped    State = "stopped"    // stopped; storage still billed
	StateTerminated State = "terminated" // gone for good
)

// Validate returns an *InvalidError unless s is a known State.
func (s State) Validate() error {
	switch s {
	case StatePending, StateRunning, StateStopping, StateStopped, StateTerminated:
		return nil
	}
	return Invalid("state", string(s), "must be one of pending, running, stopping, stopped, terminated")
}

// String returns the state's value, such as "running".
func (s State) String() string { return string(s) }

// MarshalText returns the state's value.
func (s State) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText sets s from text: "" (not set) or a known state; any other
// value is an *InvalidError naming it.
func (s *State) UnmarshalText(text []byte) error { return enumtext.Unmarshal(s, text, State.Validate) }

// Criticality says how much harm stopping a resource would do. Safety rules
// treat CriticalityHigh and CriticalityCritical as critical workloads. The
// levels are ordered (Level); never compare their strings.
type Criticality string

// The criticality levels. The zero value means "not stated".
const (
	CriticalityUnknown  Criticality = ""
	CriticalityLow      Criticality = "low"
	CriticalityMedium   Criticality = "medium"
	CriticalityHigh     Criticality = "high"
	CriticalityCritical Criticality = "critical"
)

// Validate returns an *InvalidError unless c is a known Criticality.
func (c Criticality) Validate() error {
	switch c {
	case CriticalityUnknown, CriticalityLow, CriticalityMedium, CriticalityHigh, CriticalityCritical:
		return nil
	}
	return Invalid("criticality", string(c), "must be empty or one of low, medium, high, critical")
}

// Level returns c's rank for comparisons: 0 for CriticalityUnknown, then 1
// (low) to 4 (critical); -1 for a value Validate refuses.
func (c Criticality) Level() int {
	switch c {
	case CriticalityUnknown:
		return 0
	case CriticalityLow:
		return 1
	case CriticalityMedium:
		return 2
	case CriticalityHigh:
		return 3
	case CriticalityCritical:
		return 4
	}
	return -1
}

// String returns the criticality's value, such as "high" ("" when not
// stated).
func (c Criticality) String() string { return string(c) }

// MarshalText returns the criticality's value.
func (c Criticality) MarshalText() ([]byte, error) { return []byte(c), nil }

// UnmarshalText sets c from text: "" (not stated) or a known level; any
// other value is an *InvalidError naming it.
func (c *Criticality) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(c, text, Criticality.Validate)
}

// MaxIDLength is the longest resource ID accepted, in bytes (AWS ARNs
// reach 2048). It is the one limit on IDs in the SDK: drivers enforce it
// where an ID enters (ValidateID, Resource.Validate), and every package
// that keys on IDs accepts every ID up to it (the rate limiter's targets
// included), so a resource a provider lists can always be acted on.
const MaxIDLength = 2048

// ValidateID returns an *InvalidError unless id is a usable resource ID: not
// empty, at most MaxIDLength bytes, and free of white space and control
// characters.
func ValidateID(id string) error {
	switch {
	case id == "":
		return Invalid("id", id, "must not be empty")
	case len(id) > MaxIDLength:
		return Invalid("id", id[:32]+"…", "must be at most "+strconv.Itoa(MaxIDLength)+" bytes")
	}
	for i := range len(id) {
		// Printable ASCII other than the space is valid; anything else
		// is checked rune by rune (an ID is read on every provider call).
		if c := id[i]; c <= ' ' || c >= 0x7f {
			return validateIDRunes(id)
		}
	}
	return nil
}

// validateIDRunes is ValidateID's check of an ID's runes.
func validateIDRunes(id string) error {
	if strings.IndexFunc(id, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar }) >= 0 {
		return Invalid("id", id, "must not contain white space, control characters or invalid UTF-8")
	}
	return nil
}

// Resource is one cloud resource with the metadata the library decides on.
// Resources are values: drivers return copies, and changing one changes
// nothing in the cloud.
type Resource struct {
	// ID identifies the resource within its provider (instance ID, group
	// name, function name or ARN). Required.
	ID string `json:"id" yaml:"id"`
	// Kind is what the resource is. Required.
	Kind Kind `json:"kind" yaml:"kind"`
	// Provider names the driver that reported it ("memory", "aws", ...).
	Provider string `json:"provider,omitempty" yaml:"provider,omitempty"`
	// Region is the provider's region or zone; empty when not applicable.
	Region string `json:"region,omitempty" yaml:"region,omitempty"`
	// Name is a human-readable name (the Name tag on AWS).
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// State is the lifecycle state. The zero value is treated as running by
	// Validate's callers only if a driver sets it; drivers always set it.
	State State `json:"state" yaml:"state"`
	// Tags are the provider's tags or labels, copied verbatim.
	Tags map[string]string `json:"tags,omitempty" yaml:"tags,omitempty"`
	// Environment is the deployment environment, such as "production" or
	// "staging" (from the environment tag by convention).
	Environment string `json:"environment,omitempty" yaml:"environment,omitempty"`
	// Role is what the resource does, such as "web", "database",
	// "load_balancer" or "monitoring".
	Role string `json:"role,omitempty" yaml:"role,omitempty"`
	// Criticality says how harmful a stop would be.
	Criticality Criticality `json:"criticality,omitempty" yaml:"criticality,omitempty"`
	// Owner is the team or person responsible.
	Owner string `json:"owner,omitempty" yaml:"owner,omitempty"`
	// Protected is set when the resource carries a protection tag; safety
	// rules refuse to touch it without approval.
	Protected bool `json:"protected,omitempty" yaml:"protected,omitempty"`
	// TimeZone is the IANA time zone the resource serves (for business
	// hours and schedules); empty means the policy's time zone.
	TimeZone string `json:"time_zone,omitempty" yaml:"time_zone,omitempty"`
	// LaunchTime is when the resource was created or last launched.
	LaunchTime time.Time `json:"launch_time" yaml:"launch_time"`
	// HourlyCost is what the resource costs per hour while running, in the
	// host's currency (USD by convention). Zero means unknown.
	HourlyCost float64 `json:"hourly_cost,omitempty" yaml:"hourly_cost,omitempty"`
	// Size is the current size (instance type, vCPU, memory; function
	// memory and timeout). The zero value means unknown or not applicable.
	Size Size `json:"size,omitzero" yaml:"size,omitempty"`
	// ScaledBy names another autoscaler that changes the size of the
	// group, as the driver found it ("HorizontalPodAutoscaler shop/web"):
	// it would undo a change of the group's desired capacity, as the
	// change would undo its own, so the scaling Autoscaler plans no
	// change of the desired capacity of a group that has one. Empty when
	// the driver found none, and from drivers that do not look (each
	// driver's doc says whether it does).
	ScaledBy string `json:"scaled_by,omitempty" yaml:"scaled_by,omitempty"`
}

// Validate checks every field and returns an *InvalidError naming the first
// field that is wrong.
func (r Resource) Validate() error {
	if err := ValidateID(r.ID); err != nil {
		return err
	}
	if err := r.Kind.Validate(); err != nil {
		return err
	}
	if err := r.State.Validate(); err != nil {
		return err
	}
	if err := r.Criticality.Validate(); err != nil {
		return err
	}
	if c := r.HourlyCost; math.IsNaN(c) || math.IsInf(c, 0) || c < 0 || math.IsInf(c*HoursPerMonth, 0) {
		// A month past the largest float64 would make infinite savings
		// in a verdict, a reaper record or a report, which JSON cannot
		// encode.
		return Invalid("hourly_cost", c, "must be a finite number ≥ 0 whose month (× HoursPerMonth) is finite")
	}
	if r.TimeZone != "" {
		if _, err := LoadZone(r.TimeZone); err != nil {
			return Invalid("time_zone", r.TimeZone, "must be an IANA time zone name, not the machine's (Local)")
		}
	}
	for k := range r.Tags {
		if k == "" {
			return Invalid("tags", k, "keys must not be empty")
		}
	}
	if !r.Size.IsZero() {
		if err := r.Size.ValidateFor(r.Kind); err != nil {
			return within("size", err)
		}
	}
	return nil
}

// Clone returns a deep copy of r: its Tags map is copied.
func (r Resource) Clone() Resource {
	r.Tags = maps.Clone(r.Tags)
	return r
}

// ChangedFrom names the fields of r that differ from old, an earlier read
// of the same resource, in field order ("launch_time", "tags"): every
// field but State, which moves on its own (pending to running), and
// HourlyCost, a price. A decision made on old is not about r when any
// differs: a new launch time is a restart (which a grace period may
// cover), new tags or labels may make it critical or protected or move
// its time zone, a new size is another machine. Empty when none does.
func (r Resource) ChangedFrom(old Resource) []string {
	var out []string
	for _, f := range []struct {
		name string
		same bool
	}{
		{"id", r.ID == old.ID},
		{"kind", r.Kind == old.Kind},
		{"provider", r.Provider == old.Provider},
		{"region", r.Region == old.Region},
		{"name", r.Name == old.Name},
		{"tags", maps.Equal(r.Tags, old.Tags)},
		{"environment", r.Environment == old.Environment},
		{"role", r.Role == old.Role},
		{"criticality", r.Criticality == old.Criticality},
		{"owner", r.Owner == old.Owner},
		{"protected", r.Protected == old.Protected},
		{"time_zone", r.TimeZone == old.TimeZone},
		{"launch_time", r.LaunchTime.Equal(old.LaunchTime)},
		{"size", r.Size == old.Size},
		{"scaled_by", r.ScaledBy == old.ScaledBy},
	} {
		if !f.same {
			out = append(out, f.name)
		}
	}
	return out
}

// Location returns the resource's time zone, or fallback when it has none
// or the name does not load (see LoadZone).
func (r Resource) Location(fallback *time.Location) *time.Location {
	if r.TimeZone == "" {
		return fallback
	}
	loc, err := LoadZone(r.TimeZone)
	if err != nil {
		return fallback
	}
	return loc
}

// LoadZone loads the IANA time zone name, as time.LoadLocation does, but
// refuses "Local" and "localtime" (whatever the case), which
// time.LoadLocation resolves to the zone of the machine it runs on (the
// latter through the system's zoneinfo link to /etc/localtime): replicas
// in different zones would read the same name differently. It refuses ""
// too (time.LoadLocation's UTC). The error names the zone.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || strings.EqualFold(name, "Local") || strings.EqualFold(name, "localtime") {
		return nil, fmt.Errorf("time zone %q: want an IANA time zone name (\"Europe/Berlin\", \"UTC\"), not the zone of the machine the code runs on", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", name, err)
	}
	return loc, nil
}

// Age returns how long the resource has existed at now, or 0 when its
// launch time is unknown or in the future.
func (r Resource) Age(now time.Time) time.Duration {
	if r.LaunchTime.IsZero() || now.Before(r.LaunchTime) {
		return 0
	}
	return now.Sub(r.LaunchTime)
}

// ListedOnce returns the resources of listed whose ID it holds once, in
// their order, and, for each ID it holds more than once, how many times
// (nil when none is repeated). A resource listed twice is neither of its
// copies: they may disagree (a stale copy of an instance restarted since
// the other), and a decision must be made, re-read and acted on with one
// resource's evidence.
func ListedOnce(listed []Resource) (once []Resource, repeated map[string]int) {
	times := make(map[string]int, len(listed))
	for _, r := range listed {
		times[r.ID]++
	}
	if len(times) == len(listed) {
		return listed, nil
	}
	once = make([]Resource, 0, len(times))
	repeated = map[string]int{}
	for _, r := range listed {
		if n := times[r.ID]; n == 1 {
			once = append(once, r)
		} else {
			repeated[r.ID] = n
		}
	}
	return once, repeated
}

// HoursPerMonth is the number of hours in an average month
// (365.25 × 24 / 12): what turns a monthly price into an HourlyCost, and an
// hourly cost into monthly savings, in every package of the module.
const HoursPerMonth = 730.5

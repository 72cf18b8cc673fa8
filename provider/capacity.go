package provider

import "strconv"

// CapacitySpec is what a caller asks of a horizontally scaled group: its
// bounds and its desired size, in instances (or replicas), or in the
// group's own capacity units when it counts in them (an Auto Scaling
// group whose instance types have weights), as Capacity's counts are.
type CapacitySpec struct {
	// Min is the lowest size the group may have. Must be ≥ 0.
	Min int `json:"min" yaml:"min"`
	// Max is the highest size the group may have. Must be ≥ Min.
	Max int `json:"max" yaml:"max"`
	// Desired is the size the group should move to. Must lie in [Min, Max].
	Desired int `json:"desired" yaml:"desired"`
}

// Validate returns an *InvalidError unless 0 ≤ Min ≤ Desired ≤ Max.
func (c CapacitySpec) Validate() error {
	switch {
	case c.Min < 0:
		return Invalid("min", c.Min, "must be ≥ 0")
	case c.Max < 0:
		return Invalid("max", c.Max, "must be ≥ 0")
	case c.Min > c.Max:
		return Invalid("min", c.Min, "must be ≤ max "+strconv.Itoa(c.Max))
	case c.Desired < c.Min || c.Desired > c.Max:
		return Invalid("desired", c.Desired, "must lie in [min, max] = ["+strconv.Itoa(c.Min)+", "+strconv.Itoa(c.Max)+"]")
	}
	return nil
}

// Capacity is the observed state of a group: its spec plus how many
// instances exist and how many are ready to serve.
type Capacity struct {
	CapacitySpec `yaml:",inline"`

	// Current is how many instances exist now that are counted toward
	// Desired: launching or in service, not terminating, terminated, or set
	// aside outside the desired capacity (such as an Auto Scaling group's
	// Standby or warm pool instances), in Desired's units (the sum of the
	// instances' weights in a group that weighs them). It moves toward
	// Desired over time.
	Current int `json:"current" yaml:"current"`
	// Ready is how many of Current are in service (healthy, passing
	// checks). Ready ≤ Current.
	Ready int `json:"ready" yaml:"ready"`
}

// Validate checks the spec and that 0 ≤ Ready ≤ Current.
func (c Capacity) Validate() error {
	if err := c.CapacitySpec.Validate(); err != nil {
		return err
	}
	switch {
	case c.Current < 0:
		return Invalid("current", c.Current, "must be ≥ 0")
	case c.Ready < 0 || c.Ready > c.Current:
		return Invalid("ready", c.Ready, "must lie in [0, current] = [0, "+strconv.Itoa(c.Current)+"]")
	}
	return nil
}

// Settled reports whether the group has reached its desired size with every
// instance ready.
func (c Capacity) Settled() bool { return c.Current == c.Desired && c.Ready == c.Current }

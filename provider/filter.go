package provider

import (
	"slices"
)

// Filter selects resources for Inventory.List. Every set field must match
// (AND); within a slice field any element may match (OR). The zero Filter
// matches everything.
type Filter struct {
	// IDs keeps only these resource IDs.
	IDs []string `json:"ids,omitempty" yaml:"ids,omitempty"`
	// Kinds keeps only these kinds.
	Kinds []Kind `json:"kinds,omitempty" yaml:"kinds,omitempty"`
	// States keeps only these states.
	States []State `json:"states,omitempty" yaml:"states,omitempty"`
	// Region keeps only this region.
	Region string `json:"region,omitempty" yaml:"region,omitempty"`
	// InstanceTypes keeps only resources whose Size.InstanceType is one of
	// these (so only instances and databases with a known type).
	InstanceTypes []string `json:"instance_types,omitempty" yaml:"instance_types,omitempty"`
	// Environment keeps only this environment.
	Environment string `json:"environment,omitempty" yaml:"environment,omitempty"`
	// Tags keeps resources that have every key with exactly this value; an
	// empty value matches any value of the key.
	Tags map[string]string `json:"tags,omitempty" yaml:"tags,omitempty"`
}

// Validate checks every ID, kind and state named by the filter.
func (f Filter) Validate() error {
	for _, id := range f.IDs {
		if err := ValidateID(id); err != nil {
			return within("filter", err)
		}
	}
	for _, k := range f.Kinds {
		if err := k.Validate(); err != nil {
			return within("filter", err)
		}
	}
	for _, s := range f.States {
		if err := s.Validate(); err != nil {
			return within("filter", err)
		}
	}
	for k := range f.Tags {
		if k == "" {
			return Invalid("filter.tags", k, "keys must not be empty")
		}
	}
	for _, t := range f.InstanceTypes {
		if t == "" {
			return Invalid("filter.instance_types", t, "must not be empty")
		}
	}
	return nil
}

// Match reports whether r passes the filter.
func (f Filter) Match(r Resource) bool {
	if len(f.IDs) > 0 && !slices.Contains(f.IDs, r.ID) {
		return false
	}
	if len(f.Kinds) > 0 && !slices.Contains(f.Kinds, r.Kind) {
		return false
	}
	if len(f.States) > 0 && !slices.Contains(f.States, r.State) {
		return false
	}
	if len(f.InstanceTypes) > 0 && !slices.Contains(f.InstanceTypes, r.Size.InstanceType) {
		return false
	}
	if f.Region != "" && f.Region != r.Region {
		return false
	}
	if f.Environment != "" && f.Environment != r.Environment {
		return false
	}
	for k, want := range f.Tags {
		got, ok := r.Tags[k]
		if !ok || (want != "" && got != want) {
			return false
		}
	}
	return true
}

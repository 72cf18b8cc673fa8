package provider

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Size is the vertical size of a resource. Instances use InstanceType, VCPU
// and MemoryMiB; functions use MemoryMiB and Timeout. Fields that do not
// apply are zero.
type Size struct {
	// InstanceType is the provider's size name, such as "m5.large".
	InstanceType string `json:"instance_type,omitempty" yaml:"instance_type,omitempty"`
	// VCPU is the number of virtual CPUs (fractions allowed for shared
	// cores).
	VCPU float64 `json:"vcpu,omitempty" yaml:"vcpu,omitempty"`
	// MemoryMiB is the memory in MiB (for functions, the configured memory).
	MemoryMiB int `json:"memory_mib,omitempty" yaml:"memory_mib,omitempty"`
	// Timeout is a function's maximum run time.
	Timeout time.Duration `json:"timeout,omitempty" yaml:"timeout,omitempty"`
}

// String names s as a person reads it: its instance type when set (the
// type names its vCPUs and memory), else the fields it sets
// ("0.5 vCPU, 1024 MiB", "512 MiB, timeout 30s"), every digit of the
// vCPUs and none more; "none" for the zero Size.
func (s Size) String() string {
	if s.InstanceType != "" {
		return s.InstanceType
	}
	var parts []string
	if s.VCPU != 0 {
		parts = append(parts, strconv.FormatFloat(s.VCPU, 'f', -1, 64)+" vCPU")
	}
	if s.MemoryMiB != 0 {
		parts = append(parts, strconv.Itoa(s.MemoryMiB)+" MiB")
	}
	if s.Timeout != 0 {
		parts = append(parts, "timeout "+s.Timeout.String())
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// IsZero reports whether s is the zero Size.
func (s Size) IsZero() bool { return s == Size{} }

// Validate checks the fields that are set: VCPU finite and ≥ 0, MemoryMiB
// ≥ 0, Timeout ≥ 0, and at least one field set.
func (s Size) Validate() error {
	if math.IsNaN(s.VCPU) || math.IsInf(s.VCPU, 0) || s.VCPU < 0 {
		return Invalid("vcpu", s.VCPU, "must be a finite number ≥ 0")
	}
	if s.MemoryMiB < 0 {
		return Invalid("memory_mib", s.MemoryMiB, "must be ≥ 0")
	}
	if s.Timeout < 0 {
		return Invalid("timeout", s.Timeout, "must be ≥ 0")
	}
	if s.IsZero() {
		return Invalid("size", "{}", "must set at least one of instance_type, vcpu, memory_mib, timeout")
	}
	return nil
}

// ValidateFor validates s as a size for a resource of kind k: a function
// needs MemoryMiB > 0 and Timeout > 0 and no InstanceType; other kinds need
// InstanceType or MemoryMiB, and no Timeout. Provider-specific limits (such
// as Lambda's 128–10,240 MB) are the driver's to check.
func (s Size) ValidateFor(k Kind) error {
	if err := s.Validate(); err != nil {
		return err
	}
	if k == KindFunction {
		switch {
		case s.MemoryMiB <= 0:
			return Invalid("memory_mib", s.MemoryMiB, "a function needs memory > 0")
		case s.Timeout <= 0:
			return Invalid("timeout", s.Timeout, "a function needs a timeout > 0")
		case s.InstanceType != "":
			return Invalid("instance_type", s.InstanceType, "a function has no instance type")
		}
		return nil
	}
	if s.Timeout != 0 {
		return Invalid("timeout", s.Timeout, "only functions have a timeout")
	}
	if s.InstanceType == "" && s.MemoryMiB == 0 {
		return Invalid("instance_type", s.InstanceType, "must be set when memory_mib is not")
	}
	return nil
}

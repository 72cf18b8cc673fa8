package memory

import (
	"log/slog"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/provider"
)

// Config holds the name, timings and limits of the in-memory cloud, as a
// host would load them from YAML or JSON. The zero value means the
// defaults; negative durations are invalid. A zero duration means the
// default, not "at once": set the field to a tiny value such as
// time.Nanosecond for near-instant transitions in tests.
type Config struct {
	// Name is the provider name reported in Resource.Provider and by
	// Cloud.Name. Default: "memory".
	Name string `json:"name,omitempty" yaml:"name,omitempty"`
	// StartDelay is how long a started instance stays pending before it
	// runs. Default: 30s.
	StartDelay time.Duration `json:"start_delay,omitempty" yaml:"start_delay,omitempty"`
	// StopDelay is how long a stopped instance stays stopping. Default: 30s.
	StopDelay time.Duration `json:"stop_delay,omitempty" yaml:"stop_delay,omitempty"`
	// LaunchDelay is how long a new group instance takes to become ready.
	// Default: 1m.
	LaunchDelay time.Duration `json:"launch_delay,omitempty" yaml:"launch_delay,omitempty"`
	// DrainDelay is how long a removed group instance takes to disappear
	// (it stops serving at once). Default: 30s.
	DrainDelay time.Duration `json:"drain_delay,omitempty" yaml:"drain_delay,omitempty"`
	// FunctionMemoryMiB bounds a function's memory, inclusive.
	// Default: [128, 10240], AWS Lambda's limits.
	FunctionMemoryMiB [2]int `json:"function_memory_mib,omitzero" yaml:"function_memory_mib,omitempty"`
	// FunctionTimeout bounds a function's timeout, inclusive.
	// Default: [1s, 900s], AWS Lambda's limits.
	FunctionTimeout [2]time.Duration `json:"function_timeout,omitzero" yaml:"function_timeout,omitempty"`
}

// Validate reports the first invalid field as a *provider.InvalidError
// naming it ("config.stop_delay").
func (c Config) Validate() error {
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"start_delay", c.StartDelay}, {"stop_delay", c.StopDelay}, {"launch_delay", c.LaunchDelay}, {"drain_delay", c.DrainDelay}} {
		if d.v < 0 {
			return provider.Invalid("config."+d.name, d.v, "must be ≥ 0")
		}
	}
	if m := c.FunctionMemoryMiB; m != [2]int{} && (m[0] <= 0 || m[1] < m[0]) {
		return provider.Invalid("config.function_memory_mib", m, "must be [min, max] with 0 < min ≤ max")
	}
	if t := c.FunctionTimeout; t != [2]time.Duration{} && (t[0] <= 0 || t[1] < t[0]) {
		return provider.Invalid("config.function_timeout", t, "must be [min, max] with 0 < min ≤ max")
	}
	return nil
}

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.Name == "" {
		c.Name = "memory"
	}
	def(&c.StartDelay, 30*time.Second)
	def(&c.StopDelay, 30*time.Second)
	def(&c.LaunchDelay, time.Minute)
	def(&c.DrainDelay, 30*time.Second)
	if c.FunctionMemoryMiB == [2]int{} {
		c.FunctionMemoryMiB = [2]int{128, 10240}
	}
	if c.FunctionTimeout == [2]time.Duration{} {
		c.FunctionTimeout = [2]time.Duration{time.Second, 900 * time.Second}
	}
	return c
}

// Option wires a collaborator of a Cloud (its clock or logger); what
// configures behaviour is in Config.
type Option func(*Cloud)

// WithClock sets the clock that drives state transitions, capacity changes,
// injected latency and which metric samples are visible. Default: the wall
// clock (also for nil). *clock.Mock from github.com/benbjohnson/clock
// satisfies it; New refuses a nil one.
func WithClock(c clock.Clock) Option {
	return func(m *Cloud) {
		if c == nil {
			c = clock.Real{}
		}
		m.clock = c
	}
}

// WithLogger sets the logger for mutations (debug level). Credentials in
// what is logged (a URL with a password as a resource ID) are masked.
// Default (and nil): discard.
func WithLogger(l *slog.Logger) Option {
	return func(m *Cloud) {
		if l == nil {
			m.log = slog.New(slog.DiscardHandler)
			return
		}
		m.log = slog.New(redact.Handler(l.Handler()))
	}
}

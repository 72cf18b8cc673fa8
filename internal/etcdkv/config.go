package etcdkv

import (
	"strings"
	"time"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/provider"
)

// Config holds the settings every etcd-backed part has. A public package
// keeps them as fields of its own exported Config (with its own defaults
// and documentation) and converts to this type to validate and default
// them. The field paths in errors are the JSON names the public Configs
// use.
type Config struct {
	// Prefix is prepended to every key.
	Prefix string
	// RequestTimeout bounds every etcd request.
	RequestTimeout time.Duration
	// MaxRetries is how many times a failed request is sent again;
	// negative means never.
	MaxRetries int
	// MaxConflicts is how many lost compare-and-swap rounds an update
	// tolerates (see CAS).
	MaxConflicts int
}

// Validate returns a *provider.InvalidError naming the field:
// "request_timeout" or "max_conflicts" when negative, "prefix" when it
// contains a NUL byte.
func (c Config) Validate() error {
	if c.RequestTimeout < 0 {
		return provider.Invalid("request_timeout", c.RequestTimeout, "must not be negative")
	}
	if c.MaxConflicts < 0 {
		return provider.Invalid("max_conflicts", c.MaxConflicts, "must not be negative")
	}
	if strings.ContainsRune(c.Prefix, 0) {
		return provider.Invalid("prefix", c.Prefix, "must not contain NUL")
	}
	return nil
}

// Defaults are the settings the library's etcd stores share for their
// zero fields: keys under "idlescale/coord/", a 1s bound on each request
// and 4 retries. (MaxConflicts is a compare-and-swap store's own.)
var Defaults = Config{Prefix: "idlescale/coord/", RequestTimeout: time.Second, MaxRetries: 4}

// WithDefaults returns c with every zero field taken from d, and a
// negative MaxRetries turned into 0 (no retries).
func (c Config) WithDefaults(d Config) Config {
	if c.Prefix == "" {
		c.Prefix = d.Prefix
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = d.RequestTimeout
	}
	switch {
	case c.MaxRetries == 0:
		c.MaxRetries = d.MaxRetries
	case c.MaxRetries < 0:
		c.MaxRetries = 0
	}
	if c.MaxConflicts == 0 {
		c.MaxConflicts = d.MaxConflicts
	}
	return c
}

// Retrier returns the Retrier for c's RequestTimeout and MaxRetries on
// clk (nil: the real clock).
func (c Config) Retrier(clk clock.Clock) Retrier {
	return Retrier{Timeout: c.RequestTimeout, MaxRetries: c.MaxRetries, Clock: clk}
}

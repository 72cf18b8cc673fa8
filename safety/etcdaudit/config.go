package etcdaudit

import (
	"time"

	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/provider"
)

// Config configures a Log: where its keys live, how long events are kept
// and how hard it tries. The zero value means the defaults. All replicas
// that share the trail use the same Prefix.
type Config struct {
	// Prefix is prepended to every key; the events live under Prefix +
	// "audit/". Default: "idlescale/coord/".
	Prefix string `json:"prefix,omitempty"`
	// RequestTimeout bounds every etcd request. Default: 1s.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`
	// MaxRetries is how many times a failed request is retried (with a
	// random backoff of up to 40ms, 80ms, … 500ms). Default: 4. Negative:
	// none.
	MaxRetries int `json:"max_retries,omitempty"`
	// Retention is how long events are kept: each is written with a lease
	// that expires between Retention and Retention+Retention/30 after it
	// (whole seconds). At least 1m. Default: 720h (30 days). Negative:
	// kept until deleted.
	Retention time.Duration `json:"retention,omitempty"`
}

// Validate checks c and returns a *provider.InvalidError naming the
// field: a negative request_timeout, a prefix with a NUL byte, or a
// retention shorter than 1m.
func (c Config) Validate() error {
	if err := c.kv().Validate(); err != nil {
		return err
	}
	if c.Retention > 0 && c.Retention < time.Minute {
		return provider.Invalid("retention", c.Retention, "must be at least 1m")
	}
	return nil
}

// kv returns the settings c shares with the library's other etcd stores.
func (c Config) kv() etcdkv.Config {
	return etcdkv.Config{Prefix: c.Prefix, RequestTimeout: c.RequestTimeout, MaxRetries: c.MaxRetries}
}

func (c Config) withDefaults() Config {
	kv := c.kv().WithDefaults(etcdkv.Defaults)
	c.Prefix, c.RequestTimeout, c.MaxRetries = kv.Prefix, kv.RequestTimeout, kv.MaxRetries
	if c.Retention == 0 {
		c.Retention = 720 * time.Hour
	}
	return c
}

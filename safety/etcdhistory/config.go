package etcdhistory

import (
	"time"

	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// Config configures a History: where its keys live, how long records are
// kept and how hard it tries. The zero value means the defaults. All
// replicas that share the history use the same Prefix.
type Config struct {
	// Prefix is prepended to every key; the records live under Prefix +
	// "history/". Default: "idlescale/coord/".
	Prefix string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
	// RequestTimeout bounds every etcd request. Default: 1s.
	RequestTimeout time.Duration `json:"request_timeout,omitempty" yaml:"request_timeout,omitempty"`
	// MaxRetries is how many times a failed request is retried (with a
	// random backoff of up to 40ms, 80ms, … 500ms). Default: 4. Negative:
	// none.
	MaxRetries int `json:"max_retries,omitempty" yaml:"max_retries,omitempty"`
	// Keep is how long records are kept: each is written with a lease
	// that expires between Keep+Keep/30 and Keep+Keep/15 after it (whole
	// seconds). It must be at least the limits rule's Window, or ActedOn
	// fails (and the rule blocks); the extra Keep/30 lets a proposal's
	// Now lag the history's clock by that much. Every replica that shares
	// the history must use the same Keep: ActedOn refuses to count what a
	// shorter Keep of another replica may have forgotten (see the package
	// doc). At least 1m. Default: 24h (safety.DefaultHistoryKeep, as
	// MemoryHistory's).
	Keep time.Duration `json:"keep,omitempty" yaml:"keep,omitempty"`
}

// Validate checks c and returns a *provider.InvalidError naming the
// field: a negative request_timeout, a prefix with a NUL byte, or a keep
// that is negative or shorter than 1m.
func (c Config) Validate() error {
	if err := c.kv().Validate(); err != nil {
		return err
	}
	if c.Keep < 0 || c.Keep > 0 && c.Keep < time.Minute {
		return provider.Invalid("keep", c.Keep, "must be at least 1m (0 means 24h)")
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
	if c.Keep == 0 {
		c.Keep = safety.DefaultHistoryKeep
	}
	return c
}

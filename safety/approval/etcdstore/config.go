package etcdstore

import (
	"time"

	"github.com/idlescale/idlescale/internal/etcdkv"
)

// Config configures a Store: where its keys live and how hard it tries.
// The zero value means the defaults. All replicas that share approvals
// use the same Prefix.
type Config struct {
	// Prefix is prepended to every key; the requests live under Prefix +
	// "approvals/". Default: "idlescale/coord/".
	Prefix string `json:"prefix,omitempty"`
	// RequestTimeout bounds every etcd request. Default: 1s.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`
	// MaxRetries is how many times a failed request is retried (with a
	// random backoff of up to 40ms, 80ms, … 500ms). Default: 4, so that
	// with the default RequestTimeout the attempts span longer than an
	// etcd leader election (1s election timeout by default). Negative:
	// none.
	MaxRetries int `json:"max_retries,omitempty"`
	// MaxConflicts is how many lost compare-and-swap transactions an
	// Update tolerates (other replicas changing the same request) before
	// it fails with ErrStore. Default: 200.
	MaxConflicts int `json:"max_conflicts,omitempty"`
}

// Validate checks c and returns a *provider.InvalidError naming the
// field: a negative request_timeout or max_conflicts, or a prefix with a
// NUL byte.
func (c Config) Validate() error { return c.kv().Validate() }

// kv returns c as the settings the library's etcd stores share.
func (c Config) kv() etcdkv.Config {
	return etcdkv.Config{Prefix: c.Prefix, RequestTimeout: c.RequestTimeout, MaxRetries: c.MaxRetries, MaxConflicts: c.MaxConflicts}
}

// defaults are the values of Config's zero fields.
var defaults = etcdkv.Defaults.WithDefaults(etcdkv.Config{MaxConflicts: 200})

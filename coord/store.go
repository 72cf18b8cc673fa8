package coord

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdretry"
	"github.com/idlescale/idlescale/provider"
)

// StoreOptions configures ApprovalStore and AuditLog. The zero value means
// the defaults.
type StoreOptions struct {
	// Prefix is prepended to every key. Default: "idlescale/coord/".
	Prefix string `json:"prefix,omitempty"`
	// RequestTimeout bounds every etcd request. Default: 1s.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`
	// MaxRetries is how many times a failed request is retried with
	// backoff. Default: 4. Negative: none.
	MaxRetries int `json:"max_retries,omitempty"`
	// MaxConflicts is how many lost compare-and-swap transactions an
	// ApprovalStore.Update tolerates before it fails. Default: 200.
	MaxConflicts int `json:"max_conflicts,omitempty"`
	// AuditRetention is how long audit events are kept: each is written
	// with a lease that expires between AuditRetention and
	// AuditRetention+AuditRetention/30 after it. At least 1m. Default:
	// 720h (30 days). Negative: kept forever.
	AuditRetention time.Duration `json:"audit_retention,omitempty"`
}

// Validate checks o and returns a *provider.InvalidError naming the field.
func (o StoreOptions) Validate() error {
	if o.RequestTimeout < 0 {
		return provider.Invalid("request_timeout", o.RequestTimeout, "must not be negative")
	}
	if o.MaxConflicts < 0 {
		return provider.Invalid("max_conflicts", o.MaxConflicts, "must not be negative")
	}
	if o.AuditRetention > 0 && o.AuditRetention < time.Minute {
		return provider.Invalid("audit_retention", o.AuditRetention, "must be at least 1m")
	}
	if strings.ContainsRune(o.Prefix, 0) {
		return provider.Invalid("prefix", o.Prefix, "must not contain NUL")
	}
	return nil
}

func (o StoreOptions) withDefaults() StoreOptions {
	if o.Prefix == "" {
		o.Prefix = "idlescale/coord/"
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = time.Second
	}
	switch {
	case o.MaxRetries == 0:
		o.MaxRetries = 4
	case o.MaxRetries < 0:
		o.MaxRetries = 0
	}
	if o.MaxConflicts == 0 {
		o.MaxConflicts = 200
	}
	if o.AuditRetention == 0 {
		o.AuditRetention = 720 * time.Hour
	}
	return o
}

// Client is the part of *clientv3.Client that ApprovalStore and AuditLog
// use.
type Client interface {
	clientv3.KV
	clientv3.Lease
}

var _ Client = (*clientv3.Client)(nil)

// isNilClient reports whether cli is nil or a nil *clientv3.Client, on
// which every request panics.
func isNilClient(cli Client) bool {
	c, ok := cli.(*clientv3.Client)
	return cli == nil || (ok && c == nil)
}

// retrier runs etcd requests with a per-request timeout and retries.
type retrier struct {
	opts  StoreOptions
	clock clock.Clock
}

// do calls f with a per-request context until it succeeds, fails with an
// error that retrying cannot fix, or the retries or ctx run out. Errors
// returned wrap ErrStore (and ctx's error when ctx ended).
func (r retrier) do(ctx context.Context, op string, f func(ctx context.Context) error) error {
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("coord: %s: %w", op, err)
		}
		rctx, cancel := context.WithTimeout(ctx, r.opts.RequestTimeout)
		err := f(rctx)
		cancel()
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("coord: %s: %w: %w", op, ErrStore, errors.Join(cerr, err))
		}
		if !etcdretry.Retryable(err) || attempt >= r.opts.MaxRetries {
			return fmt.Errorf("coord: %s: %w after %d attempts: %w", op, ErrStore, attempt+1, err)
		}
		if err := etcdretry.Backoff(ctx, r.clock, attempt+1, 20*time.Millisecond, 500*time.Millisecond); err != nil {
			return fmt.Errorf("coord: %s: %w", op, err)
		}
	}
}

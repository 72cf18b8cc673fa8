package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// AuditLog is a safety.Auditor on etcd, shared by every replica: each
// event is one key, prefix + "audit/" + the event time (Unix nanoseconds,
// 19 digits) + "-" + a random suffix, holding the event as JSON, written
// with a lease so that events older than StoreOptions.AuditRetention
// disappear. Events reads them back in commit order. It is safe for
// concurrent use.
type AuditLog struct {
	cli Client
	r   retrier

	mu      sync.Mutex
	lease   clientv3.LeaseID
	leaseAt time.Time
}

var _ safety.Auditor = (*AuditLog)(nil)

// NewAuditLog returns an AuditLog on cli (usually a *clientv3.Client). It
// returns a *provider.InvalidError when opts is invalid. It makes no
// request.
func NewAuditLog(cli Client, opts StoreOptions) (*AuditLog, error) {
	if isNilClient(cli) {
		return nil, fmt.Errorf("coord: %w", provider.Invalid("client", nil, "must not be nil"))
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("coord: options: %w", err)
	}
	return &AuditLog{cli: cli, r: retrier{opts: opts.withDefaults(), clock: clock.Real{}}}, nil
}

func (l *AuditLog) dir() string { return l.r.opts.Prefix + "audit/" }

// Record writes ev; see safety.Auditor. A retried write reuses its key,
// so an event whose first reply was lost is stored once. It returns an
// error matching provider.ErrInvalid when ev has no time, and one
// matching ErrStore (and ctx's error) when etcd fails: then the event may
// or may not be stored.
func (l *AuditLog) Record(ctx context.Context, ev safety.AuditEvent) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("coord: audit: %w", err)
	}
	if ev.Time.IsZero() {
		return fmt.Errorf("coord: audit: %w", provider.Invalid("event.time", ev.Time, "must be set"))
	}
	ev.Time = ev.Time.UTC()
	val, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("coord: audit: encode: %w", err)
	}
	key := fmt.Sprintf("%s%019d-%016x", l.dir(), max(ev.Time.UnixNano(), 0), rand.Uint64())
	return l.r.do(ctx, "audit", func(ctx context.Context) error {
		lease, err := l.leaseID(ctx)
		if err != nil {
			return err
		}
		var opts []clientv3.OpOption
		if lease != clientv3.NoLease {
			opts = append(opts, clientv3.WithLease(lease))
		}
		if _, err = l.cli.Put(ctx, key, string(val), opts...); errors.Is(err, rpctypes.ErrLeaseNotFound) {
			l.dropLease(lease) // revoked or expired: grant a new one on retry
		}
		return err
	})
}

// Events returns the events with Time at or after since (all events for
// the zero time), in the order they were committed.
func (l *AuditLog) Events(ctx context.Context, since time.Time) ([]safety.AuditEvent, error) {
	from := l.dir()
	if !since.IsZero() {
		from = fmt.Sprintf("%s%019d", l.dir(), max(since.UnixNano(), 0))
	}
	var resp *clientv3.GetResponse
	err := l.r.do(ctx, "audit events", func(ctx context.Context) error {
		var err error
		resp, err = l.cli.Get(ctx, from, clientv3.WithRange(clientv3.GetPrefixRangeEnd(l.dir())),
			clientv3.WithSort(clientv3.SortByCreateRevision, clientv3.SortAscend))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]safety.AuditEvent, 0, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		var ev safety.AuditEvent
		if err := json.Unmarshal(kv.Value, &ev); err != nil {
			return nil, fmt.Errorf("coord: audit events: key %q: %w: %w", kv.Key, ErrStore, err)
		}
		out = append(out, ev)
	}
	return out, nil
}

// leaseID returns the lease for new events, granting one every
// AuditRetention/30.
func (l *AuditLog) leaseID(ctx context.Context) (clientv3.LeaseID, error) {
	ret := l.r.opts.AuditRetention
	if ret < 0 {
		return clientv3.NoLease, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.r.clock.Now()
	if l.lease != clientv3.NoLease && now.Sub(l.leaseAt) < ret/30 {
		return l.lease, nil
	}
	ttl := ret + ret/30
	resp, err := l.cli.Grant(ctx, int64(ttl/time.Second))
	if err != nil {
		return clientv3.NoLease, fmt.Errorf("grant lease: %w", err)
	}
	l.lease, l.leaseAt = resp.ID, now
	return l.lease, nil
}

func (l *AuditLog) dropLease(id clientv3.LeaseID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lease == id {
		l.lease = clientv3.NoLease
	}
}

package etcdkv

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
)

// Leases hands out the lease a store attaches to the keys it writes, so
// that keys nobody writes again disappear on their own. It grants one
// lease of TTL and grants a new one once Renew has passed on its clock
// since the last grant: a key therefore disappears between TTL-Renew and
// TTL after its last write, and a busy store grants one lease per Renew,
// not one per write. etcd counts a lease's TTL down only while its leader
// stays: unless the cluster runs with lease checkpoints (the
// LeaseCheckpoint and LeaseCheckpointPersist feature gates), a new leader
// gives every lease its whole TTL again, so a key may outlive TTL by the
// time between its last write and the last leader change. It is safe for
// concurrent use.
type Leases struct {
	cli   clientv3.Lease
	ttl   time.Duration
	renew time.Duration
	clock clock.Clock

	mu sync.Mutex
	id clientv3.LeaseID
	at time.Time
}

// MaxTTL is the longest lease etcd grants (its lease.MaxLeaseTTL, 9e9 s,
// about 285 years); it refuses a longer one.
const MaxTTL = 9_000_000_000 * time.Second

// NewLeases returns the Leases of a store on cli. ttl is rounded down to
// whole seconds (etcd's unit) and capped at MaxTTL; a negative ttl turns
// leases off (written keys are kept until deleted). c nil means the real
// clock. It makes no request.
func NewLeases(cli clientv3.Lease, ttl, renew time.Duration, c clock.Clock) *Leases {
	if c == nil {
		c = clock.Real{}
	}
	return &Leases{cli: cli, ttl: min(ttl, MaxTTL), renew: renew, clock: c}
}

// With calls write with the lease to attach to its puts
// (clientv3.WithLease), granting one first when none is current; the grant
// is bounded by ctx. When leases are off the lease is clientv3.NoLease,
// which etcd reads as "no lease". When write reports the lease gone
// (revoked, or expired while the store was idle) it is dropped, so that
// the next attempt grants a new one; rpctypes.ErrLeaseNotFound is
// retryable (Retryable). It returns write's error, or the grant's.
func (l *Leases) With(ctx context.Context, write func(lease clientv3.LeaseID) error) error {
	id, err := l.current(ctx)
	if err != nil {
		return err
	}
	err = write(id)
	if id != clientv3.NoLease && errors.Is(err, rpctypes.ErrLeaseNotFound) {
		l.drop(id)
	}
	return err
}

// current returns the lease to attach, granting a new one when there is
// none or Renew has passed since the last grant.
func (l *Leases) current(ctx context.Context) (clientv3.LeaseID, error) {
	if l.ttl < 0 {
		return clientv3.NoLease, nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.clock.Now()
	if l.id != clientv3.NoLease && now.Sub(l.at) < l.renew {
		return l.id, nil
	}
	resp, err := l.cli.Grant(ctx, int64(l.ttl/time.Second))
	if err != nil {
		return clientv3.NoLease, fmt.Errorf("grant lease: %w", err)
	}
	l.id, l.at = resp.ID, now
	return l.id, nil
}

func (l *Leases) drop(id clientv3.LeaseID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.id == id {
		l.id = clientv3.NoLease
	}
}

package etcdkv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
// time between its last write and the last leader change. With the
// Ledger option the store does not rely on that countdown alone: see
// Ledger. It is safe for concurrent use.
type Leases struct {
	cli   clientv3.Lease
	ttl   time.Duration
	renew time.Duration
	clock clock.Clock

	ledger *ledger

	mu sync.Mutex
	id clientv3.LeaseID
	at time.Time
	// sweep is set at a grant and taken by the next write that succeeds,
	// which sweeps the ledger (when there is one).
	sweep bool
}

// LeasesOption configures Leases.
type LeasesOption func(*Leases)

// Ledger makes Leases keep a ledger of the leases it grants under prefix
// through kv, so that their keys expire TTL after the grant on the
// store's clock even where etcd restarts a lease's countdown at each
// leader change. At each grant it writes the key prefix + the lease ID in
// hexadecimal, attached to the lease itself, holding the grant time on
// its clock and the TTL granted (JSON: {"granted":RFC 3339,"ttl_s":N});
// after the next write that succeeds it lists the ledger and revokes
// every lease granted longer than its TTL ago (which deletes its keys,
// the ledger's with them), whichever replica or process granted it, and
// deletes an entry whose lease is gone already: while some store on the
// ledger writes, a key disappears at most TTL+Renew after its last write,
// leader changes or not. An entry it cannot read (malformed, or attached
// to another lease than the one it names) is left alone.
//
// The ledger's requests never fail a write: a failed ledger write leaves
// that lease to etcd's countdown alone, and a failed listing or revoke
// waits for the next grant's sweep. They are bounded by the write's ctx:
// one write per Renew pays for a put before it and a listing and the
// revokes after it. The ledger holds one entry per Renew and store
// (TTL/Renew + 1 per replica, and one per restart), so listing it is
// cheap.
//
// Expiry then follows the clocks of the replicas: one whose clock is
// ahead by d revokes leases d early (and one behind by d records grant
// times d early), so keys written less than TTL ago may go; use it only
// for a store that loses nothing but work when a key goes early (a
// detector state is read again in full), never for one whose keys count
// what was done (a rate limit's history, an audit trail), which would
// undercount and let through more than it should. prefix must be outside
// every prefix that is listed for the store's data.
func Ledger(kv clientv3.KV, prefix string) LeasesOption {
	return func(l *Leases) { l.ledger = &ledger{kv: kv, prefix: prefix} }
}

// MaxTTL is the longest lease etcd grants (its lease.MaxLeaseTTL, 9e9 s,
// about 285 years); it refuses a longer one.
const MaxTTL = 9_000_000_000 * time.Second

// NewLeases returns the Leases of a store on cli. ttl is rounded down to
// whole seconds (etcd's unit) and capped at MaxTTL; a negative ttl turns
// leases off (written keys are kept until deleted). c nil means the real
// clock. It makes no request.
func NewLeases(cli clientv3.Lease, ttl, renew time.Duration, c clock.Clock, opts ...LeasesOption) *Leases {
	if c == nil {
		c = clock.Real{}
	}
	l := &Leases{cli: cli, ttl: min(ttl, MaxTTL), renew: renew, clock: c}
	for _, o := range opts {
		o(l)
	}
	return l
}

// With calls write with the lease to attach to its puts
// (clientv3.WithLease), granting one first when none is current; the grant
// is bounded by ctx. When leases are off the lease is clientv3.NoLease,
// which etcd reads as "no lease". When write reports the lease gone
// (revoked, or expired while the store was idle) it is dropped, so that
// the next attempt grants a new one; rpctypes.ErrLeaseNotFound is
// retryable (Retryable). With a Ledger, a grant also writes the lease's
// ledger entry before write, and the first write that succeeds after a
// grant sweeps the ledger; their failures are ignored. It returns write's
// error, or the grant's.
func (l *Leases) With(ctx context.Context, write func(lease clientv3.LeaseID) error) error {
	id, err := l.current(ctx)
	if err != nil {
		return err
	}
	err = write(id)
	if id != clientv3.NoLease && errors.Is(err, rpctypes.ErrLeaseNotFound) {
		l.drop(id)
	}
	if err == nil && l.ledger != nil && l.takeSweep() {
		l.ledger.sweep(ctx, l.cli, l.clock.Now())
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
	ttl := int64(l.ttl / time.Second)
	resp, err := l.cli.Grant(ctx, ttl)
	if err != nil {
		return clientv3.NoLease, fmt.Errorf("grant lease: %w", err)
	}
	l.id, l.at = resp.ID, now
	if l.ledger != nil {
		l.ledger.record(ctx, resp.ID, now, ttl)
		l.sweep = true
	}
	return l.id, nil
}

// takeSweep reports whether a sweep is due, and clears it.
func (l *Leases) takeSweep() bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	due := l.sweep
	l.sweep = false
	return due
}

func (l *Leases) drop(id clientv3.LeaseID) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.id == id {
		l.id = clientv3.NoLease
	}
}

// ledger is the record of the leases granted by the Leases of one store
// (of every replica); see Ledger.
type ledger struct {
	kv     clientv3.KV
	prefix string
}

// entry is a ledger entry's value.
type entry struct {
	Granted time.Time `json:"granted"`
	TTL     int64     `json:"ttl_s"`
}

// record writes id's entry, attached to id; a failure is ignored (the
// lease is left to etcd's countdown).
func (g *ledger) record(ctx context.Context, id clientv3.LeaseID, at time.Time, ttl int64) {
	v, err := json.Marshal(entry{Granted: at.UTC(), TTL: ttl})
	if err != nil {
		return
	}
	_, _ = g.kv.Put(ctx, g.prefix+strconv.FormatInt(int64(id), 16), string(v), clientv3.WithLease(id))
}

// sweep revokes the leases of the entries granted longer than their TTL
// before now, and deletes the entries whose lease is gone; failures are
// ignored (the next grant sweeps again).
func (g *ledger) sweep(ctx context.Context, leases clientv3.Lease, now time.Time) {
	resp, err := g.kv.Get(ctx, g.prefix, clientv3.WithPrefix())
	if err != nil {
		return
	}
	for _, kv := range resp.Kvs {
		if ctx.Err() != nil {
			return
		}
		id, err := strconv.ParseInt(strings.TrimPrefix(string(kv.Key), g.prefix), 16, 64)
		if err != nil || id == int64(clientv3.NoLease) || (kv.Lease != id && kv.Lease != int64(clientv3.NoLease)) {
			continue
		}
		var e entry
		if json.Unmarshal(kv.Value, &e) != nil || e.Granted.IsZero() || e.TTL <= 0 {
			continue
		}
		if now.Sub(e.Granted) <= time.Duration(min(e.TTL, int64(MaxTTL/time.Second)))*time.Second {
			continue
		}
		if _, err := leases.Revoke(ctx, clientv3.LeaseID(id)); errors.Is(err, rpctypes.ErrLeaseNotFound) {
			_, _ = g.kv.Delete(ctx, string(kv.Key))
		}
	}
}

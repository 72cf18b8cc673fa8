package coord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/provider"
)

// ShardsConfig configures a Shards runner: the replica it runs as, the
// shard count of the cluster, and its timings. ID and Shards are
// required; the zero values of the other fields mean the defaults.
type ShardsConfig struct {
	// ID is this replica's ID, its membership key and its value in the
	// shards' elections (a host or pod name). Required: 1 to 256 bytes,
	// without "/" or control characters; every live replica must have its
	// own: a second replica with a live one's ID is not let in (see
	// ErrDuplicateID).
	ID string `json:"id"`
	// Shards is the number of shards the resources hash to (see ShardOf).
	// Required: 1 to MaxShards, and the same on every replica: the first
	// replica records it in etcd, and a replica configured with another
	// count refuses to run (ErrShardCount) rather than split the fleet
	// differently.
	Shards int `json:"shards"`
	// Prefix is prepended to every key: the recorded shard count
	// (prefix+"count"), the membership keys (prefix+"members/"+ID) and the
	// shards' elections (prefix+"election/"+ShardName). Default:
	// "idlescale/coord/shards/".
	Prefix string `json:"prefix,omitempty"`
	// SessionTTL is the lease of the membership key and of each shard's
	// election: a replica that crashes leaves the membership, and loses
	// its shards, this long after its last keep-alive. Whole seconds, at
	// least 1s and at most etcd's longest lease (9e9 s). Default: 10s.
	SessionTTL time.Duration `json:"session_ttl,omitempty"`
	// RequestTimeout bounds each attempt of a single request. Default: 1s.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`
	// MaxRetries is how many times a failed request is sent again (see
	// ElectorConfig.MaxRetries). Default: 4. Negative: none.
	MaxRetries int `json:"max_retries,omitempty"`
	// RetryDelay is how long Run waits before registering or campaigning
	// again after a failure or a lost leadership. Default: 200ms.
	RetryDelay time.Duration `json:"retry_delay,omitempty"`
}

// Validate checks c and returns a *provider.InvalidError naming the
// field: a missing or malformed id, a shards count outside 1 to
// MaxShards, a session_ttl that is not whole seconds of at least 1s or
// that is longer than etcd grants, a negative request_timeout or
// retry_delay, or a prefix with a NUL byte.
func (c ShardsConfig) Validate() error {
	if err := validateName("id", c.ID); err != nil {
		return err
	}
	if err := checkShards(c.Shards); err != nil {
		return err
	}
	return c.elector(0).Validate()
}

// DefaultShardsPrefix is the default of ShardsConfig.Prefix.
const DefaultShardsPrefix = "idlescale/coord/shards/"

func (c ShardsConfig) withDefaults() ShardsConfig {
	if c.Prefix == "" {
		c.Prefix = DefaultShardsPrefix
	}
	e := c.elector(0).withDefaults()
	c.SessionTTL, c.RequestTimeout, c.RetryDelay = e.SessionTTL, e.RequestTimeout, e.RetryDelay
	if c.MaxRetries >= 0 {
		// A negative count stays negative: made 0, it would be the
		// default for each shard's Elector, which takes this config.
		c.MaxRetries = e.MaxRetries
	}
	return c
}

// elector returns the configuration of shard k's election.
func (c ShardsConfig) elector(k int) ElectorConfig {
	return ElectorConfig{
		Scope: ShardName(k, max(c.Shards, 1)), ID: c.ID, Prefix: c.Prefix + "election/",
		SessionTTL: c.SessionTTL, RequestTimeout: c.RequestTimeout, MaxRetries: c.MaxRetries, RetryDelay: c.RetryDelay,
	}
}

// Shards runs one replica's part of a sharded fleet: it registers the
// replica as a member of the cluster (a key bound to a lease of
// SessionTTL), watches the other members, and campaigns for the shards
// that Assign gives it among the live members, one Elector per shard. So:
//
//   - each shard is led by at most one replica at a time (its election),
//     and a leader's writes can be fenced with its Leadership;
//   - when a replica joins, the others resign the shards it now owns and
//     it is elected in their place;
//   - when a replica leaves (Run returns), it resigns its shards and
//     revokes its membership, and the others take its shards at once;
//   - when a replica crashes or is cut off from etcd, its membership key
//     and its shards' leader keys expire SessionTTL after its last
//     keep-alive; the others then take its shards.
//
// Between a change of membership and the moment every replica has seen
// it, two replicas may both want a shard: the election still gives it to
// one, and the other waits (or stops waiting when its view catches up).
//
// A Shards is safe for concurrent use; a replica runs one Run.
type Shards struct {
	cli    *clientv3.Client
	cfg    ShardsConfig
	r      etcdkv.Retrier
	opts   []Option
	clock  clock.Clock
	logger *slog.Logger

	mu      sync.Mutex
	leading map[int]bool
}

// NewShards returns a Shards runner for cfg on cli. It returns a
// *provider.InvalidError naming the field when cfg is invalid or cli is
// nil. It makes no request and starts no goroutine.
func NewShards(cfg ShardsConfig, cli *clientv3.Client, opts ...Option) (*Shards, error) {
	if cli == nil {
		return nil, fmt.Errorf("coord: shards: %w", provider.Invalid("client", nil, "must not be nil"))
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("coord: shards: %w", err)
	}
	cfg = cfg.withDefaults()
	o, err := newOptions(opts)
	if err != nil {
		return nil, fmt.Errorf("coord: shards: %w", err)
	}
	return &Shards{
		cli: cli, cfg: cfg, opts: opts, clock: o.clock, logger: o.logger,
		r:       etcdkv.Retrier{Timeout: cfg.RequestTimeout, MaxRetries: cfg.MaxRetries},
		leading: map[int]bool{},
	}, nil
}

// Config returns the configuration with the defaults filled in.
func (s *Shards) Config() ShardsConfig { return s.cfg }

// Leading returns the shards this replica leads now (its lead function is
// running for them), in increasing order.
func (s *Shards) Leading() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, 0, len(s.leading))
	for k := range s.leading {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func (s *Shards) membersPrefix() string { return s.cfg.Prefix + "members/" }

// shardRun is the Elector.Run of one shard.
type shardRun struct {
	cancel   context.CancelFunc
	done     chan struct{}
	stopping bool
}

// Run takes part in the cluster until ctx ends. For each shard this
// replica is elected for, it calls lead, in a goroutine of its own, with
// the shard and the Leadership, and a context that ends when the
// leadership is lost (lease expired or revoked), when the shard moves to
// another replica, or when ctx ends; lead should then return promptly,
// and it fences its writes with the Leadership in any case. When lead
// returns, the shard is resigned, and campaigned for again after
// RetryDelay while this replica owns it.
//
// Run returns nil when ctx ends, after resigning the shards it leads and
// revoking its membership; no goroutine it started outlives it. It
// returns an error matching ErrShardCount, before registering, when the
// cluster was started with another shard count, and a
// *provider.InvalidError when lead is nil. It has no other way to end: an
// etcd failure (unreachable, a lost membership lease) is logged, every
// shard is stopped (so that nothing acts while the membership is unsure),
// and Run registers again after RetryDelay. A replica whose ID another
// live replica has registered (ErrDuplicateID) leads nothing: it logs an
// error and tries again every SessionTTL, and so joins once the other's
// lease is gone (a crashed predecessor of a restarted pod).
func (s *Shards) Run(ctx context.Context, lead func(ctx context.Context, shard int, l *Leadership) error) error {
	if lead == nil {
		return fmt.Errorf("coord: shards: %w", provider.Invalid("lead", nil, "must not be nil"))
	}
	runs := map[int]*shardRun{}
	changed := make(chan struct{}, 1)
	defer func() {
		for _, r := range runs {
			r.cancel()
		}
		for _, r := range runs {
			<-r.done
		}
	}()
	var last clientv3.LeaseID // the lease of the last membership, if its revoke failed
	for ctx.Err() == nil {
		err := s.checkCount(ctx)
		switch {
		case errors.Is(err, ErrShardCount):
			s.logger.LogAttrs(ctx, slog.LevelError, "coord: shards: wrong shard count", slog.String("id", s.cfg.ID), slog.Any("error", err))
			return err
		case err == nil:
			err = s.member(ctx, runs, changed, lead, &last)
		}
		// Nothing acts while the membership is unsure.
		for _, r := range runs {
			r.cancel()
			r.stopping = true
		}
		if ctx.Err() != nil {
			return nil
		}
		wait := s.cfg.RetryDelay
		if errors.Is(err, ErrDuplicateID) {
			// The other holder's lease ends at most SessionTTL after its
			// last keep-alive: a crashed predecessor's soon, a live
			// duplicate's never, and this replica waits out of the
			// membership, saying so once a TTL.
			wait = s.cfg.SessionTTL
			s.logger.LogAttrs(ctx, slog.LevelError, "coord: shards: duplicate replica ID; not a member", slog.String("id", s.cfg.ID), slog.Any("error", err))
		} else {
			s.logger.LogAttrs(ctx, slog.LevelWarn, "coord: shards: membership failed; every shard stopped", slog.String("id", s.cfg.ID), slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.clock.After(wait):
		}
	}
	return nil
}

// checkCount records the shard count in etcd if none is recorded, and
// returns an error matching ErrShardCount when another count is.
func (s *Shards) checkCount(ctx context.Context) error {
	key := s.cfg.Prefix + "count"
	want := strconv.Itoa(s.cfg.Shards)
	var resp *clientv3.TxnResponse
	err := s.r.Do(ctx, func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, want)).Else(clientv3.OpGet(key)).Commit()
		return err
	})
	if err != nil {
		return fmt.Errorf("coord: shards: read the shard count: %w: %w", ErrStore, err)
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return fmt.Errorf("coord: shards: the shard count %q vanished: %w", key, ErrStore)
	}
	if got := string(kvs[0].Value); got != want {
		return fmt.Errorf("coord: shards: the cluster under %q runs %s shards, this replica (%s) is configured with %s (stop every replica and delete %q to change it): %w",
			s.cfg.Prefix, got, s.cfg.ID, want, key, ErrShardCount)
	}
	return nil
}

// member registers this replica, follows the membership and keeps runs in
// line with the assignment, until ctx ends (nil) or the membership fails.
// *last is the lease of this replica's last membership, which member
// replaces by its own.
func (s *Shards) member(ctx context.Context, runs map[int]*shardRun, changed chan struct{}, lead func(context.Context, int, *Leadership) error, last *clientv3.LeaseID) error {
	ttl := int64(s.cfg.SessionTTL / time.Second)
	var grant *clientv3.LeaseGrantResponse
	if err := s.r.Do(ctx, func(ctx context.Context) (err error) {
		grant, err = s.cli.Grant(ctx, ttl)
		return err
	}); err != nil {
		return fmt.Errorf("coord: shards: grant membership lease: %w: %w", ErrStore, err)
	}
	sctx, scancel := context.WithCancel(context.WithoutCancel(ctx))
	defer func() {
		scancel()
		// Leave at once, so that the others take the shards now rather
		// than after SessionTTL.
		_ = revoke(context.WithoutCancel(ctx), s.r, s.cli, grant.ID)
	}()
	sess, err := concurrency.NewSession(s.cli, concurrency.WithLease(grant.ID), concurrency.WithTTL(int(ttl)), concurrency.WithContext(sctx))
	if err != nil {
		return fmt.Errorf("coord: shards: membership session: %w: %w", ErrStore, err)
	}
	if err := s.register(ctx, grant.ID, *last); err != nil {
		return err
	}
	*last = grant.ID
	members, wch, wcancel, err := s.follow(ctx)
	defer func() { wcancel() }()
	if err != nil {
		return err
	}
	s.logger.LogAttrs(ctx, slog.LevelInfo, "coord: shards: registered", slog.String("id", s.cfg.ID), slog.Int("members", len(members)))
	s.reconcile(ctx, members, runs, changed, lead)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-sess.Done():
			return fmt.Errorf("coord: shards: membership lease of %s lost: %w", s.cfg.ID, ErrStore)
		case <-changed:
			s.reconcile(ctx, members, runs, changed, lead)
		case resp, ok := <-wch:
			if werr := etcdkv.WatchEnded(resp, ok); werr != nil {
				if ctx.Err() != nil {
					return nil
				}
				if !errors.Is(werr, rpctypes.ErrCompacted) {
					return fmt.Errorf("coord: shards: watch members: %w: %w", ErrStore, werr)
				}
				// The watch resumed (on another member, after its
				// connection was lost) from a revision etcd has
				// compacted since: the changes in between are lost, not
				// the membership. Read the members again and follow
				// them from there.
				wcancel()
				if members, wch, wcancel, err = s.follow(ctx); err != nil {
					return err
				}
				s.reconcile(ctx, members, runs, changed, lead)
				continue
			}
			for _, ev := range resp.Events {
				id := strings.TrimPrefix(string(ev.Kv.Key), s.membersPrefix())
				members[id] = ev.Type == clientv3.EventTypePut
				if !members[id] {
					delete(members, id)
				}
			}
			if !members[s.cfg.ID] {
				// Deleted by hand or by a revoke of its lease: the others
				// take its shards, so this replica must join again
				// rather than stay a member of nothing.
				return fmt.Errorf("coord: shards: the membership key of %s was deleted: %w", s.cfg.ID, ErrStore)
			}
			s.reconcile(ctx, members, runs, changed, lead)
		}
	}
}

// follow reads the members (this replica's own key among them, or an
// error matching ErrStore) and watches them from that read on, until
// cancel is called.
func (s *Shards) follow(ctx context.Context) (members map[string]bool, wch clientv3.WatchChan, cancel context.CancelFunc, err error) {
	cancel = func() {}
	var list *clientv3.GetResponse
	if err := s.r.Do(ctx, func(ctx context.Context) (err error) {
		list, err = s.cli.Get(ctx, s.membersPrefix(), clientv3.WithPrefix())
		return err
	}); err != nil {
		return nil, nil, cancel, fmt.Errorf("coord: shards: list members: %w: %w", ErrStore, err)
	}
	members = map[string]bool{}
	for _, kv := range list.Kvs {
		members[strings.TrimPrefix(string(kv.Key), s.membersPrefix())] = true
	}
	if !members[s.cfg.ID] {
		return nil, nil, cancel, fmt.Errorf("coord: shards: the membership key of %s was deleted as it registered: %w", s.cfg.ID, ErrStore)
	}
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	return members, s.cli.Watch(wctx, s.membersPrefix(), clientv3.WithPrefix(), clientv3.WithRev(list.Header.Revision+1)), cancel, nil
}

// register writes this replica's membership key under lease, unless
// another live replica holds it: then it returns an error matching
// ErrDuplicateID. A retried write that had landed finds the key under its
// own lease, and succeeds; a key under prev, this replica's last
// membership whose revoke failed (etcd was unreachable as it left), is
// taken over.
func (s *Shards) register(ctx context.Context, lease, prev clientv3.LeaseID) error {
	key := s.membersPrefix() + s.cfg.ID
	var resp *clientv3.TxnResponse
	if err := s.r.Do(ctx, func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, strconv.Itoa(s.cfg.Shards), clientv3.WithLease(lease))).
			Else(clientv3.OpGet(key)).Commit()
		return err
	}); err != nil {
		return fmt.Errorf("coord: shards: register %s: %w: %w", s.cfg.ID, ErrStore, err)
	}
	if resp.Succeeded {
		return nil
	}
	kvs := resp.Responses[0].GetResponseRange().Kvs
	switch {
	case len(kvs) == 0:
		return fmt.Errorf("coord: shards: the membership key of %s vanished as it registered: %w", s.cfg.ID, ErrStore)
	case prev != 0 && clientv3.LeaseID(kvs[0].Lease) == prev:
		rev := kvs[0].ModRevision
		if err := s.r.Do(ctx, func(ctx context.Context) (err error) {
			resp, err = s.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(key), "=", rev)).
				Then(clientv3.OpPut(key, strconv.Itoa(s.cfg.Shards), clientv3.WithLease(lease))).
				Else(clientv3.OpGet(key)).Commit()
			return err
		}); err != nil {
			return fmt.Errorf("coord: shards: register %s: %w: %w", s.cfg.ID, ErrStore, err)
		}
		if !resp.Succeeded {
			if kvs = resp.Responses[0].GetResponseRange().Kvs; len(kvs) == 0 || clientv3.LeaseID(kvs[0].Lease) != lease {
				return fmt.Errorf("coord: shards: the membership key of %s changed as it registered: %w", s.cfg.ID, ErrStore)
			}
		}
	case clientv3.LeaseID(kvs[0].Lease) != lease:
		return fmt.Errorf("coord: shards: another replica is registered as %s (%q, lease %x): every live replica needs its own ID; a restarted one is let in when the lease of its predecessor expires: %w",
			s.cfg.ID, key, kvs[0].Lease, ErrDuplicateID)
	}
	return nil
}

// reconcile starts the runs of the shards this replica owns among
// members, and stops the others.
func (s *Shards) reconcile(ctx context.Context, members map[string]bool, runs map[int]*shardRun, changed chan struct{}, lead func(context.Context, int, *Leadership) error) {
	for k, r := range runs {
		select {
		case <-r.done:
			delete(runs, k)
		default:
		}
	}
	ids := make([]string, 0, len(members))
	for id := range members {
		ids = append(ids, id)
	}
	owners, err := Assign(s.cfg.Shards, ids)
	if err != nil {
		// member ends the membership when its own key is not among
		// members, and the shard count is valid: Assign does not fail.
		// Were it to, this replica leads nothing.
		owners = nil
	}
	moved := 0
	for k := range s.cfg.Shards {
		mine := k < len(owners) && owners[k] == s.cfg.ID
		r, running := runs[k]
		switch {
		case mine && !running:
			runs[k] = s.start(ctx, k, changed, lead)
			moved++
		case !mine && running && !r.stopping:
			r.cancel()
			r.stopping = true
			moved++
		}
	}
	if moved > 0 {
		s.logger.LogAttrs(ctx, slog.LevelInfo, "coord: shards: rebalanced", slog.String("id", s.cfg.ID),
			slog.Int("members", len(members)), slog.Int("changed", moved))
	}
}

// start runs shard k's election in a goroutine; changed is signalled when
// it ends.
func (s *Shards) start(ctx context.Context, k int, changed chan struct{}, lead func(context.Context, int, *Leadership) error) *shardRun {
	rctx, cancel := context.WithCancel(ctx)
	r := &shardRun{cancel: cancel, done: make(chan struct{})}
	el, err := NewElector(s.cfg.elector(k), s.cli, s.opts...)
	go func() {
		defer func() {
			close(r.done)
			select {
			case changed <- struct{}{}:
			default:
			}
		}()
		if err != nil { // the config was validated: not expected
			s.logger.LogAttrs(ctx, slog.LevelError, "coord: shards: elector", slog.Int("shard", k), slog.Any("error", err))
			return
		}
		_ = el.Run(rctx, func(lctx context.Context, l *Leadership) error {
			s.mu.Lock()
			s.leading[k] = true
			s.mu.Unlock()
			defer func() {
				s.mu.Lock()
				delete(s.leading, k)
				s.mu.Unlock()
			}()
			return lead(lctx, k, l)
		})
	}()
	return r
}

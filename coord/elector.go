package coord

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.etcd.io/etcd/client/v3/concurrency"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/provider"
)

// ElectorConfig configures an Elector: the election it runs in, the
// replica it runs as, and its timings. Scope and ID are required; the
// zero values of the other fields mean the defaults.
//
// Scope and ID are configuration, not collaborators: a host loads them
// with the rest of its settings (the scope from its file, the ID from its
// host or pod name), one config per scope it campaigns for.
type ElectorConfig struct {
	// Scope names the election: "fleet" for the whole fleet, or a shard's
	// scope from ShardScope. Required: 1 to 256 bytes, without "/" or
	// control characters.
	Scope string `json:"scope"`
	// ID is this replica's value in the election, shown by
	// Elector.Leader and Leadership.ID (a host or pod name). Required,
	// with the same rules as Scope.
	ID string `json:"id"`
	// Prefix is prepended to every election key. Default:
	// "idlescale/coord/election/".
	Prefix string `json:"prefix,omitempty"`
	// SessionTTL is the lease of a candidate's session: a replica that
	// crashes loses its leadership this long after its last keep-alive.
	// Whole seconds, at least 1s and at most etcd's longest lease (9e9 s,
	// about 285 years). Default: 10s.
	SessionTTL time.Duration `json:"session_ttl,omitempty"`
	// RequestTimeout bounds each attempt of a single request (the session
	// grant, resign, leader lookups). The campaign's write and its wait
	// run under the caller's context (see the package doc: give the
	// client keepalives). Default: 1s.
	RequestTimeout time.Duration `json:"request_timeout,omitempty"`
	// MaxRetries is how many times a failed request is sent again, after
	// a random backoff of up to 40ms, 80ms, … 500ms, before the operation
	// fails: a request that times out on a loaded host, or meets an etcd
	// leader election, is not a lost leadership. Default: 4, so that with
	// the default RequestTimeout the attempts of one request span about
	// 6 s. Negative: none. Every retried request is safe to send again: a
	// grant whose reply was lost leaves a lease that expires after
	// SessionTTL, the campaign's write is create-if-absent on the
	// session's own key, and revoking a revoked lease is not an error.
	MaxRetries int `json:"max_retries,omitempty"`
	// RetryDelay is how long Run waits before campaigning again after a
	// failure or a lost leadership. Default: 200ms.
	RetryDelay time.Duration `json:"retry_delay,omitempty"`
}

// Validate checks c and returns a *provider.InvalidError naming the
// field: a missing or malformed scope or id, a session_ttl that is not
// whole seconds of at least 1s or that is longer than etcd grants, a
// negative request_timeout or retry_delay, or a prefix with a NUL byte.
func (c ElectorConfig) Validate() error {
	if err := validateName("scope", c.Scope); err != nil {
		return err
	}
	if err := validateName("id", c.ID); err != nil {
		return err
	}
	if c.SessionTTL < 0 || (c.SessionTTL > 0 && (c.SessionTTL < time.Second || c.SessionTTL%time.Second != 0)) {
		return provider.Invalid("session_ttl", c.SessionTTL, "must be whole seconds, at least 1s")
	}
	if c.SessionTTL > etcdkv.MaxTTL { // etcd would refuse every grant
		return provider.Invalid("session_ttl", c.SessionTTL, fmt.Sprintf("must be at most %v, etcd's longest lease", etcdkv.MaxTTL))
	}
	if err := (etcdkv.Config{Prefix: c.Prefix, RequestTimeout: c.RequestTimeout}).Validate(); err != nil {
		return err
	}
	if c.RetryDelay < 0 {
		return provider.Invalid("retry_delay", c.RetryDelay, "must not be negative")
	}
	return nil
}

func (c ElectorConfig) withDefaults() ElectorConfig {
	kv := etcdkv.Config{Prefix: c.Prefix, RequestTimeout: c.RequestTimeout, MaxRetries: c.MaxRetries}.WithDefaults(etcdkv.Config{
		Prefix: "idlescale/coord/election/", RequestTimeout: time.Second, MaxRetries: 4,
	})
	c.Prefix, c.RequestTimeout, c.MaxRetries = kv.Prefix, kv.RequestTimeout, kv.MaxRetries
	if c.SessionTTL == 0 {
		c.SessionTTL = 10 * time.Second
	}
	if c.RetryDelay == 0 {
		c.RetryDelay = 200 * time.Millisecond
	}
	return c
}

// Elector campaigns for the leadership of one scope (the whole fleet, or
// one shard of targets; see ShardScope) with etcd's concurrency.Election.
// Any number of replicas may run an Elector for the same scope; at most
// one of them is leader at a time, and its writes can be fenced.
//
// An Elector is safe for concurrent use, but a replica normally runs one
// Run loop per scope.
type Elector struct {
	cli    *clientv3.Client
	cfg    ElectorConfig
	r      etcdkv.Retrier // single requests: RequestTimeout each, MaxRetries
	clock  clock.Clock
	logger *slog.Logger
}

// Option configures the wiring of an Elector or a Shards runner.
type Option func(*options)

type options struct {
	logger *slog.Logger
	clock  clock.Clock
}

func newOptions(opts []Option) (options, error) {
	var o options
	for _, f := range opts {
		f(&o)
	}
	var err error
	if o.clock, err = etcdkv.ClockOf("coord", o.clock); err != nil {
		return o, err // a nil *clock.Mock: not the default, and would panic
	}
	if o.logger == nil {
		o.logger = slog.New(slog.DiscardHandler)
	}
	return o, nil
}

// WithLogger sets the logger for campaigns, lost leaderships and (for
// Shards) membership and rebalancing. Default (also for nil): discard.
func WithLogger(lg *slog.Logger) Option { return func(o *options) { o.logger = lg } }

// WithClock sets the clock Run waits on between campaigns (RetryDelay).
// Default (also for nil): the real clock. NewElector and NewShards refuse
// a nil pointer (a nil *clock.Mock).
func WithClock(c clock.Clock) Option { return func(o *options) { o.clock = c } }

// NewElector returns an Elector for cfg on cli. It returns a
// *provider.InvalidError naming the field when cfg is invalid or cli is
// nil. It makes no request and starts no goroutine.
func NewElector(cfg ElectorConfig, cli *clientv3.Client, opts ...Option) (*Elector, error) {
	if cli == nil {
		return nil, fmt.Errorf("coord: %w", provider.Invalid("client", nil, "must not be nil"))
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("coord: %w", err)
	}
	o, err := newOptions(opts)
	if err != nil {
		return nil, err
	}
	e := &Elector{cli: cli, cfg: cfg.withDefaults(), clock: o.clock, logger: o.logger}
	// The backoff between retries runs on the real clock: WithClock paces
	// only Run's campaigns.
	e.r = etcdkv.Retrier{Timeout: e.cfg.RequestTimeout, MaxRetries: e.cfg.MaxRetries}
	return e, nil
}

func validateName(field, s string) error {
	if s == "" || len(s) > 256 {
		return provider.Invalid(field, s, "must be 1 to 256 bytes")
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '/' {
			return provider.Invalid(field, s, `must not contain "/" or control characters`)
		}
	}
	return nil
}

// Scope returns the Elector's scope.
func (e *Elector) Scope() string { return e.cfg.Scope }

func (e *Elector) electionPrefix() string { return e.cfg.Prefix + e.cfg.Scope }

// Campaign blocks until this replica is the scope's leader, and returns
// the Leadership, or ctx's error once ctx ends, or an error matching
// ErrStore when etcd fails (or the session is lost while it waits). The
// caller must Resign the Leadership
// when done; it also ends on its own when the session's lease is lost.
func (e *Elector) Campaign(ctx context.Context) (*Leadership, error) {
	ttl := int64(e.cfg.SessionTTL / time.Second)
	var grant *clientv3.LeaseGrantResponse
	err := e.r.Do(ctx, func(ctx context.Context) (err error) {
		grant, err = e.cli.Grant(ctx, ttl)
		return err
	})
	switch {
	case err != nil && ctx.Err() != nil: // given up for ctx: etcd did not fail
		return nil, fmt.Errorf("coord: campaign %s: grant session lease: %w", e.cfg.Scope, ctx.Err())
	case err != nil:
		return nil, fmt.Errorf("coord: campaign %s: grant session lease: %w: %w", e.cfg.Scope, ErrStore, err)
	}
	// The session outlives this call: its keep-alive stops on Resign.
	sctx, scancel := context.WithCancel(context.WithoutCancel(ctx))
	sess, err := concurrency.NewSession(e.cli, concurrency.WithLease(grant.ID),
		concurrency.WithTTL(int(ttl)), concurrency.WithContext(sctx))
	if err != nil {
		scancel()
		e.revoke(grant.ID)
		return nil, fmt.Errorf("coord: campaign %s: session: %w: %w", e.cfg.Scope, ErrStore, err)
	}
	// A session lost while waiting ends the campaign: its key is gone.
	cctx, ccancel := context.WithCancel(ctx)
	stop := context.AfterFunc(sess.Ctx(), ccancel)
	key, rev, err := e.campaign(cctx, sess)
	stop()
	ccancel()
	if err != nil {
		lost := sess.Ctx().Err() != nil
		scancel()
		e.revoke(grant.ID)
		switch {
		case ctx.Err() != nil:
			return nil, fmt.Errorf("coord: campaign %s: %w", e.cfg.Scope, ctx.Err())
		case lost:
			return nil, fmt.Errorf("coord: campaign %s: session lost while waiting: %w", e.cfg.Scope, ErrStore)
		}
		return nil, fmt.Errorf("coord: campaign %s: %w: %w", e.cfg.Scope, ErrStore, err)
	}
	l := &Leadership{
		Scope: e.cfg.Scope, ID: e.cfg.ID,
		fence:   Fence{Key: key, Rev: rev},
		lease:   sess.Lease(),
		session: sess, election: concurrency.ResumeElection(sess, e.electionPrefix(), key, rev), cancel: scancel, r: e.r,
	}
	e.logger.LogAttrs(ctx, slog.LevelInfo, "coord: elected", slog.String("scope", e.cfg.Scope),
		slog.String("id", e.cfg.ID), slog.Int64("rev", l.fence.Rev))
	return l, nil
}

// campaign runs the campaign of sess's candidate until this replica
// leads, ctx ends, or a failed request is not worth retrying (see
// MaxRetries), and returns the candidate's key and its create revision.
// It writes the key, then waits until the keys created before it are
// deleted, as etcd's concurrency.Election.Campaign does, but without its
// clean-up once ctx ends: a delete under the client's own context, which
// nothing bounds, so that with etcd unreachable it would hold Campaign,
// and Run, long after ctx ended. Campaign revokes the session's lease
// instead (which deletes the key), with bounded requests. The write is
// create-if-absent on the session's own key, so a retry after a lost
// reply finds its own key and goes on waiting.
func (e *Elector) campaign(ctx context.Context, sess *concurrency.Session) (key string, rev int64, err error) {
	cli := sess.Client()
	pfx := e.electionPrefix() + "/"
	key = fmt.Sprintf("%s%x", pfx, sess.Lease())
	for failures := 0; ; {
		var resp *clientv3.TxnResponse
		resp, err = cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(key), "=", 0)).
			Then(clientv3.OpPut(key, e.cfg.ID, clientv3.WithLease(sess.Lease()))).
			Else(clientv3.OpGet(key)).Commit()
		if err == nil {
			rev = resp.Header.Revision
			if !resp.Succeeded { // written by an attempt whose reply was lost
				rev = resp.Responses[0].GetResponseRange().Kvs[0].CreateRevision
			}
			err = waitDeletes(ctx, cli, pfx, rev-1)
		}
		if err == nil || ctx.Err() != nil {
			return key, rev, err
		}
		if rerr := e.r.Retry(ctx, err, &failures); rerr != nil {
			return key, rev, rerr
		}
	}
}

// waitDeletes waits until no key under pfx created at or before maxRev
// is left (etcd's concurrency.waitDeletes): the candidates before this
// one have resigned or lost their sessions.
func waitDeletes(ctx context.Context, cli *clientv3.Client, pfx string, maxRev int64) error {
	opts := append(clientv3.WithLastCreate(), clientv3.WithMaxCreateRev(maxRev))
	for {
		resp, err := cli.Get(ctx, pfx, opts...)
		if err != nil {
			return err
		}
		if len(resp.Kvs) == 0 {
			return nil
		}
		if err := waitDelete(ctx, cli, string(resp.Kvs[0].Key), resp.Header.Revision); err != nil {
			return err
		}
	}
}

// waitDelete waits until key is deleted after revision rev, or until
// its watch finds rev compacted (etcd compacted its history between the
// read and the watch, or before a watch resumed on another member): the
// delete may be among the revisions lost, so it returns nil and
// waitDeletes reads the keys again.
func waitDelete(ctx context.Context, cli *clientv3.Client, key string, rev int64) error {
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wr clientv3.WatchResponse
	for wr = range cli.Watch(wctx, key, clientv3.WithRev(rev)) {
		for _, ev := range wr.Events {
			if ev.Type == clientv3.EventTypeDelete {
				return nil
			}
		}
	}
	switch err := wr.Err(); {
	case errors.Is(err, rpctypes.ErrCompacted):
		return nil // waitDeletes reads the keys again
	case err != nil:
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return errors.New("lost the watch waiting for a delete")
}

func (e *Elector) revoke(id clientv3.LeaseID) {
	_ = revoke(context.Background(), e.r, e.cli, id)
}

// revoke revokes lease id with r's retries; a lease that is already gone
// (revoked by an earlier attempt whose reply was lost, or expired) is not
// an error.
func revoke(ctx context.Context, r etcdkv.Retrier, cli clientv3.Lease, id clientv3.LeaseID) error {
	return r.Do(ctx, func(ctx context.Context) error {
		_, err := cli.Revoke(ctx, id)
		if errors.Is(err, rpctypes.ErrLeaseNotFound) {
			return nil
		}
		return err
	})
}

// Leader returns the id of the scope's current leader, or ErrNoLeader; an
// error matching ErrStore when etcd fails, or ctx's error once it ends.
func (e *Elector) Leader(ctx context.Context) (string, error) {
	var resp *clientv3.GetResponse
	err := e.r.Do(ctx, func(ctx context.Context) (err error) {
		resp, err = e.cli.Get(ctx, e.electionPrefix()+"/", clientv3.WithFirstCreate()...)
		return err
	})
	switch {
	case err != nil && ctx.Err() != nil: // given up for ctx: etcd did not fail
		return "", fmt.Errorf("coord: leader of %s: %w", e.cfg.Scope, ctx.Err())
	case err != nil:
		return "", fmt.Errorf("coord: leader of %s: %w: %w", e.cfg.Scope, ErrStore, err)
	}
	if len(resp.Kvs) == 0 {
		return "", fmt.Errorf("coord: leader of %s: %w", e.cfg.Scope, ErrNoLeader)
	}
	return string(resp.Kvs[0].Value), nil
}

// Run keeps campaigning for the scope until ctx ends. Each time this
// replica is elected it calls lead with a context that is cancelled when
// the leadership is lost (the session's lease expired or was revoked) or
// ctx ends; lead should return promptly then, and fence its writes with
// the Leadership in any case. When lead returns, Run resigns (so another
// replica takes over at once) and campaigns again after RetryDelay.
//
// Run returns nil when ctx ends, and a *provider.InvalidError, before
// campaigning, when lead is nil. It has no other way to end: a failed
// campaign (etcd unreachable, a lost session) and an error from lead are
// logged and followed by a new campaign, because a replica that stops
// campaigning can never lead again. Before it returns, Run resigns a
// leadership it holds, and no goroutine it started outlives it.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, l *Leadership) error) error {
	if lead == nil {
		return fmt.Errorf("coord: run %s: %w", e.cfg.Scope, provider.Invalid("lead", nil, "must not be nil"))
	}
	for {
		l, err := e.Campaign(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			e.logger.LogAttrs(ctx, slog.LevelWarn, "coord: campaign failed", slog.String("scope", e.cfg.Scope), slog.Any("error", err))
		} else {
			e.lead(ctx, l, lead)
		}
		if ctx.Err() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-e.clock.After(e.cfg.RetryDelay):
		}
	}
}

func (e *Elector) lead(ctx context.Context, l *Leadership, lead func(context.Context, *Leadership) error) {
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		select {
		case <-l.Done():
			e.logger.LogAttrs(ctx, slog.LevelWarn, "coord: leadership lost", slog.String("scope", e.cfg.Scope), slog.String("id", e.cfg.ID))
			cancel()
		case <-lctx.Done():
		}
	}()
	err := lead(lctx, l)
	cancel()
	<-done
	if err != nil && !errors.Is(err, context.Canceled) {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "coord: leader returned an error", slog.String("scope", e.cfg.Scope), slog.Any("error", err))
	}
	// Resign even when ctx has ended; its requests are bounded by
	// RequestTimeout and MaxRetries.
	if err := l.Resign(context.WithoutCancel(ctx)); err != nil {
		e.logger.LogAttrs(ctx, slog.LevelWarn, "coord: resign failed", slog.String("scope", e.cfg.Scope), slog.Any("error", err))
	}
}

// Leadership is one term of leadership of a scope. Its Fence conditions
// writes on the term still being current. It is safe for concurrent use.
type Leadership struct {
	// Scope is the scope led.
	Scope string
	// ID is this replica's id.
	ID string

	fence    Fence
	lease    clientv3.LeaseID
	session  *concurrency.Session
	election *concurrency.Election
	cancel   context.CancelFunc
	r        etcdkv.Retrier
	resignMu sync.Mutex  // etcd's Election has no lock: one Resign at a time
	resigned bool        // Resign was called; under resignMu
	lost     bool        // the session had ended before the first Resign; under resignMu
	revoked  atomic.Bool // a Resign revoked the lease (or found it gone)
}

// Fence returns the term's fencing token.
func (l *Leadership) Fence() Fence { return l.fence }

// Lease returns the lease of the term's session (an operator may revoke it
// to depose the leader).
func (l *Leadership) Lease() clientv3.LeaseID { return l.lease }

// Done is closed when the session ends: its lease was lost or revoked, or
// Resign was called. It is this replica's view; the fence is etcd's, and
// the two need not agree: the fence may refuse writes before Done is
// closed (the lease expired on etcd first), and may still accept them
// after (a Resign that could not reach etcd stops the keep-alive, so Done
// is closed, but the key stays until its lease expires, SessionTTL after
// the last keep-alive; etcd may be slower than this replica to expire
// it). No other replica leads while the key stays. Fence writes that
// must not land after the term, rather than rely on Done.
func (l *Leadership) Done() <-chan struct{} { return l.session.Done() }

// Resign ends the term: it deletes the leader key (so another replica is
// elected at once), revokes the session's lease (which deletes the key
// too, should the delete have failed) and stops its keep-alive; Done is
// closed when it returns. Each request is bounded by the Elector's
// RequestTimeout and retried up to its MaxRetries. Resign fails (ErrStore)
// only when the lease could not be revoked: the key then stays until the
// lease expires, SessionTTL after the keep-alive stopped. Calling it
// again after it failed revokes the lease again, and fails again while it
// cannot; calling it again after it succeeded, or after the lease was
// lost, does nothing more and returns nil.
//
// Resign sends its requests under ctx's values but not its end, as Run
// does and as a campaign revokes its lease: a leader that resigns with
// the context its loop ran under, ended as it leaves (defer
// l.Resign(ctx)), still hands over at once rather than SessionTTL later.
func (l *Leadership) Resign(ctx context.Context) error {
	if l.revoked.Load() {
		return nil // an earlier Resign removed the key: nothing more to do
	}
	ctx = context.WithoutCancel(ctx) // each request is bounded (RequestTimeout, MaxRetries)
	// The election sends its delete once (it forgets its key even when the
	// request fails); the revoke below is retried and removes the key with
	// the lease.
	l.resignMu.Lock()
	// A session that ended before any Resign lost its lease. One that an
	// earlier Resign ended did not: its revoke may have failed, and the
	// key stays until it succeeds or the lease expires.
	if !l.resigned {
		select {
		case <-l.session.Done():
			l.lost = true
		default:
		}
		l.resigned = true
	}
	lost := l.lost
	_ = l.r.Call(ctx, l.election.Resign)
	l.resignMu.Unlock()
	err := revoke(ctx, l.r, l.session.Client(), l.lease)
	if err == nil {
		l.revoked.Store(true)
	}
	// Stop the keep-alive and wait for the session to end, so that Done is
	// closed when Resign returns.
	l.cancel()
	wait := time.NewTimer(l.r.Timeout)
	defer wait.Stop()
	select {
	case <-l.session.Done():
	case <-wait.C:
	}
	if err != nil && !lost {
		return fmt.Errorf("coord: resign %s: %w: %w", l.Scope, ErrStore, err)
	}
	return nil
}

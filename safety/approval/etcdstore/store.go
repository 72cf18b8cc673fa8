package etcdstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety/approval"
)

// Client is the part of *clientv3.Client the store uses: plain key-value
// requests (it writes no leases).
type Client interface {
	clientv3.KV
}

var _ Client = (*clientv3.Client)(nil)

// Store is an approval.Store on etcd, shared by every replica that uses
// the same Config.Prefix. It passes approvaltest.Run and is safe for
// concurrent use.
type Store struct {
	cli   Client
	cfg   etcdkv.Config
	clock clock.Clock
	r     etcdkv.Retrier
}

var _ approval.Store = (*Store)(nil)

// Option configures a Store's wiring.
type Option func(*Store)

// WithClock sets the clock that paces retries and the backoff after a
// lost compare-and-swap. Default (also for nil): the real clock; a
// nil pointer is an error of New.
func WithClock(c clock.Clock) Option { return func(s *Store) { s.clock = c } }

// New returns a Store for cfg using cli (usually a *clientv3.Client, which
// the caller keeps and closes). It returns a *provider.InvalidError when
// cfg is invalid, cli is nil or WithClock was given a nil pointer. It
// makes no request and starts no goroutine.
func New(cfg Config, cli Client, opts ...Option) (*Store, error) {
	if err := etcdkv.CheckNew("etcdstore", cli, cfg); err != nil {
		return nil, err
	}
	s := &Store{cli: cli, cfg: cfg.kv().WithDefaults(defaults)}
	for _, o := range opts {
		o(s)
	}
	var err error
	if s.clock, err = etcdkv.ClockOf("etcdstore", s.clock); err != nil {
		return nil, err
	}
	s.r = s.cfg.Retrier(s.clock)
	return s, nil
}

func (s *Store) dir() string { return s.cfg.Prefix + "approvals/" }

// key returns the etcd key of the request with the given ID.
func (s *Store) key(id string) string { return s.dir() + url.PathEscape(id) }

// Create stores req if its ID is free; see approval.Store. It
// returns an error matching provider.ErrInvalid for an invalid request,
// approval.ErrExists for a taken ID, and ErrStore when etcd fails. The ID
// is taken even when another replica created an identical request: only
// this call's own write (its token, see the package doc) counts as
// created by it.
func (s *Store) Create(ctx context.Context, req approval.Request) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("etcdstore: create approval: %w", err)
	}
	if err := req.Validate(); err != nil {
		return err
	}
	val, token, err := encode(req)
	if err != nil {
		return fmt.Errorf("etcdstore: create approval %q: encode: %w", req.ID, err)
	}
	k := s.key(req.ID)
	var resp *clientv3.TxnResponse
	err = s.r.Op(ctx, "etcdstore: create approval", func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
			Then(clientv3.OpPut(k, string(val))).Else(clientv3.OpGet(k)).Commit()
		return err
	})
	if err != nil {
		if s.landed(ctx, k, token) {
			return nil
		}
		return err
	}
	if !resp.Succeeded && !holds(resp, token) {
		return fmt.Errorf("etcdstore: create approval %q: %w", req.ID, approval.ErrExists)
	}
	return nil
}

// record is a request as the store keeps it: the request's own JSON
// members plus "etcdstore_write", the token of the write that stored it
// (a name no approval.Request field uses). Values written before the
// token existed have none and decode the same; approval.Request ignores
// the member.
type record struct {
	approval.Request
	Write string `json:"etcdstore_write,omitempty"`
}

// encode returns req as stored by one write: its JSON with a fresh random
// token, and the token. One write (a Create, or one round of an Update)
// encodes once and sends the same bytes on every retry of its request,
// so that it recognises its own value afterwards (holds).
func encode(req approval.Request) (val []byte, token string, err error) {
	token = rand.Text() // crypto/rand: at least 128 random bits; it never fails
	val, err = json.Marshal(record{Request: req, Write: token})
	return val, token, err
}

// holds reports whether the Else branch of a failed conditional put read
// back the value of the write with the given token: a retried put whose
// first reply was lost (but which was applied) finds its own value. It
// compares tokens, not values: another replica that wrote the identical
// request wrote another token, and its write is not this one's success.
func holds(resp *clientv3.TxnResponse, token string) bool {
	return written(resp.Responses[0].GetResponseRange().Kvs, token)
}

// written reports whether kvs, a read of one key, holds the value of the
// write with the given token.
func written(kvs []*mvccpb.KeyValue, token string) bool {
	if len(kvs) != 1 {
		return false
	}
	var r struct {
		Write string `json:"etcdstore_write"`
	}
	return json.Unmarshal(kvs[0].Value, &r) == nil && r.Write == token
}

// landed reports whether key k holds the value of the write with the
// given token, whose request failed: it reads k once, for one request's
// timeout, under ctx's values but not its end. A write whose reply was
// lost may have been applied: its retries exhausted, or its caller's
// context ended while etcd committed it (an approver's HTTP request cut
// off). Found, the write succeeded, and the approval.Manager records the
// transition, which it audits past its caller's end; reported failed,
// it would be stored and never audited, and another replica could act on
// an approval the shared trail shows no one granting.
func (s *Store) landed(ctx context.Context, k, token string) bool {
	var resp *clientv3.GetResponse
	err := s.r.Call(context.WithoutCancel(ctx), func(ctx context.Context) (err error) {
		resp, err = s.cli.Get(ctx, k)
		return err
	})
	return err == nil && written(resp.Kvs, token)
}

// get reads id and its ModRevision.
func (s *Store) get(ctx context.Context, id string) (approval.Request, int64, error) {
	var resp *clientv3.GetResponse
	err := s.r.Op(ctx, "etcdstore: get approval", func(ctx context.Context) (err error) {
		resp, err = s.cli.Get(ctx, s.key(id))
		return err
	})
	if err != nil {
		return approval.Request{}, 0, err
	}
	if len(resp.Kvs) == 0 {
		return approval.Request{}, 0, fmt.Errorf("etcdstore: approval %q: %w", id, approval.ErrUnknown)
	}
	r, err := s.decode(resp.Kvs[0])
	if err != nil {
		return r, 0, fmt.Errorf("etcdstore: approval %q: decode: %w: %w", id, ErrStore, err)
	}
	return r, resp.Kvs[0].ModRevision, nil
}

// decode reads the request stored in kv. A value that is not the request
// of its key (null, {}, another request's copied under it) is an error:
// read as the request its key names, it would be changed, listed or
// verified in that one's name.
func (s *Store) decode(kv *mvccpb.KeyValue) (approval.Request, error) {
	var r approval.Request
	if err := json.Unmarshal(kv.Value, &r); err != nil {
		return approval.Request{}, err
	}
	if s.key(r.ID) != string(kv.Key) {
		return approval.Request{}, fmt.Errorf("the value under key %q is the request %q, not that key's", kv.Key, r.ID)
	}
	return r, nil
}

// Get returns the request; see approval.Store. It returns an error
// matching approval.ErrUnknown for an unknown ID, and ErrStore when etcd
// fails or the stored value cannot be decoded or is not the request
// with that ID.
func (s *Store) Get(ctx context.Context, id string) (approval.Request, error) {
	r, _, err := s.get(ctx, id)
	return r, err
}

// Update reads the request, calls fn on a copy and stores the result if
// nobody changed the request meanwhile, calling fn again on the fresh
// value otherwise; see approval.Store. fn's error is returned unchanged
// and stores nothing. It returns ErrStore when etcd fails or after
// Config.MaxConflicts lost transactions.
func (s *Store) Update(ctx context.Context, id string, fn func(*approval.Request) error) (approval.Request, error) {
	var next approval.Request
	err := etcdkv.CAS(ctx, s.clock, s.cfg.MaxConflicts, func() (bool, error) {
		var err error
		next, err = s.apply(ctx, id, fn)
		if errors.Is(err, errLost) {
			return false, nil
		}
		return err == nil, err
	}, func(lost int, cause error) error {
		if cause != nil {
			return fmt.Errorf("etcdstore: update approval %q: %w", id, cause)
		}
		return fmt.Errorf("etcdstore: update approval %q: %w: %d lost transactions", id, ErrStore, lost)
	})
	if err != nil {
		return approval.Request{}, err
	}
	return next, nil
}

// errLost is apply's report of a lost compare-and-swap.
var errLost = errors.New("lost")

// apply is one round of Update: read, change, validate, and write if the
// key's ModRevision is still the one read. The round's write has its own
// token, kept across the retries of its request. It returns errLost when
// another writer won, even when that writer stored the identical request
// (two replicas executing one approval for the same proposal at the same
// time): only one of them may act on it.
func (s *Store) apply(ctx context.Context, id string, fn func(*approval.Request) error) (approval.Request, error) {
	cur, rev, err := s.get(ctx, id)
	if err != nil {
		return approval.Request{}, err
	}
	next := cur.Clone()
	if err := fn(&next); err != nil {
		return approval.Request{}, err
	}
	if next.ID != id {
		return approval.Request{}, provider.Invalid("approval.id", next.ID, fmt.Sprintf("must not change (was %q)", id))
	}
	if err := next.Validate(); err != nil {
		return approval.Request{}, err
	}
	val, token, err := encode(next)
	if err != nil {
		return approval.Request{}, fmt.Errorf("etcdstore: update approval %q: encode: %w", id, err)
	}
	k := s.key(id)
	var resp *clientv3.TxnResponse
	err = s.r.Op(ctx, "etcdstore: update approval", func(ctx context.Context) (err error) {
		resp, err = s.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", rev)).
			Then(clientv3.OpPut(k, string(val))).Else(clientv3.OpGet(k)).Commit()
		return err
	})
	if err != nil {
		if s.landed(ctx, k, token) {
			return next, nil
		}
		return approval.Request{}, err
	}
	if !resp.Succeeded && !holds(resp, token) {
		return approval.Request{}, errLost
	}
	return next, nil
}

// List returns the requests matching f, sorted by CreatedAt then ID; see
// approval.Store. It returns ErrStore when etcd fails or a stored value
// cannot be decoded or is not the request its key names.
func (s *Store) List(ctx context.Context, f approval.Filter) ([]approval.Request, error) {
	var resp *clientv3.GetResponse
	err := s.r.Op(ctx, "etcdstore: list approvals", func(ctx context.Context) (err error) {
		resp, err = s.cli.Get(ctx, s.dir(), clientv3.WithPrefix())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]approval.Request, 0, len(resp.Kvs))
	var errs []error
	for _, kv := range resp.Kvs {
		r, err := s.decode(kv)
		if err != nil {
			errs = append(errs, fmt.Errorf("key %q: %w", kv.Key, err))
			continue
		}
		if f.Match(r) {
			out = append(out, r)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("etcdstore: list approvals: decode: %w: %w", ErrStore, errors.Join(errs...))
	}
	approval.Sort(out)
	return out, nil
}

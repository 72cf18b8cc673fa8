package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdretry"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety/approval"
)

// ApprovalStore is an approval.Store on etcd, shared by every
// replica: one key per request (prefix + "approvals/" + escaped ID)
// holding the request as JSON. Create is a put-if-absent transaction;
// Update is a compare-and-swap loop on the key's ModRevision, so
// concurrent approvers never lose each other's changes. It passes
// approvaltest.Run and is safe for concurrent use.
type ApprovalStore struct {
	cli Client
	r   retrier
}

var _ approval.Store = (*ApprovalStore)(nil)

// NewApprovalStore returns an ApprovalStore on cli (usually a
// *clientv3.Client). It returns a *provider.InvalidError when opts is
// invalid. It makes no request.
func NewApprovalStore(cli Client, opts StoreOptions) (*ApprovalStore, error) {
	if isNilClient(cli) {
		return nil, fmt.Errorf("coord: %w", provider.Invalid("client", nil, "must not be nil"))
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("coord: options: %w", err)
	}
	return &ApprovalStore{cli: cli, r: retrier{opts: opts.withDefaults(), clock: clock.Real{}}}, nil
}

func (s *ApprovalStore) dir() string { return s.r.opts.Prefix + "approvals/" }

func (s *ApprovalStore) key(id string) string { return s.dir() + url.PathEscape(id) }

// Create stores req if its ID is free; see approval.Store. It
// returns an error matching provider.ErrInvalid for an invalid request,
// approval.ErrExists for a taken ID, and ErrStore when etcd fails.
func (s *ApprovalStore) Create(ctx context.Context, req approval.Request) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("coord: create approval: %w", err)
	}
	if err := req.Validate(); err != nil {
		return err
	}
	val, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("coord: create approval %q: encode: %w", req.ID, err)
	}
	k := s.key(req.ID)
	var resp *clientv3.TxnResponse
	err = s.r.do(ctx, "create approval", func(ctx context.Context) error {
		var err error
		resp, err = s.cli.Txn(ctx).If(clientv3.Compare(clientv3.CreateRevision(k), "=", 0)).
			Then(clientv3.OpPut(k, string(val))).Else(clientv3.OpGet(k)).Commit()
		return err
	})
	if err != nil {
		return err
	}
	if !resp.Succeeded {
		// A retried put whose first reply was lost finds its own value.
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) == 1 && string(kvs[0].Value) == string(val) {
			return nil
		}
		return fmt.Errorf("coord: create approval %q: %w", req.ID, approval.ErrExists)
	}
	return nil
}

// get reads id and its ModRevision.
func (s *ApprovalStore) get(ctx context.Context, id string) (approval.Request, int64, error) {
	var resp *clientv3.GetResponse
	err := s.r.do(ctx, "get approval", func(ctx context.Context) error {
		var err error
		resp, err = s.cli.Get(ctx, s.key(id))
		return err
	})
	if err != nil {
		return approval.Request{}, 0, err
	}
	if len(resp.Kvs) == 0 {
		return approval.Request{}, 0, fmt.Errorf("coord: approval %q: %w", id, approval.ErrUnknown)
	}
	var r approval.Request
	if err := json.Unmarshal(resp.Kvs[0].Value, &r); err != nil {
		return r, 0, fmt.Errorf("coord: approval %q: decode: %w: %w", id, ErrStore, err)
	}
	return r, resp.Kvs[0].ModRevision, nil
}

// Get returns the request; see approval.Store. It returns an error
// matching approval.ErrUnknown for an unknown ID.
func (s *ApprovalStore) Get(ctx context.Context, id string) (approval.Request, error) {
	r, _, err := s.get(ctx, id)
	return r, err
}

// Update reads the request, calls fn on a copy and stores the result if
// nobody changed the request meanwhile, calling fn again on the fresh
// value otherwise; see approval.Store. fn's error is returned
// unchanged and stores nothing.
func (s *ApprovalStore) Update(ctx context.Context, id string, fn func(*approval.Request) error) (approval.Request, error) {
	for conflicts := 0; ; {
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
		val, err := json.Marshal(next)
		if err != nil {
			return approval.Request{}, fmt.Errorf("coord: update approval %q: encode: %w", id, err)
		}
		k := s.key(id)
		var resp *clientv3.TxnResponse
		err = s.r.do(ctx, "update approval", func(ctx context.Context) error {
			resp, err = s.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(k), "=", rev)).
				Then(clientv3.OpPut(k, string(val))).Else(clientv3.OpGet(k)).Commit()
			return err
		})
		if err != nil {
			return approval.Request{}, err
		}
		if resp.Succeeded {
			return next, nil
		}
		// A retried put whose first reply was lost finds its own value.
		if kvs := resp.Responses[0].GetResponseRange().Kvs; len(kvs) == 1 && string(kvs[0].Value) == string(val) {
			return next, nil
		}
		conflicts++
		if conflicts >= s.r.opts.MaxConflicts {
			return approval.Request{}, fmt.Errorf("coord: update approval %q: %w: %d lost transactions",
				id, ErrStore, conflicts)
		}
		if err := etcdretry.Backoff(ctx, s.r.clock, conflicts, time.Millisecond, 20*time.Millisecond); err != nil {
			return approval.Request{}, fmt.Errorf("coord: update approval %q: %w", id, err)
		}
	}
}

// List returns the requests matching f, sorted by CreatedAt then ID; see
// approval.Store.
func (s *ApprovalStore) List(ctx context.Context, f approval.Filter) ([]approval.Request, error) {
	var resp *clientv3.GetResponse
	err := s.r.do(ctx, "list approvals", func(ctx context.Context) error {
		var err error
		resp, err = s.cli.Get(ctx, s.dir(), clientv3.WithPrefix())
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]approval.Request, 0, len(resp.Kvs))
	var errs []error
	for _, kv := range resp.Kvs {
		var r approval.Request
		if err := json.Unmarshal(kv.Value, &r); err != nil {
			errs = append(errs, fmt.Errorf("key %q: %w", kv.Key, err))
			continue
		}
		if f.Match(r) {
			out = append(out, r)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("coord: list approvals: decode: %w: %w", ErrStore, errors.Join(errs...))
	}
	approval.Sort(out)
	return out, nil
}

package coord

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Fence is the fencing token of one leadership term: the leader key and
// its create revision. A write conditioned on it (Cmp) commits only while
// that very key exists, that is while the term lasts: once the session's
// lease expires or is revoked, or the leader resigns, the key is deleted
// and every fenced write of the deposed leader is refused, even one that
// was in flight. A Fence is a plain value; it may be passed to another
// client of the same cluster.
type Fence struct {
	// Key is the leader key of the term.
	Key string `json:"key"`
	// Rev is its create revision, unique to the term.
	Rev int64 `json:"rev"`
}

// Cmp returns the comparison that holds only during the term, to add to
// the If of a transaction.
func (f Fence) Cmp() clientv3.Cmp {
	return clientv3.Compare(clientv3.CreateRevision(f.Key), "=", f.Rev)
}

// Do commits ops in one transaction on kv if and only if the term is
// current and every cmp holds. It returns the response to ops (with the
// transaction's header: its Revision is the store's after the commit),
// an error matching ErrFenced when the term has ended, the response with
// Succeeded false when only one of cmps failed, an error matching ErrStore when etcd fails, and ctx's error
// (not ErrStore: etcd did not fail) once ctx has ended. It sends one
// attempt, bounded by ctx: after a failure the write may or may not have
// been applied, so a caller that retries should make its ops idempotent.
func (f Fence) Do(ctx context.Context, kv clientv3.KV, cmps []clientv3.Cmp, ops ...clientv3.Op) (*clientv3.TxnResponse, error) {
	if f.Key == "" || f.Rev <= 0 {
		return nil, fmt.Errorf("coord: fenced write: the zero Fence: %w", ErrFenced)
	}
	inner := clientv3.OpTxn(cmps, ops, nil)
	resp, err := kv.Txn(ctx).If(f.Cmp()).Then(inner).Commit()
	if err != nil && ctx.Err() != nil { // given up for ctx: etcd did not fail
		return nil, fmt.Errorf("coord: fenced write (it may or may not have been applied): %w", ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("coord: fenced write: %w: %w", ErrStore, err)
	}
	if !resp.Succeeded {
		return resp, fmt.Errorf("coord: fenced write under %s@%d: %w", f.Key, f.Rev, ErrFenced)
	}
	r := resp.Responses[0].GetResponseTxn()
	r.Header = resp.Header // etcd leaves a nested transaction's empty
	return (*clientv3.TxnResponse)(r), nil
}

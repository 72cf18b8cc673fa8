package shardsweep

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/detector"
)

// claimRecord is the value of a claim key: who claimed the resource for
// the period, under which term, and the outcome once known.
type claimRecord struct {
	Replica  string          `json:"replica"`
	FenceKey string          `json:"fence_key"`
	FenceRev int64           `json:"fence_rev"`
	Action   detector.Action `json:"action"`
	// Outcome is "claimed" until Act returns, then "acted" or "failed: …".
	Outcome string `json:"outcome"`
}

// claim is a claim this replica holds (ours) or found (not ours).
type claim struct {
	key  string
	rec  claimRecord
	rev  int64 // the claim key's mod revision, when ours
	ours bool
}

func (r *Runner) shardPrefix(k int) string {
	return r.cfg.Prefix + coord.ShardName(k, r.cfg.Shards.Shards) + "/"
}

func (r *Runner) claimsPrefix(k int) string { return r.shardPrefix(k) + "claims/" }

// periodKey is the sortable name of a period: its Unix seconds, 20 digits.
func periodKey(t time.Time) string { return fmt.Sprintf("%020d", t.Unix()) }

func (r *Runner) claimKey(k int, period time.Time, id string) string {
	return r.claimsPrefix(k) + periodKey(period) + "/" + url.PathEscape(id)
}

func (r *Runner) doneKey(k int) string { return r.shardPrefix(k) + "done" }

// claim claims v's resource for period under fence f: in one transaction
// that commits only while the term lasts and no claim exists. It returns
// an error matching coord.ErrFenced when the term has ended and
// coord.ErrStore when etcd failed. A claim found with this very term is
// ours (a retry after a lost reply); any other is not.
func (r *Runner) claim(ctx context.Context, f coord.Fence, k int, period time.Time, v detector.Verdict) (claim, error) {
	c := claim{key: r.claimKey(k, period, v.ResourceID), rec: claimRecord{
		Replica: r.cfg.Shards.ID, FenceKey: f.Key, FenceRev: f.Rev, Action: v.Action, Outcome: "claimed",
	}}
	val, err := json.Marshal(c.rec)
	if err != nil {
		return c, fmt.Errorf("shardsweep: claim %s: %w", v.ResourceID, err)
	}
	var resp *clientv3.TxnResponse
	err = r.r.Do(ctx, func(ctx context.Context) (err error) {
		resp, err = r.cli.Txn(ctx).If(f.Cmp()).Then(clientv3.OpTxn(
			[]clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(c.key), "=", 0)},
			[]clientv3.Op{clientv3.OpPut(c.key, string(val))},
			[]clientv3.Op{clientv3.OpGet(c.key)},
		)).Commit()
		return err
	})
	switch {
	case err != nil:
		return c, fmt.Errorf("shardsweep: claim %s: %w: %w", v.ResourceID, coord.ErrStore, err)
	case !resp.Succeeded:
		return c, fmt.Errorf("shardsweep: claim %s under %s@%d: %w", v.ResourceID, f.Key, f.Rev, coord.ErrFenced)
	}
	inner := resp.Responses[0].GetResponseTxn()
	if inner.Succeeded {
		c.ours, c.rev = true, resp.Header.Revision
		return c, nil
	}
	kvs := inner.Responses[0].GetResponseRange().Kvs
	if len(kvs) == 0 {
		return c, fmt.Errorf("shardsweep: claim %s: the claim vanished: %w", v.ResourceID, coord.ErrStore)
	}
	var found claimRecord
	if err := json.Unmarshal(kvs[0].Value, &found); err == nil &&
		found.FenceKey == f.Key && found.FenceRev == f.Rev && found.Outcome == "claimed" {
		c.ours, c.rev = true, kvs[0].ModRevision
		return c, nil
	}
	c.rec = found
	return c, nil
}

// settle records the outcome of an act on c, if c is still as claimed.
func (r *Runner) settle(ctx context.Context, c claim, actErr error) error {
	c.rec.Outcome = "acted"
	if actErr != nil {
		c.rec.Outcome = "failed: " + actErr.Error()
	}
	val, err := json.Marshal(c.rec)
	if err != nil {
		return err
	}
	return r.r.Do(context.WithoutCancel(ctx), func(ctx context.Context) error {
		_, err := r.cli.Txn(ctx).If(clientv3.Compare(clientv3.ModRevision(c.key), "=", c.rev)).
			Then(clientv3.OpPut(c.key, string(val))).Commit()
		return err
	})
}

// progress returns the last period recorded as done for shard k.
func (r *Runner) progress(ctx context.Context, k int) (time.Time, bool, error) {
	var resp *clientv3.GetResponse
	err := r.r.Do(ctx, func(ctx context.Context) (err error) {
		resp, err = r.cli.Get(ctx, r.doneKey(k))
		return err
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("shardsweep: shard %d: read progress: %w: %w", k, coord.ErrStore, err)
	}
	if len(resp.Kvs) == 0 {
		return time.Time{}, false, nil
	}
	t, err := time.Parse(time.RFC3339, string(resp.Kvs[0].Value))
	if err != nil {
		return time.Time{}, false, fmt.Errorf("shardsweep: shard %d: progress %q is not a time: %w", k, resp.Kvs[0].Value, err)
	}
	return t, true, nil
}

// fenced commits ops under f, retrying failed requests (every op here is
// idempotent), and returns an error matching coord.ErrFenced when the
// term has ended.
func (r *Runner) fenced(ctx context.Context, f coord.Fence, what string, ops ...clientv3.Op) error {
	var resp *clientv3.TxnResponse
	err := r.r.Do(ctx, func(ctx context.Context) (err error) {
		resp, err = r.cli.Txn(ctx).If(f.Cmp()).Then(ops...).Commit()
		return err
	})
	switch {
	case err != nil:
		return fmt.Errorf("shardsweep: %s: %w: %w", what, coord.ErrStore, err)
	case !resp.Succeeded:
		return fmt.Errorf("shardsweep: %s under %s@%d: %w", what, f.Key, f.Rev, coord.ErrFenced)
	}
	return nil
}

// markDone records period as done for shard k.
func (r *Runner) markDone(ctx context.Context, f coord.Fence, k int, period time.Time) error {
	return r.fenced(ctx, f, fmt.Sprintf("shard %d: mark %s done", k, period.UTC().Format(time.RFC3339)),
		clientv3.OpPut(r.doneKey(k), period.UTC().Format(time.RFC3339)))
}

// prune deletes shard k's claims of the periods before the one before
// period.
func (r *Runner) prune(ctx context.Context, f coord.Fence, k int, period time.Time) error {
	from := r.claimsPrefix(k)
	to := from + periodKey(period.Add(-r.cfg.Period))
	return r.fenced(ctx, f, fmt.Sprintf("shard %d: prune claims", k), clientv3.OpDelete(from, clientv3.WithRange(to)))
}

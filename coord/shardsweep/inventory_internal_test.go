package shardsweep

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// gatedInventory lists n instances, counting its calls; while gate is
// set, List waits for it to close and then fails with failWith (if set).
type gatedInventory struct {
	n        int
	calls    atomic.Int32
	mu       sync.Mutex
	gate     chan struct{}
	failWith error
}

func (g *gatedInventory) List(ctx context.Context, _ provider.Filter) ([]provider.Resource, error) {
	g.calls.Add(1)
	g.mu.Lock()
	gate, fail := g.gate, g.failWith
	g.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		if fail != nil {
			return nil, fail
		}
	}
	out := make([]provider.Resource, g.n)
	for i := range out {
		out[i] = provider.Resource{ID: fmt.Sprintf("i-%04d", i), Kind: provider.KindInstance}
	}
	return out, nil
}

func (g *gatedInventory) Get(context.Context, string) (provider.Resource, error) {
	return provider.Resource{}, provider.ErrNotFound
}

// listingRunner returns a Runner of 8 shards, all led, listing inv on a
// mock clock set at p0 + 10m (p0's passes are due), and p0.
func listingRunner(inv provider.Inventory) (*Runner, *bclock.Mock, time.Time) {
	clk := bclock.NewMock()
	p0 := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	clk.Set(p0.Add(10 * time.Minute))
	cfg := Config{Shards: coord.ShardsConfig{ID: "r", Shards: 8}, Period: time.Hour}.withDefaults()
	all := func() []int { return []int{0, 1, 2, 3, 4, 5, 6, 7} }
	return &Runner{cfg: cfg, fleet: detector.Fleet{Inventory: inv}, clock: clk, leading: all}, clk, p0
}

// TestListingShared: the passes of one period share a listing made within
// Delay (10 minutes by default): each gets its shard's resources, together
// every resource once; a pass more than Delay later, or of another
// period, lists again; a listing more than Delay older than the latest
// is forgotten.
func TestListingShared(t *testing.T) {
	t.Parallel()
	inv := &gatedInventory{n: 100}
	r, clk, p0 := listingRunner(inv)
	ctx := t.Context()
	seen := map[string]int{}
	for k := range 8 {
		rs, err := r.resources(ctx, k, p0)
		require.NoError(t, err)
		for _, res := range rs {
			s, _ := coord.ShardOf(res.ID, 8)
			assert.Equal(t, k, s, "%s is in shard %d", res.ID, s)
			seen[res.ID]++
		}
	}
	assert.Len(t, seen, 100)
	for id, n := range seen {
		assert.Equal(t, 1, n, id)
	}
	assert.Equal(t, int32(1), inv.calls.Load(), "8 shards, one listing")

	clk.Add(10 * time.Minute) // exactly Delay after the listing: still shared
	_, err := r.resources(ctx, 3, p0)
	require.NoError(t, err)
	assert.Equal(t, int32(1), inv.calls.Load())
	clk.Add(time.Nanosecond) // older than Delay: listed again
	_, err = r.resources(ctx, 3, p0)
	require.NoError(t, err)
	assert.Equal(t, int32(2), inv.calls.Load())

	p1, p2 := p0.Add(time.Hour), p0.Add(2*time.Hour)
	for _, p := range []time.Time{p1, p2} {
		_, err = r.resources(ctx, 0, p)
		require.NoError(t, err)
	}
	assert.Equal(t, int32(4), inv.calls.Load(), "one listing per period")
	r.lists.mu.Lock()
	assert.Len(t, r.lists.byAt, 3, "listings within Delay of the latest are kept")
	r.lists.mu.Unlock()
	// A listing exactly Delay older than the latest is kept; one older is
	// forgotten (it serves no new pass).
	clk.Add(10 * time.Minute)
	p3 := p0.Add(3 * time.Hour)
	_, err = r.resources(ctx, 0, p3)
	require.NoError(t, err)
	r.lists.mu.Lock()
	assert.Len(t, r.lists.byAt, 4)
	r.lists.mu.Unlock()
	clk.Add(time.Nanosecond)
	p4 := p0.Add(4 * time.Hour)
	_, err = r.resources(ctx, 0, p4)
	require.NoError(t, err)
	r.lists.mu.Lock()
	assert.ElementsMatch(t, []time.Time{p3, p4}, slices.Collect(maps.Keys(r.lists.byAt)), "only the listings within Delay of the latest")
	r.lists.mu.Unlock()
}

// TestListingForgottenOnceOlderThanDelay: a listing serves the passes that
// start within Delay of it and no later one; held on, it would only keep
// the replica's share of the fleet in memory until the next period's
// listing replaced it. expire (which Run runs) forgets it as soon as it is
// older than Delay on the runner's clock, whether or not a pass lists
// then: still held exactly Delay after it was made, forgotten a
// nanosecond later; and when expire's context ends, every listing is.
func TestListingForgottenOnceOlderThanDelay(t *testing.T) {
	t.Parallel()
	inv := &gatedInventory{n: 100}
	r, clk, p0 := listingRunner(inv)
	ctx, cancel := context.WithCancel(t.Context())
	expired := make(chan struct{})
	go func() {
		defer close(expired)
		r.lists.expire(ctx, clk, r.cfg.Delay)
	}()
	for k := range 8 {
		_, err := r.resources(ctx, k, p0)
		require.NoError(t, err)
	}
	require.Equal(t, 100, r.HeldListings(), "the 8 passes of p0 share one listing")

	// The passes of p0 are over; the replica waits for p1's.
	clk.Add(r.cfg.Delay)
	assert.Equal(t, 100, r.HeldListings(), "exactly Delay old: it could still serve a pass")
	clk.Add(time.Nanosecond)
	require.Eventually(t, func() bool { return r.HeldListings() == 0 }, 30*time.Second, time.Millisecond,
		"a listing older than Delay is forgotten before the next sweep")

	// A listing of p1; expire's end forgets it at once.
	clk.Add(time.Hour)
	_, err := r.resources(ctx, 0, p0.Add(time.Hour))
	require.NoError(t, err)
	require.NotZero(t, r.HeldListings())
	cancel()
	select {
	case <-expired:
	case <-time.After(30 * time.Second):
		t.Fatal("expire did not return when its context ended")
	}
	assert.Zero(t, r.HeldListings(), "forgotten when expire (Run) ends")
	assert.Equal(t, int32(2), inv.calls.Load())
}

// TestListingFailure: passes waiting for a listing that fails (another
// pass's leadership ended) list on their own; a failed listing serves no
// later pass; a pass whose ctx ends while it waits returns ctx's error.
func TestListingFailure(t *testing.T) {
	t.Parallel()
	inv := &gatedInventory{n: 40, gate: make(chan struct{}), failWith: errors.New("inventory unreachable")}
	r, _, p0 := listingRunner(inv)
	ctx := t.Context()

	firstErr := make(chan error, 1)
	go func() {
		_, err := r.resources(ctx, 0, p0)
		firstErr <- err
	}()
	require.Eventually(t, func() bool { return inv.calls.Load() == 1 }, 30*time.Second, time.Millisecond)
	// A waiter whose ctx ends.
	ended, cancel := context.WithCancel(ctx)
	waitErr := make(chan error, 1)
	go func() {
		_, err := r.resources(ended, 1, p0)
		waitErr <- err
	}()
	cancel()
	require.ErrorIs(t, <-waitErr, context.Canceled)
	// A waiter that outlives the failure lists on its own, after the gate.
	got := make(chan int, 1)
	go func() {
		rs, err := r.resources(ctx, 2, p0)
		if err != nil {
			got <- -1
			return
		}
		got <- len(rs)
	}()
	inv.mu.Lock()
	gate := inv.gate
	inv.gate, inv.failWith = nil, nil // the next listing succeeds at once
	inv.mu.Unlock()
	close(gate)
	require.ErrorContains(t, <-firstErr, "inventory unreachable")
	n := <-got
	assert.GreaterOrEqual(t, n, 0, "the waiter listed again and got its shard")
	assert.Equal(t, int32(2), inv.calls.Load(), "the failed listing, and the waiter's own")
	_, err := r.resources(ctx, 3, p0)
	require.NoError(t, err)
	assert.Equal(t, int32(2), inv.calls.Load(), "the waiter's listing serves the next pass")
}

// TestListingKeepsLedShards: a listing keeps the parts of the shards the
// replica leads and of the shard that made it, not the whole fleet; a
// pass of a shard it did not keep (led since) lists again.
func TestListingKeepsLedShards(t *testing.T) {
	t.Parallel()
	inv := &gatedInventory{n: 100}
	r, _, p0 := listingRunner(inv)
	r.leading = func() []int { return []int{0, 1} }
	ctx := t.Context()
	for _, k := range []int{1, 0, 1} {
		rs, err := r.resources(ctx, k, p0)
		require.NoError(t, err)
		require.NotEmpty(t, rs, "shard %d", k)
	}
	assert.Equal(t, int32(1), inv.calls.Load(), "the led shards share a listing")
	r.lists.mu.Lock()
	assert.ElementsMatch(t, []int{0, 1}, slices.Collect(maps.Keys(r.lists.byAt[p0].shards)), "only the led shards' parts are kept")
	r.lists.mu.Unlock()

	rs, err := r.resources(ctx, 5, p0)
	require.NoError(t, err)
	assert.Equal(t, int32(2), inv.calls.Load(), "shard 5 was not kept: listed again")
	require.NotEmpty(t, rs)
	for _, res := range rs {
		s, _ := coord.ShardOf(res.ID, 8)
		assert.Equal(t, 5, s, res.ID)
	}
	r.lists.mu.Lock()
	assert.ElementsMatch(t, []int{0, 1, 5}, slices.Collect(maps.Keys(r.lists.byAt[p0].shards)))
	r.lists.mu.Unlock()
	_, err = r.resources(ctx, 0, p0)
	require.NoError(t, err)
	assert.Equal(t, int32(2), inv.calls.Load(), "the new listing serves the led shards too")
}

// TestListedOnce pins how a pass treats IDs the inventory lists more than
// once: every copy of such an ID is left out (none is kept as "the" copy,
// since they may disagree), each such ID is reported once, sorted, however
// many copies there are; the others keep their order, and a listing
// without repeats is used as is.
func TestListedOnce(t *testing.T) {
	t.Parallel()
	res := func(ids ...string) []provider.Resource {
		out := make([]provider.Resource, len(ids))
		for i, id := range ids {
			out[i] = provider.Resource{ID: id}
		}
		return out
	}
	ids := func(rs []provider.Resource) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	plain := res("c", "a", "b")
	once, dups := listedOnce(plain)
	assert.Same(t, &plain[0], &once[0], "no repeats: the listing itself")
	assert.Equal(t, []string{"c", "a", "b"}, ids(once))
	assert.Nil(t, dups)

	once, dups = listedOnce(res("d", "z", "a", "z", "b", "d", "z", "c"))
	assert.Equal(t, []string{"a", "b", "c"}, ids(once))
	assert.Equal(t, []string{"d", "z"}, dups)

	once, dups = listedOnce(nil)
	assert.Empty(t, once)
	assert.Nil(t, dups)
}

// TestConfigDefaults pins the defaults the zero values stand for, and
// that set values are kept.
func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	c := Config{Shards: coord.ShardsConfig{ID: "r", Shards: 8}, Period: time.Hour}.withDefaults()
	assert.Equal(t, 10*time.Minute, c.Delay)
	assert.Equal(t, "idlescale/shardsweep/", c.Prefix)
	assert.Equal(t, 250, c.Chunk)
	assert.Equal(t, 5*time.Minute, c.ActTimeout)
	assert.Zero(t, c.Concurrency, "left to detector.SweepConfig (8)")
	set := Config{Delay: time.Minute, Prefix: "p/", Chunk: 7, ActTimeout: time.Second}.withDefaults()
	assert.Equal(t, Config{Delay: time.Minute, Prefix: "p/", Chunk: 7, ActTimeout: time.Second}, set)
}

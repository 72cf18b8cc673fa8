package coord_test

import (
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/provider"
)

// TestShardOf: the shard of an ID is FNV-1a of its bytes modulo the
// count (pinned, so that a release that changes the hash fails here
// rather than moving every resource), ShardScope names the same shard,
// and the IDs spread evenly.
func TestShardOf(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"", "i-0123456789abcdef0", "arn:aws:lambda:eu-west-1:1:function:f", "ünïcode"} {
		h := fnv.New32a()
		_, _ = h.Write([]byte(id))
		for _, n := range []int{1, 2, 7, 64, coord.MaxShards} {
			got, err := coord.ShardOf(id, n)
			require.NoError(t, err)
			assert.Equal(t, int(h.Sum32()%uint32(n)), got, "%q of %d", id, n)
			scope, err := coord.ShardScope(id, n)
			require.NoError(t, err)
			assert.Equal(t, coord.ShardName(got, n), scope)
		}
	}
	k, err := coord.ShardOf("i-0123456789abcdef0", 16)
	require.NoError(t, err)
	assert.Equal(t, 5, k, "pinned: the mapping never changes between releases")
	assert.Equal(t, "shard-5-of-16", coord.ShardName(k, 16))

	const n, ids = 16, 160_000
	counts := make([]int, n)
	for i := range ids {
		k, err := coord.ShardOf(fmt.Sprintf("i-%017x", i*7919), n)
		require.NoError(t, err)
		counts[k]++
	}
	for k, c := range counts {
		assert.InDelta(t, ids/n, c, ids/n*0.05, "shard %d holds %d of %d", k, c, ids)
	}

	for _, bad := range []int{0, -1, coord.MaxShards + 1} {
		_, err := coord.ShardOf("i-1", bad)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%d shards", bad)
		assert.Equal(t, "shards", ie.Field)
		_, err = coord.ShardScope("i-1", bad)
		require.ErrorIs(t, err, provider.ErrInvalid)
	}
}

// TestAssign: every shard has one owner among the members, every member
// owns ⌊n/m⌋ or ⌈n/m⌉ shards, and the result depends only on the set of
// members.
func TestAssign(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 5, 12, 16, 64, 256, 1000} {
		for m := 1; m <= 9; m++ {
			members := make([]string, m)
			for i := range members {
				members[i] = fmt.Sprintf("replica-%d", i)
			}
			owners, err := coord.Assign(n, members)
			require.NoError(t, err)
			require.Len(t, owners, n)
			load := map[string]int{}
			for _, o := range owners {
				require.Contains(t, members, o)
				load[o]++
			}
			for _, id := range members {
				assert.GreaterOrEqual(t, load[id], n/m, "%d shards, %d members: %s owns %d", n, m, id, load[id])
				assert.LessOrEqual(t, load[id], (n+m-1)/m, "%d shards, %d members: %s owns %d", n, m, id, load[id])
			}
			shuffled := slices.Clone(members)
			rand.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			shuffled = append(shuffled, shuffled[0]) // a duplicate
			again, err := coord.Assign(n, shuffled)
			require.NoError(t, err)
			assert.Equal(t, owners, again, "order and duplicates do not matter")
		}
	}
	tests := []struct {
		name    string
		shards  int
		members []string
		field   string
	}{
		{"no members", 4, nil, "members"},
		{"an empty member", 4, []string{"a", ""}, "members"},
		{"zero shards", 0, []string{"a"}, "shards"},
		{"negative shards", -2, []string{"a"}, "shards"},
	}
	for _, tt := range tests {
		_, err := coord.Assign(tt.shards, tt.members)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, tt.name)
		assert.Equal(t, tt.field, ie.Field, tt.name)
	}
}

// TestAssignMoves: when a member joins or leaves, few shards move besides
// those it takes or leaves (a modulo assignment would move most).
func TestAssignMoves(t *testing.T) {
	t.Parallel()
	const n = 256
	for m := 2; m <= 8; m++ {
		members := make([]string, m+1)
		for i := range members {
			members[i] = fmt.Sprintf("replica-%d", i)
		}
		before, err := coord.Assign(n, members[:m])
		require.NoError(t, err)
		after, err := coord.Assign(n, members)
		require.NoError(t, err)
		moved, taken := 0, 0
		for k := range n {
			if before[k] != after[k] {
				moved++
			}
			if after[k] == members[m] {
				taken++
			}
		}
		t.Logf("%d → %d members: %d of %d shards moved, %d to the new member", m, m+1, moved, n, taken)
		assert.LessOrEqual(t, moved, taken+taken/2, "%d → %d members: %d moved for %d taken by the new member", m, m+1, moved, taken)
		// A member leaving is the same change the other way round.
	}
}

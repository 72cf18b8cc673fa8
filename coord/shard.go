package coord

import (
	"fmt"
	"hash/fnv"
	"slices"

	"github.com/idlescale/idlescale/provider"
)

// MaxShards is the largest shard count ShardOf, ShardScope, Assign and
// Shards accept.
const MaxShards = 1 << 16

func checkShards(shards int) error {
	if shards <= 0 || shards > MaxShards {
		return provider.Invalid("shards", shards, fmt.Sprintf("must be 1 to %d", MaxShards))
	}
	return nil
}

// ShardOf returns the shard, in [0, shards), that the resource (or any
// target) id belongs to: the 32-bit FNV-1a hash of id's bytes modulo
// shards. The mapping is stable: it depends only on id and shards, never
// on the replicas, so every replica, release and restart agrees on it as
// long as the shard count is the same. Changing the shard count moves most
// IDs to other shards; Shards refuses to run with a count other than the
// one the cluster was started with (ErrShardCount). shards must be 1 to
// MaxShards; otherwise ShardOf returns a *provider.InvalidError naming
// "shards". It allocates nothing.
func ShardOf(id string, shards int) (int, error) {
	if err := checkShards(shards); err != nil {
		return 0, fmt.Errorf("coord: %w", err)
	}
	return int(fnv32a(id) % uint32(shards)), nil
}

// fnv32a is hash/fnv's 32-bit FNV-1a of s, without its allocation.
func fnv32a(s string) uint32 {
	const (
		offset = 2166136261
		prime  = 16777619
	)
	h := uint32(offset)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= prime
	}
	return h
}

// ShardName returns the scope of shard k out of shards, "shard-K-of-N",
// the scope Shards campaigns for. It does not check its arguments.
func ShardName(k, shards int) string { return fmt.Sprintf("shard-%d-of-%d", k, shards) }

// ShardScope returns the scope of the shard that target belongs to out of
// shards, ShardName(ShardOf(target, shards), shards), so that replicas can
// split the targets between leaders. shards must be 1 to MaxShards.
func ShardScope(target string, shards int) (string, error) {
	k, err := ShardOf(target, shards)
	if err != nil {
		return "", err
	}
	return ShardName(k, shards), nil
}

// Assign returns the owner of each shard (owners[k] for shard k) among the
// replica IDs in members, by rendezvous (highest random weight) hashing
// with bounded load: each shard ranks the members by a hash of (member,
// shard), and shards are taken in order 0, 1, … each by the
// highest-ranked member that still has room, where room means owning
// fewer than ⌊shards/m⌋ shards, or exactly ⌊shards/m⌋ while fewer than
// shards mod m members own one more (m members). So:
//
//   - the result depends only on the set of members (order and duplicates
//     do not matter), and every replica that sees the same members
//     computes the same owners;
//   - every member owns ⌊shards/m⌋ or ⌈shards/m⌉ shards;
//   - when a member joins or leaves, mostly the shards it takes or leaves
//     move (TestAssignMoves measures it).
//
// It returns a *provider.InvalidError for a shard count outside 1 to
// MaxShards, no members, or an empty member ID. It takes O(shards·m) time.
func Assign(shards int, members []string) ([]string, error) {
	if err := checkShards(shards); err != nil {
		return nil, fmt.Errorf("coord: assign: %w", err)
	}
	ms := slices.Clone(members)
	slices.Sort(ms)
	ms = slices.Compact(ms)
	if len(ms) == 0 {
		return nil, fmt.Errorf("coord: assign: %w", provider.Invalid("members", members, "must not be empty"))
	}
	if ms[0] == "" {
		return nil, fmt.Errorf("coord: assign: %w", provider.Invalid("members", members, "must not contain an empty ID"))
	}
	seeds := make([]uint64, len(ms))
	for i, m := range ms {
		h := fnv.New64a()
		_, _ = h.Write([]byte(m))
		seeds[i] = h.Sum64()
	}
	// Every member owns lo shards, and extra of them one more; the room
	// left always adds up to the shards left, so one always has room.
	lo, extra := shards/len(ms), shards%len(ms)
	load := make([]int, len(ms))
	full := 0 // members that own lo+1
	owners := make([]string, shards)
	for k := range shards {
		best, bestW := -1, uint64(0)
		for i, seed := range seeds {
			if load[i] > lo || load[i] == lo && full >= extra {
				continue
			}
			if w := mix(seed ^ uint64(k)*0x9e3779b97f4a7c15); best < 0 || w > bestW {
				best, bestW = i, w
			}
		}
		load[best]++
		if load[best] == lo+1 {
			full++
		}
		owners[k] = ms[best]
	}
	return owners, nil
}

// mix is splitmix64's finalizer: a bijection that spreads every input bit
// over the output.
func mix(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

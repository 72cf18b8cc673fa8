package coord_test

import (
	"fmt"
	"testing"

	"github.com/idlescale/idlescale/coord"
)

// ids returns n resource IDs shaped like EC2 instance IDs.
func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("i-%017x", uint64(i)*0x9e3779b97f4a7c15>>8)
	}
	return out
}

// BenchmarkShardOf: the shard of one resource ID.
func BenchmarkShardOf(b *testing.B) {
	id := "i-0123456789abcdef0"
	for b.Loop() {
		if _, err := coord.ShardOf(id, 64); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAssign: the owners of 64 and of 4096 shards among 4 replicas,
// as every replica computes them on each change of membership.
func BenchmarkAssign(b *testing.B) {
	members := []string{"replica-a", "replica-b", "replica-c", "replica-d"}
	for _, shards := range []int{64, 4096} {
		b.Run(fmt.Sprintf("shards=%d", shards), func(b *testing.B) {
			for b.Loop() {
				if _, err := coord.Assign(shards, members); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRebalance1M: a replica of 4 is lost: the owners of 64 shards
// among the 3 left, and for each of 1,000,000 resources whether its owner
// changed (its shard, and the owners before and after).
func BenchmarkRebalance1M(b *testing.B) {
	const shards = 64
	all := ids(1_000_000)
	members := []string{"replica-a", "replica-b", "replica-c", "replica-d"}
	before, err := coord.Assign(shards, members)
	if err != nil {
		b.Fatal(err)
	}
	moved := 0
	for b.Loop() {
		after, err := coord.Assign(shards, members[:3])
		if err != nil {
			b.Fatal(err)
		}
		moved = 0
		for _, id := range all {
			k, _ := coord.ShardOf(id, shards)
			if before[k] != after[k] {
				moved++
			}
		}
	}
	b.ReportMetric(float64(moved), "moved")
	b.ReportMetric(float64(moved)/float64(len(all))*100, "%moved")
}

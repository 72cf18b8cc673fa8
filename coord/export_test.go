package coord

import (
	"context"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// Register exposes register to the tests: it writes s's membership key
// under lease, taking it over from prev.
func (s *Shards) Register(ctx context.Context, lease, prev clientv3.LeaseID) error {
	return s.register(ctx, lease, prev)
}

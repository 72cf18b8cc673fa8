package etcdkv

import "errors"

// ErrStore means etcd failed (unreachable, timed out, refused the
// request) after the retries. coord, safety/approval/etcdstore,
// safety/etcdaudit, safety/etcdhistory, ratelimit/etcdstore and
// detector/etcdstore export this value as their ErrStore, so one
// errors.Is check covers all of them.
var ErrStore = errors.New("etcd failed")

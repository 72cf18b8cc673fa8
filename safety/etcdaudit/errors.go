package etcdaudit

import "github.com/idlescale/idlescale/internal/etcdkv"

// ErrStore means etcd failed (unreachable, timed out) after the retries;
// the error also wraps etcd's (or the context's) own error. It is the
// same value as coord.ErrStore and the ErrStore of
// safety/approval/etcdstore. An event without a time is reported with
// provider.ErrInvalid.
var ErrStore = etcdkv.ErrStore

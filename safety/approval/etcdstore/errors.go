package etcdstore

import "github.com/idlescale/idlescale/internal/etcdkv"

// ErrStore means etcd failed (unreachable, timed out) after the retries;
// the error also wraps etcd's (or the context's) own error. It is the
// same value as coord.ErrStore and etcdaudit.ErrStore. Bad requests are
// reported with provider.ErrInvalid, and the store's answers with the
// sentinels of package approval (ErrExists, ErrUnknown).
var ErrStore = etcdkv.ErrStore

package etcdhistory

import "github.com/idlescale/idlescale/internal/etcdkv"

// ErrStore means etcd failed (unreachable, timed out) after the retries,
// or a stored record could not be read; the error also wraps etcd's (or
// the context's) own error. It is the same value as coord.ErrStore and
// the ErrStore of the library's other etcd stores. Bad input (units below
// 1, a zero time, a since older than Keep + Keep/30) is reported with
// provider.ErrInvalid.
var ErrStore = etcdkv.ErrStore

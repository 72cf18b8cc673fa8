package etcdstore

import (
	"errors"

	"github.com/idlescale/idlescale/internal/etcdkv"
)

// ErrConflict means the store gave up after Config.MaxConflicts
// transactions lost to concurrent writers. The limiter reports it wrapped
// in a *ratelimit.StoreError and denies the event. Data the store cannot
// decode is reported with ratelimit.ErrCorrupt; etcd failures after the
// retries with ErrStore.
var ErrConflict = errors.New("etcdstore: too many concurrent updates")

// ErrStore means etcd failed (unreachable, timed out) after the retries;
// the error also wraps etcd's (or the context's) own error. It is the
// same value as coord.ErrStore and the ErrStore of the library's other
// etcd stores, so that one errors.Is check tells an etcd outage in any of
// them; the limiter reports it wrapped in a *ratelimit.StoreError, which
// matches ratelimit.ErrStore too. A context that had ended before the
// first request is reported with its own error only.
var ErrStore = etcdkv.ErrStore

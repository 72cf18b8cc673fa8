package etcdstore

import "errors"

// ErrConflict means the store gave up after Config.MaxConflicts
// transactions lost to concurrent writers. The limiter reports it wrapped
// in a *ratelimit.StoreError and denies the event. Data the store cannot
// decode is reported with ratelimit.ErrCorrupt; etcd failures after the
// retries with etcd's (or the context's) own error.
var ErrConflict = errors.New("etcdstore: too many concurrent updates")

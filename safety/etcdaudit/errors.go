package etcdaudit

import (
	"errors"

	"github.com/idlescale/idlescale/internal/etcdkv"
)

// ErrStore means etcd failed (unreachable, timed out) after the retries;
// the error also wraps etcd's (or the context's) own error. It is the
// same value as coord.ErrStore and the ErrStore of
// safety/approval/etcdstore. An event without a time is reported with
// provider.ErrInvalid. Log.EventsAfter's refusal of a revision ahead of
// the store's matches it too, and ErrRevisionAhead, which tells it apart:
// retrying that one with the same revision does not help.
var ErrStore = etcdkv.ErrStore

// ErrRevisionAhead means Log.EventsAfter was given a revision the store
// has not reached (etcd restored from an older snapshot, or a revision of
// another cluster). The error matches ErrStore too. A follower must not
// retry with the same revision, as it would after etcd failed: it would
// read nothing until the store reached that revision and then skip, for
// good, every event committed meanwhile. Read again from 0 (and drop what
// is read twice), or from a revision this store returned.
var ErrRevisionAhead = errors.New("revision ahead of the store's")

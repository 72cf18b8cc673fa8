package coord

import (
	"errors"

	"github.com/idlescale/idlescale/internal/etcdkv"
)

// Errors of the package.
var (
	// ErrFenced means a fenced write was refused: the leadership it was
	// made under has ended (session expired or revoked, resigned) and a
	// deposed leader must not act.
	ErrFenced = errors.New("coord: fenced: no longer the leader")
	// ErrNoLeader means no one holds the scope's leadership.
	ErrNoLeader = errors.New("coord: no leader")
	// ErrShardCount means a Shards runner is configured with a shard count
	// other than the one its cluster was started with: it would hash
	// resources to other shards than the running replicas, so it refuses
	// to run instead of remapping them silently.
	ErrShardCount = errors.New("coord: shard count differs from the cluster's")
	// ErrDuplicateID means a Shards runner's ID is registered by another
	// live replica. Two members under one ID would be assigned the same
	// shards, one of them would lead none, and the first to leave would
	// delete the other's membership. Run logs it and waits for the
	// other's lease to end.
	ErrDuplicateID = errors.New("coord: replica ID already registered by another replica")
	// ErrStore means etcd failed (unreachable, timed out); the error also
	// wraps etcd's own error. It is the same value as the ErrStore of
	// safety/approval/etcdstore, safety/etcdaudit, safety/etcdhistory,
	// ratelimit/etcdstore and detector/etcdstore, so one errors.Is check
	// covers every etcd-backed part of a host.
	ErrStore = etcdkv.ErrStore
)

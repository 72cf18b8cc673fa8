package coord

import "errors"

// Errors of the package.
var (
	// ErrFenced means a fenced write was refused: the leadership it was
	// made under has ended (session expired or revoked, resigned) and a
	// deposed leader must not act.
	ErrFenced = errors.New("coord: fenced: no longer the leader")
	// ErrNoLeader means no one holds the scope's leadership.
	ErrNoLeader = errors.New("coord: no leader")
	// ErrStore means etcd failed (unreachable, timed out) after the
	// retries.
	ErrStore = errors.New("coord: etcd failed")
)

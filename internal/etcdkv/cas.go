package etcdkv

import (
	"context"
	"time"

	"github.com/idlescale/idlescale/clock"
)

// The backoff between lost compare-and-swap rounds: a random wait of up
// to casBase·2^n after the n-th lost round, at most casCeiling. Short,
// because the winner has already written.
const (
	casBase    = time.Millisecond
	casCeiling = 20 * time.Millisecond
)

// CAS runs an optimistic-concurrency update: round reads the keys,
// decides, and writes in a transaction conditioned on what it read (their
// ModRevisions), and reports whether the transaction committed. When it
// did not (another writer committed in between), CAS waits a random
// backoff of up to 1ms·2^n on c (nil: the real clock), at most 20ms, and
// runs round again on fresh data.
//
// CAS returns nil once round commits, and round's error unchanged when
// round fails. Its own failures are reported by giveUp, which the caller
// formats in its package's terms: giveUp(lost, nil) after maxConflicts
// lost rounds, giveUp(lost, ctx's error) when ctx ends during a backoff.
func CAS(ctx context.Context, c clock.Clock, maxConflicts int,
	round func() (committed bool, err error), giveUp func(lost int, cause error) error) error {
	for lost := 1; ; lost++ {
		committed, err := round()
		if err != nil || committed {
			return err
		}
		if lost >= maxConflicts {
			return giveUp(lost, nil)
		}
		if err := Backoff(ctx, c, lost, casBase, casCeiling); err != nil {
			return giveUp(lost, err)
		}
	}
}

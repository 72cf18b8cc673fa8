package shardsweep

import "github.com/idlescale/idlescale/internal/etcdagree"

// Errors of the package; the others are coord's (coord.ErrFenced,
// coord.ErrStore, coord.ErrShardCount).
var (
	// ErrConfigMismatch means another live replica runs another shared
	// configuration: ConfigStatus lists it, and a pass refused because it
	// differs in Prefix ends with an error matching it
	// (Report.Err). It is the same value as ratelimit/etcdstore's.
	ErrConfigMismatch = etcdagree.ErrMismatch
	// ErrConfigFingerprint means another replica's fingerprint (its key
	// under Shards.Prefix+"config/") could not be read: not JSON, no id
	// or config, or a hash that is not its config's. The error names the
	// key; the replica counts as disagreeing in every field. It is the
	// same value as ratelimit/etcdstore's.
	ErrConfigFingerprint = etcdagree.ErrMalformed
)

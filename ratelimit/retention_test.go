package ratelimit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// retainingStore is a MemoryStore that says it forgets a bucket keep
// after its last write, as etcdstore.Store does with its leases.
type retainingStore struct {
	*ratelimit.MemoryStore
	keep time.Duration
}

func (s retainingStore) Retention() time.Duration { return s.keep }

// TestNewChecksTheStoresRetention: New refuses a store that forgets a
// bucket before the history has passed since its last write (the budget
// would be exceeded without a word), and accepts one that keeps it for
// exactly the history, or until deleted (a Retention of 0). The etcd
// store's test pins the same with leases; this one runs in the package's
// own tests, which the mutation run uses.
func TestNewChecksTheStoresRetention(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		history time.Duration
		keep    time.Duration
		ok      bool
	}{
		{"keeps it for longer", 72 * time.Hour, 75 * time.Hour, true},
		{"keeps it for exactly the history", 72 * time.Hour, 72 * time.Hour, true},
		{"keeps it until deleted", 72 * time.Hour, 0, true},
		{"forgets it a nanosecond early", 72 * time.Hour, 72*time.Hour - 1, false},
		{"forgets it a day early", 72 * time.Hour, 48 * time.Hour, false},
		{"forgets it before the default history", 0, 23 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			store := retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: tc.keep}
			_, err := ratelimit.New(ratelimit.Config{History: tc.history}, ratelimit.WithStore(store))
			if tc.ok {
				require.NoError(t, err)
				return
			}
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "history", ie.Field)
			assert.Contains(t, err.Error(), tc.keep.String(), "names what the store keeps")
		})
	}
}

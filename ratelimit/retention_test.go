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

// countingStore is a host's wrapper around a Store (it counts calls, as a
// host's metrics would), which says what it wraps.
type countingStore struct {
	ratelimit.Store
	self bool // Unwrap returns the wrapper itself: a broken wrapper
}

func (s *countingStore) Unwrap() ratelimit.Store {
	if s.self {
		return s
	}
	return s.Store
}

// A host that wrapped its etcd store (to count its calls) hid its
// Retention, and New skipped the check: a history the leases forget was
// accepted, and the budget exceeded without a word. New walks Unwrap to
// the store that says; a wrapper of a wrapper too. One that unwraps to
// nil or to a store without Retention is kept until deleted, as before;
// one that unwraps to itself does not loop, and is an error.
func TestNewChecksTheRetentionOfAWrappedStore(t *testing.T) {
	t.Parallel()
	forgets := retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: 48 * time.Hour}
	for name, store := range map[string]ratelimit.Store{
		"wrapped":       &countingStore{Store: forgets},
		"wrapped twice": &countingStore{Store: &countingStore{Store: forgets}},
	} {
		_, err := ratelimit.New(ratelimit.Config{History: 72 * time.Hour}, ratelimit.WithStore(store))
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, name)
		assert.Equal(t, "history", ie.Field, name)
		assert.Contains(t, err.Error(), "48h0m0s the store (ratelimit_test.retainingStore)", name+": names the wrapped store")
	}
	for name, store := range map[string]ratelimit.Store{
		"keeps it long enough": &countingStore{Store: retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: 72 * time.Hour}},
		"until deleted":        &countingStore{Store: ratelimit.NewMemoryStore()},
		"unwraps to nil":       &countingStore{},
	} {
		_, err := ratelimit.New(ratelimit.Config{History: 72 * time.Hour}, ratelimit.WithStore(store))
		require.NoError(t, err, name)
	}
	// A wrapper that unwraps to itself: the walk ends, and the check that
	// cannot be made is an error, not skipped.
	_, err := ratelimit.New(ratelimit.Config{History: 72 * time.Hour},
		ratelimit.WithStore(&countingStore{Store: ratelimit.NewMemoryStore(), self: true}))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "store", ie.Field)
	assert.Contains(t, err.Error(), "unwraps to itself")
}

// The refusal says which of the two outlasts the store: the history, or
// a budget's window with MaxSkew (a window as long as the history keeps
// its events MaxSkew longer), so that the host knows what to shorten.
func TestNewSaysWhatOutlastsTheStore(t *testing.T) {
	t.Parallel()
	store := retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: 24 * time.Hour}
	_, err := ratelimit.New(ratelimit.Config{History: 25 * time.Hour}, ratelimit.WithStore(store))
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "must not exceed the 24h0m0s the store")
	assert.NotContains(t, err.Error(), "MaxSkew")

	windowed := ratelimit.Config{History: 24 * time.Hour, Down: ratelimit.Budget{Events: 1, Window: 24 * time.Hour}}
	_, err = ratelimit.New(windowed, ratelimit.WithStore(store))
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Contains(t, err.Error(), "with a window and MaxSkew (15m0s), buckets keep their events 24h15m0s, more than the 24h0m0s the store")
}

// wrapped returns store under n countingStore wrappers.
// selfStore is a store with an Unwrap method that says it wraps nothing
// (nil): it is the store.
type selfStore struct{ *ratelimit.MemoryStore }

func (selfStore) Unwrap() ratelimit.Store { return nil }

func wrapped(store ratelimit.Store, n int) ratelimit.Store {
	for range n {
		store = &countingStore{Store: store}
	}
	return store
}

// New walks up to 32 wrappers to the store they wrap, as documented: the
// store under exactly 32 is checked (refused when it forgets buckets too
// early, accepted when it keeps them), and a 33rd wrapper is an error
// naming the store. The walk stopped one wrapper early: 32 wrappers
// around a real store were refused as if they unwrapped to themselves.
func TestNewWalksExactly32Wrappers(t *testing.T) {
	t.Parallel()
	forgets := retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: 48 * time.Hour}
	keeps := retainingStore{MemoryStore: ratelimit.NewMemoryStore(), keep: 72 * time.Hour}
	cfg := ratelimit.Config{History: 72 * time.Hour}

	_, err := ratelimit.New(cfg, ratelimit.WithStore(wrapped(keeps, 32)))
	require.NoError(t, err, "32 wrappers around a store that keeps buckets long enough")
	_, err = ratelimit.New(cfg, ratelimit.WithStore(wrapped(ratelimit.NewMemoryStore(), 32)))
	require.NoError(t, err, "32 wrappers around a store without Retention")

	_, err = ratelimit.New(cfg, ratelimit.WithStore(wrapped(forgets, 32)))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "history", ie.Field, "the store under 32 wrappers is checked: %v", err)
	assert.Contains(t, err.Error(), "48h0m0s the store (ratelimit_test.retainingStore)")

	// A store whose Unwrap says it is the store (nil) is no wrapper:
	// under 32 wrappers it is reached, not refused as a 33rd.
	_, err = ratelimit.New(cfg, ratelimit.WithStore(wrapped(selfStore{ratelimit.NewMemoryStore()}, 32)))
	require.NoError(t, err, "32 wrappers around a store whose Unwrap returns nil")

	for name, store := range map[string]ratelimit.Store{"keeps": keeps, "forgets": forgets} {
		_, err = ratelimit.New(cfg, ratelimit.WithStore(wrapped(store, 33)))
		require.ErrorAs(t, err, &ie, name)
		assert.Equal(t, "store", ie.Field, name)
		assert.Contains(t, err.Error(), "more than 32 wrappers", name)
	}
}

package detector_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
)

// TestStateStoresDeleteAResourceGone: the Tracker never drops a state,
// so a host drops the states of the resources that are gone, as it does
// with etcdstore.Store.Delete; without a Delete, a MemoryStateStore (or
// a FileStateStore's directory) kept the state of every resource ever
// evaluated, growing with the fleet's churn (Kubernetes workloads,
// functions, volumes created and deleted) for as long as the host ran.
// Deleting a missing state succeeds, the other states stay.
func TestStateStoresDeleteAResourceGone(t *testing.T) {
	t.Parallel()
	for name, s := range stateStores(t) {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			del, ok := s.(interface {
				Delete(ctx context.Context, id string) error
			})
			require.True(t, ok, "%T has no Delete: the state of a resource that is gone is kept for ever", s)
			require.NoError(t, s.Save(ctx, "i-1", []byte("one")))
			require.NoError(t, s.Save(ctx, "i-2", []byte("two")))
			require.NoError(t, del.Delete(ctx, "i-1"))
			_, err := s.Load(ctx, "i-1")
			require.ErrorIs(t, err, detector.ErrNoState)
			got, err := s.Load(ctx, "i-2")
			require.NoError(t, err)
			assert.Equal(t, "two", string(got))
			require.NoError(t, del.Delete(ctx, "i-1"), "a missing state")
			if m, ok := s.(*detector.MemoryStateStore); ok {
				assert.Equal(t, 1, m.Len())
				assert.Equal(t, 3, m.Bytes())
			}
			done, cancel := context.WithCancel(ctx)
			cancel()
			require.ErrorIs(t, del.Delete(done, "i-2"), context.Canceled)
			_, err = s.Load(ctx, "i-2")
			require.NoError(t, err, "a cancelled Delete deletes nothing")
		})
	}
}

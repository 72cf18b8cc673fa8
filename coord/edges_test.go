package coord_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/coord"
	"github.com/idlescale/idlescale/provider"
)

// Names may hold any printable byte but "/": a space and "~" are valid,
// the last control character and DEL are not.
func TestNameCharacters(t *testing.T) {
	t.Parallel()
	for id, ok := range map[string]bool{"replica 1": true, "a~b": true, "é": true, "a\x1fb": false, "a\x7fb": false, "a/b": false} {
		err := coord.ElectorConfig{Scope: "fleet", ID: id}.Validate()
		if ok {
			require.NoError(t, err, "%q", id)
		} else {
			require.ErrorIs(t, err, provider.ErrInvalid, "%q", id)
		}
	}
}

// A Fence with a key but no revision is no term: refused without a
// request.
func TestFenceWithoutRevision(t *testing.T) {
	t.Parallel()
	for _, f := range []coord.Fence{{}, {Key: "idlescale/coord/election/fleet/x"}, {Key: "k", Rev: -1}} {
		_, err := f.Do(t.Context(), nil, nil)
		require.ErrorIs(t, err, coord.ErrFenced, "%+v", f)
	}
}

// Assign's owners are pinned: replicas of different versions running side
// by side (a rolling upgrade) must compute the same owners from the same
// members, so a change to the hashing or the order of choice is a
// protocol change, not a refactoring.
func TestAssignIsStable(t *testing.T) {
	t.Parallel()
	members := []string{"replica-a", "replica-b", "replica-c"}
	got, err := coord.Assign(12, members)
	require.NoError(t, err)
	require.Equal(t, []string{"replica-b", "replica-c", "replica-c", "replica-a", "replica-c", "replica-a",
		"replica-c", "replica-a", "replica-a", "replica-b", "replica-b", "replica-b"}, got)
	got, err = coord.Assign(7, members)
	require.NoError(t, err)
	require.Equal(t, []string{"replica-b", "replica-c", "replica-c", "replica-a", "replica-c", "replica-a", "replica-b"}, got)
}

package sim_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/scaling/sim"
)

// TestRunAllowedGrantOfFewerUnitsIsFollowed: a host's Reserver that
// answers Allowed with fewer units than asked is read as the engine reads
// it (scaling.Reserver): the change moves the units granted, as for a
// clamp, and an Allowed grant of no unit is the limiter failing, which
// the engine refuses (reservation.granted) and so does the replay. The
// replay made the whole change of either, where the Autoscaler moves 2
// of 4 units, or nothing.
func TestRunAllowedGrantOfFewerUnitsIsFollowed(t *testing.T) {
	t.Parallel()
	s, err := sim.New(handConfig())
	require.NoError(t, err)
	replay := func(r reserver) ([]int, error) {
		rep, err := s.Run(t.Context(), hand(), sim.Policy{Name: "p", Strategy: script(5, 1), Limiter: r})
		if err != nil {
			return nil, err
		}
		res, _ := rep.Result("p")
		actual, _, _ := actualsOf(res)
		return actual, nil
	}
	actual, err := replay(reserver{outcome: ratelimit.Allowed, granted: func(u int) int { return min(u, 2) }})
	require.NoError(t, err)
	assert.Equal(t, []int{3, 1, 1, 1, 1}, actual, "allowed 2 of 4 up, then 2 of 2 down")

	actual, err = replay(reserver{outcome: ratelimit.Allowed, granted: func(int) int { return 0 }})
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv, "replayed %v", actual)
	assert.Equal(t, "reservation.granted", inv.Field)
}

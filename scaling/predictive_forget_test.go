package scaling_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/scaling"
)

// A Predictive shared by a host's targets (a custom strategy registered
// once, WithStrategy, kept across policies so that its models survive a
// reload) forgets a target that has not been asked for longer than the
// history it reads (its Needs' lookback), as the engine's History drops
// records older than the window its strategies read: such a state is
// never continued (its next State's series starts after it, and it starts
// afresh), so forgetting it changes no decision. It kept every target it
// had ever seen, a fitted model and its buffers each: a long-running host
// whose groups come and go grew without bound.
func TestPredictiveForgetsATargetGoneForLongerThanItsLookback(t *testing.T) {
	t.Parallel()
	p, err := scaling.NewPredictive(hourlyConfig())
	require.NoError(t, err)
	lookback := p.Needs()[0].Lookback
	y := seasonal(60*24, 3)

	old := stateAt(y, 15*24, 5)
	old.Target.ID = "gone"
	_, err = p.Recommend(t.Context(), old)
	require.NoError(t, err)
	_, ok := p.Status("gone")
	require.True(t, ok, "a target asked for is known")

	// Another target, asked for within the lookback: "gone" is kept.
	k := 15*24 + int(lookback/time.Hour)
	_, err = p.Recommend(t.Context(), stateAt(y, k, 5))
	require.NoError(t, err)
	_, ok = p.Status("gone")
	assert.True(t, ok, "asked for %s ago, at the lookback: kept", lookback)

	// Later "gone" has not been asked for longer than the lookback; it is
	// looked for at most every lookback/8, as History.prune drops records.
	_, err = p.Recommend(t.Context(), stateAt(y, k+1, 5))
	require.NoError(t, err)
	_, ok = p.Status("gone")
	assert.True(t, ok, "looked for again only lookback/8 after the last time")
	_, err = p.Recommend(t.Context(), stateAt(y, k+int(lookback/8/time.Hour)+1, 5))
	require.NoError(t, err)
	_, ok = p.Status("gone")
	assert.False(t, ok, "not asked for longer than its lookback %s: forgotten", lookback)
	_, ok = p.Status("web")
	assert.True(t, ok, "the target asked for is kept")
}

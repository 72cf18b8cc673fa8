package reaper_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/reaper"
)

// textEnum is an enum of this package as its tests see it.
type textEnum interface {
	~string
	String() string
	Validate() error
	MarshalText() ([]byte, error)
}

// checkEnum checks the enum rule for every known value of E: String and
// text are the value, JSON goes both ways, "" is unset (refused by
// Validate, accepted as text), and unknown text is refused with an error
// naming it, leaving the target unchanged.
func checkEnum[E textEnum, P interface {
	*E
	UnmarshalText([]byte) error
}](t *testing.T, known []E) {
	t.Helper()
	for _, v := range known {
		require.NoError(t, v.Validate(), v)
		assert.Equal(t, string(v), v.String())
		text, err := v.MarshalText()
		require.NoError(t, err)
		assert.Equal(t, string(v), string(text))
		data, err := json.Marshal(v)
		require.NoError(t, err)
		var back E
		require.NoError(t, json.Unmarshal(data, &back))
		assert.Equal(t, v, back)
	}
	var unset E
	require.ErrorIs(t, unset.Validate(), provider.ErrInvalid, "Validate refuses unset")
	got := known[0]
	require.NoError(t, P(&got).UnmarshalText(nil))
	assert.Equal(t, unset, got, "empty text is unset")

	got = known[0]
	err := P(&got).UnmarshalText([]byte("Acted"))
	require.ErrorIs(t, err, provider.ErrInvalid)
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "Acted", inv.Value)
	assert.Equal(t, known[0], got, "a refused value leaves the target unchanged")
	require.ErrorIs(t, E("Acted").Validate(), provider.ErrInvalid)
}

func TestOutcomeText(t *testing.T) {
	t.Parallel()
	checkEnum(t, []reaper.Outcome{reaper.OutcomeSkipped, reaper.OutcomeWouldAct, reaper.OutcomeNeedsApproval,
		reaper.OutcomeBlocked, reaper.OutcomeRateLimited, reaper.OutcomeDeferred, reaper.OutcomeActed,
		reaper.OutcomeUnverified, reaper.OutcomeFailed})
	var rec struct {
		Outcome reaper.Outcome `json:"outcome"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"outcome":"needs_approval"}`), &rec))
	assert.Equal(t, reaper.OutcomeNeedsApproval, rec.Outcome)
	require.ErrorIs(t, json.Unmarshal([]byte(`{"outcome":"explode"}`), &rec), provider.ErrInvalid)
}

func TestStageText(t *testing.T) {
	t.Parallel()
	checkEnum(t, []reaper.Stage{reaper.StageDetect, reaper.StageInventory, reaper.StageSize, reaper.StageSafety,
		reaper.StageApproval, reaper.StageRateLimit, reaper.StageAct, reaper.StageVerify, reaper.StageRecord})
	assert.Equal(t, "ratelimit", reaper.StageRateLimit.String())
}

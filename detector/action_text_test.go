package detector_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// The Action values are the JSON a host stores and the reaper's policy
// names: pin them, both ways.
func TestActionText(t *testing.T) {
	t.Parallel()
	for give, want := range map[detector.Action]string{
		detector.ActionNone: "none", detector.ActionStop: "stop", detector.ActionTerminate: "terminate",
		detector.ActionDownsize: "downsize", detector.ActionSchedule: "schedule", "": "",
	} {
		assert.Equal(t, want, give.String())
		b, err := json.Marshal(give)
		require.NoError(t, err)
		assert.JSONEq(t, `"`+want+`"`, string(b))
		var got detector.Action
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, give, got)
		if give == "" {
			require.ErrorIs(t, give.Validate(), provider.ErrInvalid, "the zero Action recommends nothing, not none")
		} else {
			require.NoError(t, give.Validate())
		}
	}
	var a detector.Action
	var ie *provider.InvalidError
	require.ErrorAs(t, a.UnmarshalText([]byte("Stop")), &ie, "decoding is exact")
	assert.Equal(t, "action", ie.Field)
	assert.Equal(t, "Stop", ie.Value)
	_, err := detector.Action("reboot").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	require.Error(t, json.Unmarshal([]byte(`{"action":"shutdown"}`), &struct {
		Action detector.Action `json:"action"`
	}{}))
}

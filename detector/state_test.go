package detector_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// The State values are the JSON a host stores: pin them, both ways.
func TestStateText(t *testing.T) {
	t.Parallel()
	for give, want := range map[detector.State]string{
		detector.Unknown: "unknown", detector.NotIdle: "not_idle", detector.Idle: "idle", "": "",
	} {
		assert.Equal(t, want, give.String())
		b, err := json.Marshal(give)
		require.NoError(t, err)
		assert.JSONEq(t, `"`+want+`"`, string(b))
		var got detector.State
		require.NoError(t, json.Unmarshal(b, &got))
		assert.Equal(t, give, got)
		if give == "" {
			require.ErrorIs(t, give.Validate(), provider.ErrInvalid, "the zero State is not a detection")
		} else {
			require.NoError(t, give.Validate())
		}
	}
	var s detector.State
	var ie *provider.InvalidError
	require.ErrorAs(t, s.UnmarshalText([]byte("Idle")), &ie, "decoding is exact")
	assert.Equal(t, "state", ie.Field)
	assert.Equal(t, "Idle", ie.Value)
	_, err := detector.State("sleepy").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// A custom signal whose Verdict leaves State empty counts as Unknown; one
// with a State that is not a State is an error naming it.
func TestEnsembleCustomSignalState(t *testing.T) {
	t.Parallel()
	now := t0.Add(2 * 24 * time.Hour)
	idle := synth("idle", t0, 5*time.Minute, 2*24*12, func(int) float64 { return 0.02 })
	in := detector.Input{Now: now, Resource: res("idle", t0), Series: []provider.Series{idle}}
	zero := detector.Func(func(context.Context, detector.Input) (detector.Verdict, error) {
		return detector.Verdict{Score: 1}, nil
	})
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("zero", 5, zero))
	require.NoError(t, err)
	v, err := ens.Detect(t.Context(), in)
	require.NoError(t, err)
	c := signal(t, v, "zero")
	assert.Equal(t, detector.Unknown, c.State)
	assert.Zero(t, c.Weight, "an unknown signal weighs nothing")
	assert.Zero(t, c.Score)
	assert.InDelta(t, 1, signal(t, v, detector.SignalUtilization).Weight, 1e-12, "utilization is the only available signal")

	bad := detector.Func(func(context.Context, detector.Input) (detector.Verdict, error) {
		return detector.Verdict{State: "sleepy"}, nil
	})
	ens, err = detector.NewEnsemble(detector.EnsembleConfig{}, detector.WithSignal("bad", 1, bad))
	require.NoError(t, err)
	_, err = ens.Detect(t.Context(), in)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "state", ie.Field)
	assert.Equal(t, "sleepy", ie.Value)
}

package ratelimit_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

func TestReservationJSONRoundTrip(t *testing.T) {
	t.Parallel()
	for _, give := range []ratelimit.Reservation{
		{ID: 7, Request: ratelimit.Request{Target: "web", Direction: ratelimit.Up, Units: 5}, At: t0,
			Outcome: ratelimit.Clamped, Granted: 3, Reason: ratelimit.ReasonUnits, Scope: ratelimit.ScopeTarget, Next: t0.Add(sec)},
		{Request: ratelimit.Request{Target: "db", Direction: ratelimit.Down, Units: 1}, At: t0,
			Outcome: ratelimit.Denied, Reason: ratelimit.ReasonWindow, Scope: ratelimit.ScopeGlobal, Next: t0.Add(hr)},
		{Request: ratelimit.Request{Target: "q", Direction: ratelimit.Up, Units: 1}, At: t0, Reason: ratelimit.ReasonStore},
	} {
		b, err := json.Marshal(give)
		require.NoError(t, err)
		var got ratelimit.Reservation
		require.NoError(t, json.Unmarshal(b, &got), string(b))
		assert.Equal(t, give, got, string(b))
	}
	b, err := json.Marshal(ratelimit.Event{ID: 1, At: t0, Units: 2, Target: "web", Direction: ratelimit.Down})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":1,"at":"2026-03-02T10:00:00Z","units":2,"target":"web","dir":"down"}`, string(b))
}

func TestTextErrors(t *testing.T) {
	t.Parallel()
	var d ratelimit.Direction
	require.ErrorIs(t, d.UnmarshalText([]byte("left")), provider.ErrInvalid)
	_, err := ratelimit.Direction(9).MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	var o ratelimit.Outcome
	require.ErrorIs(t, o.UnmarshalText([]byte("maybe")), provider.ErrInvalid)
	_, err = ratelimit.Outcome(9).MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	var r ratelimit.Reason
	require.ErrorIs(t, r.UnmarshalText([]byte("vibes")), provider.ErrInvalid)
	_, err = ratelimit.Reason(99).MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	var s ratelimit.Scope
	require.ErrorIs(t, s.UnmarshalText([]byte("planet")), provider.ErrInvalid)
	_, err = ratelimit.Scope(9).MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
}

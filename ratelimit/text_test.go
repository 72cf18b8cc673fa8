package ratelimit_test

import (
	"encoding"
	"encoding/json"
	"fmt"
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
	_, err := ratelimit.Direction("left").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	var o ratelimit.Outcome
	require.ErrorIs(t, o.UnmarshalText([]byte("maybe")), provider.ErrInvalid)
	_, err = ratelimit.Outcome("maybe").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	var r ratelimit.Reason
	require.ErrorIs(t, r.UnmarshalText([]byte("vibes")), provider.ErrInvalid)
	_, err = ratelimit.Reason("vibes").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
	var s ratelimit.Scope
	require.ErrorIs(t, s.UnmarshalText([]byte("planet")), provider.ErrInvalid)
	_, err = ratelimit.Scope("planet").MarshalText()
	require.ErrorIs(t, err, provider.ErrInvalid)
}

// The text values are what hosts store and compare: pin them, and what
// Validate says about the zero value of each enum.
func TestEnumValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give     interface{ Validate() error }
		want     string
		validErr bool
	}{
		{ratelimit.Up, "up", false},
		{ratelimit.Down, "down", false},
		{ratelimit.Direction(""), "", true}, // the global bucket's key, not a direction
		{ratelimit.Denied, "denied", false},
		{ratelimit.Allowed, "allowed", false},
		{ratelimit.Clamped, "clamped", false},
		{ratelimit.Outcome(""), "", true}, // no decision
		{ratelimit.ReasonNone, "", false},
		{ratelimit.ReasonUnits, "max_units_per_event", false},
		{ratelimit.ReasonInterval, "min_interval", false},
		{ratelimit.ReasonWindow, "events_per_window", false},
		{ratelimit.ReasonSkew, "max_skew", false},
		{ratelimit.ReasonStore, "store_failed", false},
		{ratelimit.ReasonInvalid, "invalid_request", false},
		{ratelimit.ScopeNone, "", false},
		{ratelimit.ScopeTarget, "target", false},
		{ratelimit.ScopeGlobal, "global", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%T(%q)", tt.give, tt.want), func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, fmt.Sprint(tt.give))
			b, err := tt.give.(encoding.TextMarshaler).MarshalText()
			require.NoError(t, err)
			assert.Equal(t, tt.want, string(b))
			if tt.validErr {
				require.ErrorIs(t, tt.give.Validate(), provider.ErrInvalid)
			} else {
				require.NoError(t, tt.give.Validate())
			}
		})
	}
	for _, bad := range []interface{ Validate() error }{
		ratelimit.Direction("UP"), ratelimit.Outcome("granted"), ratelimit.Reason("none"), ratelimit.Scope("none"),
	} {
		var ie *provider.InvalidError
		require.ErrorAs(t, bad.Validate(), &ie, "%T(%v)", bad, bad)
		assert.Equal(t, fmt.Sprint(bad), ie.Value, "the error names the value")
	}
}

// Text decoding is exact: upper case and the old spellings are refused.
func TestEnumUnmarshalExact(t *testing.T) {
	t.Parallel()
	var d ratelimit.Direction
	require.ErrorIs(t, d.UnmarshalText([]byte("DOWN")), provider.ErrInvalid)
	var r ratelimit.Reason
	require.ErrorIs(t, r.UnmarshalText([]byte("min interval")), provider.ErrInvalid)
	require.NoError(t, r.UnmarshalText([]byte("min_interval")))
	assert.Equal(t, ratelimit.ReasonInterval, r)
	var o ratelimit.Outcome
	require.NoError(t, o.UnmarshalText(nil))
	assert.Equal(t, ratelimit.Outcome(""), o)
}

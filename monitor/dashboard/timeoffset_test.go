package dashboard_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor"
)

// A time with a positive zone offset typed into the events endpoint's
// query as it is (from=2026-03-07T04:00:00+01:00) is read as that time:
// a query string reads "+" as a space, so it was refused, 400 "must be an
// RFC 3339 time", for the very format the error asks for. The same time
// escaped (%2B), or in UTC, reads the same; text that is no time is still
// refused.
func TestEventsEndpointTakesAnOffsetTypedAsIs(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t)
	read := func(q string) (int, []monitor.Event) {
		status, b, _ := get(t, srv.URL+"/api/events?"+q)
		var body struct {
			Events []monitor.Event `json:"events"`
		}
		require.NoError(t, json.Unmarshal([]byte(b), &body))
		return status, body.Events
	}
	status, want := read("kind=verdict&from=2026-03-07T03:00:00Z&to=2026-03-07T03:00:01Z")
	require.Equal(t, http.StatusOK, status)
	require.NotEmpty(t, want)
	for _, q := range []string{
		"kind=verdict&from=2026-03-07T04:00:00+01:00&to=2026-03-07T04:00:01+01:00",
		"kind=verdict&from=2026-03-07T04:00:00%2B01:00&to=2026-03-07T04:00:01%2B01:00",
	} {
		status, got := read(q)
		if assert.Equal(t, http.StatusOK, status, q) {
			assert.Len(t, got, len(want), q)
		}
	}
	status, _ = read("from=2026-03-07T04:00:00%2001:00x")
	assert.Equal(t, http.StatusBadRequest, status)
}

// TestEventsEndpointRefusesAnEndAtTheZeroTime: to=0001-01-01T00:00:00Z
// asks for the events before the first instant a time can hold, none; the
// query reads a zero To as no bound, so the endpoint answered every
// event. It is a 400 naming to; from at the zero time, which bounds
// nothing either way, is taken.
func TestEventsEndpointRefusesAnEndAtTheZeroTime(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t)
	status, body, _ := get(t, srv.URL+"/api/events?to=0001-01-01T00:00:00Z")
	assert.Equal(t, http.StatusBadRequest, status, body)
	assert.Contains(t, body, "invalid to")
	status, body, _ = get(t, srv.URL+"/api/events?from=0001-01-01T00:00:00Z&limit=1")
	assert.Equal(t, http.StatusOK, status, body)
}

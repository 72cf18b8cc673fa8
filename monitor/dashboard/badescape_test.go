package dashboard_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestEventsEndpointRefusesABadEscape: a parameter whose escape is
// malformed ("i-idle%" typed by hand, "%zz") was dropped without a word
// by the query's parsing, so the events were filtered without it: asked
// for one resource's events, the endpoint answered 200 with every
// resource's. It is now a 400 naming the parameter.
func TestEventsEndpointRefusesABadEscape(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t)
	for _, tt := range []struct{ q, name string }{
		{"kind=verdict&resource=i-idle%", "resource"},
		{"from=2026-03-07T03:00:00%zz", "from"},
		{"kind=verdict&li%zzmit=1", "li%zzmit"},
		{"resource=i-idle;kind=verdict", "resource"},
	} {
		status, b, _ := get(t, srv.URL+"/api/events?"+tt.q)
		var body struct {
			Error string `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(b), &body), tt.q)
		assert.Equal(t, http.StatusBadRequest, status, tt.q)
		assert.Contains(t, body.Error, tt.name, tt.q)
	}
}

// TestEventsEndpointSaysANumberIsTooLarge: a limit or after_seq beyond
// what the endpoint can hold was refused as "must be a whole number ≥
// 0", which it is: the error named the wrong fault. It now says the
// number is too large, and the largest taken.
func TestEventsEndpointSaysANumberIsTooLarge(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t)
	for _, tt := range []struct{ q, name, max string }{
		{"limit=99999999999999999999", "limit", "9223372036854775807"},
		{"after_seq=99999999999999999999999", "after_seq", "18446744073709551615"},
	} {
		status, b, _ := get(t, srv.URL+"/api/events?"+tt.q)
		var body struct {
			Error string `json:"error"`
		}
		require.NoError(t, json.Unmarshal([]byte(b), &body), tt.q)
		assert.Equal(t, http.StatusBadRequest, status, tt.q)
		assert.Contains(t, body.Error, tt.name, tt.q)
		assert.Contains(t, body.Error, "too large", tt.q)
		assert.Contains(t, body.Error, tt.max, tt.q)
		assert.NotContains(t, body.Error, "whole number", tt.q)
	}
}

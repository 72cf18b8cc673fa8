package dashboard_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// An unknown path (404), a method a route does not take (405) and a
// static file that is not there are errors like every other: JSON
// ({"error": "..."}), as the package doc says. They were net/http's
// plain text ("404 page not found", "Method Not Allowed"), which a tool
// reading the API's errors, and the page's script (resp.json()), could
// not parse. A 405 keeps its Allow header.
func TestUnknownPathAndMethodAreJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t)
	tests := []struct {
		name   string
		method string
		path   string
		want   int
	}{
		{"unknown path", http.MethodGet, "/nope", http.StatusNotFound},
		{"unknown api", http.MethodGet, "/api/nope", http.StatusNotFound},
		{"unknown static file", http.MethodGet, "/static/nope.js", http.StatusNotFound},
		{"delete", http.MethodDelete, "/api/idle", http.StatusMethodNotAllowed},
		{"post to a read route", http.MethodPost, "/api/report", http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL+tt.path, nil)
			require.NoError(t, err)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.StatusCode)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
			var e struct {
				Error string `json:"error"`
			}
			require.NoError(t, json.Unmarshal(body, &e), "body %q", body)
			assert.NotEmpty(t, e.Error)
			assert.Contains(t, e.Error, tt.method+" "+tt.path, "the error names the request")
			if tt.want == http.StatusMethodNotAllowed {
				assert.Contains(t, resp.Header.Get("Allow"), http.MethodGet)
				// Mutation testing found the list of allowed methods in
				// the error untested (every test passed without it).
				assert.Contains(t, e.Error, "(allowed: "+resp.Header.Get("Allow")+")", "the error says which methods the route takes")
			}
		})
	}
}

package prometheus_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// A server that redirects (an http:// address behind an ingress that
// moves to https://, a path moved): 307 and 308 keep the POSTed query and
// are followed; 301, 302 and 303 would turn it into a GET without the
// query, which Prometheus rejects as bad_data. That must not read as a
// template the server rejected (ErrBadQuery, provider.ErrInvalid): the
// error names the redirect and where it leads.
func TestRedirectThatDropsTheQuery(t *testing.T) {
	t.Parallel()
	fx := getFixture(t)
	node := fx.srv.NodeTarget
	for _, code := range []int{http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther, http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			t.Parallel()
			front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, fx.srv.URL+r.URL.Path, code)
			}))
			t.Cleanup(front.Close)
			src := newSource(t, prometheus.Config{Address: front.URL})
			_, err := src.Get(t.Context(), node)
			if code == http.StatusTemporaryRedirect || code == http.StatusPermanentRedirect {
				require.NoError(t, err, "a redirect that keeps the method is followed")
				return
			}
			require.Error(t, err)
			require.NotErrorIs(t, err, prometheus.ErrBadQuery)
			require.NotErrorIs(t, err, provider.ErrInvalid)
			assert.Contains(t, err.Error(), "redirect")
			assert.Contains(t, err.Error(), fx.srv.URL, "the error says where the server redirects")
		})
	}
}

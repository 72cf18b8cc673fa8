package alert_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/alert"
	"github.com/idlescale/idlescale/provider"
)

// A Host header in WebhookConfig.Headers (an ingress or a proxy that
// routes by it: the hook is reached by address, the virtual host named
// apart) is sent, as the doc says of every header. net/http reads a
// client request's host from Request.Host and ignores Header["Host"], so
// the request went out with the URL's host and the receiver answered
// for another site. A Host that is not a host is refused by Validate:
// net/http would refuse every request, a failure the Webhook retried.
func TestWebhookSendsItsHostHeader(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		got = r.Host
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	w, err := alert.NewWebhook(alert.WebhookConfig{URL: srv.URL, Headers: map[string]string{"host": "hooks.internal:8443"}})
	require.NoError(t, err)
	require.NoError(t, w.Notify(t.Context(), alert.Alert{ID: "x/i-1", State: alert.StateFiring}))
	mu.Lock()
	assert.Equal(t, "hooks.internal:8443", got)
	mu.Unlock()

	for _, v := range []string{"", "a b", "hooks.internal/path", "user@hooks.internal"} {
		_, err := alert.NewWebhook(alert.WebhookConfig{URL: srv.URL, Headers: map[string]string{"Host": v}})
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%q", v)
		assert.Equal(t, `headers["Host"]`, ie.Field, "%q", v)
	}
}

package prometheus_test

import (
	"bytes"
	"encoding/base64"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/promtest"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// Credentials planted in the address and in a transport's bearer token.
const (
	plantedUser     = "svc-reader"
	plantedPassword = "Pl4nted-pw-7f3a9c"
	plantedToken    = "eyJhbGciOiJIUzI1NiJ9.plantedBearer.Zm9vYmFy"
)

// secretForms are the ways the planted credentials could show up: plain,
// percent-encoded, and inside a Basic authorization header.
func secretForms() []string {
	return []string{
		plantedPassword,
		url.QueryEscape(plantedPassword),
		base64.StdEncoding.EncodeToString([]byte(plantedUser + ":" + plantedPassword)),
		plantedToken,
	}
}

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range secretForms() {
		assert.NotContains(t, text, s, "%s leaks a planted credential", what)
	}
}

// bearer adds a bearer token to every request, as a host's transport would.
type bearer struct{ base http.RoundTripper }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+plantedToken)
	return b.base.RoundTrip(r)
}

// TestNoSecretsInErrorsOrLogs plants a basic-auth password in the address
// and a bearer token in the transport, drives every failure path of the
// driver (invalid addresses, a server that is down, a server that echoes
// the credentials it received in errors, warnings and bodies), and scans
// every error and log line for them.
func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	userinfo := plantedUser + ":" + plantedPassword
	t.Run("invalid address", func(t *testing.T) {
		t.Parallel()
		for _, addr := range []string{
			"http://" + userinfo + "@",                      // no host
			"ftp://" + userinfo + "@prometheus:9090",        // wrong scheme
			"http://" + userinfo + "@prometheus:port",       // bad port
			"http://" + userinfo + "@prom etheus:9090",      // space in host
			userinfo + "@prometheus:9090",                   // no scheme
			"http//" + userinfo + "@prometheus:9090",        // mistyped scheme
			"http://" + userinfo + "@prometheus:9090/%zz",   // bad escape
			"http://" + plantedPassword + "@prom\x7fetheus", // token as user name, control character
		} {
			_, err := prometheus.New(prometheus.Config{Address: addr})
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie, "%q", addr)
			assert.Equal(t, "config.address", ie.Field)
			assertNoSecret(t, "error of New("+addr+")", err.Error())
			assertNoSecret(t, "InvalidError.Value", ie.Value.(string))
			assert.Contains(t, err.Error(), "prom", "the message still shows where the address points")
			assertNoSecret(t, "Validate", prometheus.Config{Address: addr}.Validate().Error())
		}
	})
	t.Run("server down", func(t *testing.T) {
		t.Parallel()
		port, err := promtest.FreePort()
		require.NoError(t, err)
		var logs bytes.Buffer
		src := newSource(t, prometheus.Config{Address: "http://" + userinfo + "@127.0.0.1:" + strconv.Itoa(port)},
			prometheus.WithLogger(slog.New(slog.NewJSONHandler(&syncBuffer{b: &logs}, nil))))
		_, err = src.QueryMetric(t.Context(), someQuery("i-1"))
		require.ErrorIs(t, err, prometheus.ErrUnavailable)
		assertNoSecret(t, "QueryMetric", err.Error())
		_, err = src.List(t.Context(), provider.Filter{})
		require.Error(t, err)
		assertNoSecret(t, "List", err.Error())
		err = src.Check(t.Context())
		require.Error(t, err)
		assertNoSecret(t, "Check", err.Error())
		assertNoSecret(t, "log", logs.String())
	})
	t.Run("server echoes credentials", func(t *testing.T) {
		t.Parallel()
		for _, mode := range []string{"bad_data", "unauthorized", "warnings", "no build info", "several series"} {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				echo := "got Authorization: " + r.Header.Get("Authorization") + " user " + userinfo
				quoted := strconv.Quote(echo)
				w.Header().Set("Content-Type", "application/json")
				switch {
				case mode == "bad_data":
					w.WriteHeader(http.StatusBadRequest)
					_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":` + quoted + `}`))
				case mode == "unauthorized":
					w.Header().Set("Content-Type", "text/plain")
					w.WriteHeader(http.StatusUnauthorized)
					_, _ = w.Write([]byte(echo))
				case r.URL.Path == "/api/v1/status/buildinfo":
					if mode == "no build info" {
						w.WriteHeader(http.StatusNotFound)
						_, _ = w.Write([]byte(`{"status":"error","errorType":"not_found","error":` + quoted + `}`))
						return
					}
					_, _ = w.Write([]byte(`{"status":"success","data":{"version":"2.42.0"}}`))
				case mode == "several series":
					_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[` +
						`{"metric":{"instance":"i-1","url":"http://` + userinfo + `@db:5432"},"value":[1700000000,"1"]},` +
						`{"metric":{"instance":"i-1","url":"http://` + userinfo + `@db:5433"},"value":[1700000000,"1"]}]}}`))
				default:
					_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[` +
						`{"metric":{"instance":"i-1"},"value":[1700000000,"1"]},` +
						`{"metric":{"instance":"bad id ` + plantedPassword + `"},"value":[1700000000,"1"]}]},"warnings":[` + quoted + `]}`))
				}
			}))
			t.Cleanup(srv.Close)
			u, err := url.Parse(srv.URL)
			require.NoError(t, err)
			u.User = url.UserPassword(plantedUser, plantedPassword)
			var logs bytes.Buffer
			var warned []prometheus.Warning
			src := newSource(t, prometheus.Config{Address: u.String(), Activity: map[provider.ActivityKind]string{
				provider.ActivityAPICalls: `sum(increase(x{ {{.Matchers}} }[{{.Range}}]))`,
			}},
				prometheus.WithRoundTripper(bearer{http.DefaultTransport}),
				prometheus.WithLogger(slog.New(slog.NewTextHandler(&syncBuffer{b: &logs}, nil))),
				prometheus.WithWarningFunc(func(w prometheus.Warning) { warned = append(warned, w) }))
			var errs []error
			_, err = src.QueryMetric(t.Context(), someQuery("i-1"))
			errs = append(errs, err)
			_, err = src.Get(t.Context(), "i-1")
			errs = append(errs, err)
			_, err = src.List(t.Context(), provider.Filter{})
			errs = append(errs, err)
			_, err = src.Activity(t.Context(), provider.ActivityQuery{ResourceID: "i-1", Start: someQuery("").Start, End: someQuery("").End})
			errs = append(errs, err)
			errs = append(errs, src.Check(t.Context()))
			failed := 0
			for _, err := range errs {
				if err != nil {
					failed++
					assertNoSecret(t, mode+" error", err.Error())
				}
			}
			for _, w := range warned {
				assertNoSecret(t, mode+" warning", strings.Join(append(w.Warnings, w.Infos...), " "))
			}
			assertNoSecret(t, mode+" log", logs.String())
			if mode == "warnings" || mode == "no build info" {
				assert.NotEmpty(t, logs.String(), "%s: the path logs", mode)
			} else {
				assert.Positive(t, failed, "%s: the path fails", mode)
			}
		}
	})
}

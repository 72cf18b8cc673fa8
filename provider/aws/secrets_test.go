package aws_test

import (
	"bytes"
	"context"
	"html"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	awsprovider "github.com/idlescale/idlescale/provider/aws"
)

// Credentials planted in the SDK configuration and the endpoint.
const (
	plantedKeyID    = "AKIAPLANTED0EXAMPLE7"
	plantedSecret   = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYPLANTEDKEY"
	plantedProxyPW  = "proxy-Pl4nted-pw"
	plantedTokenSfx = "PlantedSessionTokenTail"
)

// plantedToken is a session token of a realistic length (real ones run to
// several hundred base64 characters).
var plantedToken = "IQoJb3JpZ2luX2VjEP" + strings.Repeat("//////////wEaCXVzLWVhc3QtMSJHMEUCIQD", 4) + plantedTokenSfx

func awsSecretForms() []string {
	return []string{plantedKeyID, plantedSecret, plantedToken, plantedTokenSfx, plantedProxyPW, url.QueryEscape(plantedSecret)}
}

func assertNoAWSSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range awsSecretForms() {
		assert.NotContains(t, text, s, "%s leaks a planted credential", what)
	}
}

// echoServer answers every AWS call with an authentication error whose
// message repeats the request's credentials, the way a misconfigured
// proxy or a chatty mock might, in the error format of each protocol.
func echoServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		echo := "request signed with Authorization: " + r.Header.Get("Authorization") +
			" X-Amz-Security-Token: " + r.Header.Get("X-Amz-Security-Token") +
			" token " + r.Header.Get("X-Amz-Security-Token")
		switch {
		case strings.HasPrefix(r.URL.Path, "/2015-03-31/"): // Lambda, REST-JSON
			w.Header().Set("X-Amzn-Errortype", "AccessDeniedException")
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"Type":"User","Message":"` + strings.ReplaceAll(echo, `"`, `'`) + `"}`))
		case r.Form.Get("Version") == "2016-11-15": // EC2 query
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error><Code>AuthFailure</Code><Message>` +
				html.EscapeString(echo) + `</Message></Error></Errors><RequestID>req-1</RequestID></Response>`))
		default: // Auto Scaling and CloudWatch, awsquery
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>InvalidClientTokenId</Code><Message>` +
				html.EscapeString(echo) + `</Message></Error><RequestId>req-1</RequestId></ErrorResponse>`))
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// everyCall runs every operation of the driver that reaches AWS and
// returns their errors.
func everyCall(ctx context.Context, d *awsprovider.Driver) []error {
	const inst = "i-0123456789abcdef0"
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	q := provider.Query{ResourceID: inst, Metric: provider.MetricCPU, Start: now.Add(-time.Hour), End: now, Step: 5 * time.Minute}
	var errs []error
	add := func(err error) { errs = append(errs, err) }
	_, err := d.List(ctx, provider.Filter{})
	add(err)
	_, err = d.Get(ctx, inst)
	add(err)
	_, err = d.Get(ctx, "web-group")
	add(err)
	_, err = d.QueryMetric(ctx, q)
	add(err)
	reads := []provider.MetricRead{{Query: q}}
	add(d.QueryMetrics(ctx, reads))
	add(reads[0].Err)
	add(d.Start(ctx, inst))
	add(d.Stop(ctx, inst))
	add(d.Terminate(ctx, inst))
	_, err = d.Capacity(ctx, "web-group")
	add(err)
	add(d.SetCapacity(ctx, "web-group", provider.CapacitySpec{Min: 1, Max: 3, Desired: 2}))
	add(d.Resize(ctx, inst, provider.Size{InstanceType: "t3.small"}))
	add(d.Resize(ctx, "arn:aws:lambda:us-east-1:123456789012:function:thumbnailer", provider.Size{MemoryMiB: 512, Timeout: 30 * time.Second}))
	_, err = d.Backups(ctx, inst, now.Add(-24*time.Hour))
	add(err)
	_, err = d.Activity(ctx, provider.ActivityQuery{ResourceID: inst, Start: now.Add(-time.Hour), End: now})
	add(err)
	return errs
}

// TestNoSecretsInErrorsOrLogs plants an access key, a secret key, a
// session token and an endpoint password, drives every operation against
// a server that echoes the credentials it receives, against a port where
// nothing listens, and against moto, and scans every error and log line.
func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	static := credentials.NewStaticCredentialsProvider(plantedKeyID, plantedSecret, plantedToken)
	for _, tt := range []struct {
		name     string
		endpoint func(t *testing.T) string
		creds    awssdk.CredentialsProvider
	}{
		{"echo, static credentials", func(t *testing.T) string { return echoServer(t).URL }, static},
		{"echo, cached credentials", func(t *testing.T) string { return echoServer(t).URL }, awssdk.NewCredentialsCache(static)},
		{"nothing listens", func(t *testing.T) string {
			srv := httptest.NewServer(http.NotFoundHandler())
			addr := srv.URL
			srv.Close()
			return addr
		}, static},
		{"moto", func(*testing.T) string { return moto.URL }, static},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			u, err := url.Parse(tt.endpoint(t))
			require.NoError(t, err)
			u.User = url.UserPassword("proxy", plantedProxyPW)
			var logs bytes.Buffer // the driver logs on the calling goroutine
			cfg := fastConfig()
			cfg.MaxAttempts = 1
			cfg.WaitTimeout = 2 * time.Second
			d, err := awsprovider.New(cfg, awssdk.Config{
				Region:       "eu-west-3",
				BaseEndpoint: awssdk.String(u.String()),
				Credentials:  tt.creds,
			}, awsprovider.WithCloudWatchOptions(queryProtocol),
				awsprovider.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			require.NoError(t, err)
			failed := 0
			for i, err := range everyCall(t.Context(), d) {
				if err != nil {
					failed++
					assertNoAWSSecret(t, "error of call "+string(rune('a'+i)), err.Error())
				}
			}
			assert.Positive(t, failed)
			assertNoAWSSecret(t, "log", logs.String())
		})
	}
}

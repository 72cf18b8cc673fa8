package redact_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/redact"
)

func TestString(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, give, want string
	}{
		{"plain text", "connection refused", "connection refused"},
		{"url without userinfo", `Get "http://prometheus:9090/api/v1/query": EOF`, `Get "http://prometheus:9090/api/v1/query": EOF`},
		{"url password", `Get "http://bob:hunter22@prom:9090/api": EOF`, `Get "http://bob:xxxxx@prom:9090/api": EOF`},
		{"url user only", "https://ghp_abcdef123456@github.com/x", "https://xxxxx@github.com/x"},
		{"url password with @", "http://bob:p@ss@prom", "http://bob:xxxxx@prom"},
		{"query token", "https://x/y?access_token=abc123&page=2", "https://x/y?access_token=xxxxx&page=2"},
		{"bearer", "got Authorization: Bearer eyJhbGciOi.J9.abc", "got Authorization: Bearer xxxxx"},
		{"bearer alone", "token Bearer eyJhbGciOiJIUzI1NiJ9 was refused", "token Bearer xxxxx was refused"},
		{"basic", "Authorization: Basic Ym9iOmh1bnRlcjIy", "Authorization: Basic xxxxx"},
		{"basic as a word", "basic authentication failed", "basic authentication failed"},
		{"sigv4", "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/ec2/aws4_request, SignedHeaders=host;x-amz-date, Signature=fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024",
			"Authorization: AWS4-HMAC-SHA256 xxxxx, SignedHeaders=host;x-amz-date, Signature=xxxxx"},
		{"presigned", "?X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101&X-Amz-Signature=abcdef0123", "?X-Amz-Credential=xxxxx&X-Amz-Signature=xxxxx"},
		{"security token header", "X-Amz-Security-Token: IQoJb3JpZ2luX2Vj", "X-Amz-Security-Token: xxxxx"},
		{"json secret", `{"SecretAccessKey": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"}`, `{"SecretAccessKey": "xxxxx"}`},
		{"ini", "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG", "aws_secret_access_key = xxxxx"},
		{"password=", "login failed for password=hunter22;", "login failed for password=xxxxx;"},
		{"access key id", "The key AKIAIOSFODNN7EXAMPLE is unknown", "The key AKIAxxxxx is unknown"},
		{"session key id", "ASIAY34FZKBOKMUTVV7A", "ASIAxxxxx"},
		{"long token", "token " + string(bytes.Repeat([]byte("AbC9+/"), 20)) + "== end", "token xxxxx end"},
		{"instance ID kept", "aws: stop \"i-0123456789abcdef0\": not found", "aws: stop \"i-0123456789abcdef0\": not found"},
		{"hash kept", "fingerprint 3f786850e387550fdab836ed7e6dc881de23001b", "fingerprint 3f786850e387550fdab836ed7e6dc881de23001b"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.String(tt.give), tt.name)
	}
}

// A header map printed as Go prints it (%v of an http.Header: values in
// brackets) or as JSON (values in a list), and credentials labelled in
// single quotes (a Python dict, a shell or SQL string), lose their
// values: the labels' patterns took only a '"' before a value, so the
// '[' (or the "'") was masked instead of the value, and the Bearer token
// that followed it lost the word "Bearer" that the bearer pattern looks
// for.
func TestHeaderDumpsAndSingleQuotes(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl")
	h.Set("X-Api-Key", "k-1234567890")
	h.Set("Cookie", "session=abcdef123456")
	js, err := json.Marshal(h)
	require.NoError(t, err)
	secrets := []string{"eyJhbGciOiJIUzI1NiJ9", "c2lnbmF0dXJl", "k-1234567890", "abcdef123456", "hunter22"}
	for _, give := range []string{
		fmt.Sprintf("request headers: %v", h),
		"request headers: " + string(js),
		`{'password': 'hunter22'}`,
		`login failed for password='hunter22'`,
	} {
		got := redact.String(give)
		for _, secret := range secrets {
			assert.NotContains(t, got, secret, "%s\n-> %s", give, got)
		}
		assert.Contains(t, got, redact.Mask, give)
	}
}

// A PEM private key in a message (a service account's JSON, a key file
// quoted in an error) loses its body, raw or JSON-escaped: its lines of
// 64 base64 characters are each shorter than the 100 that make a long
// token, and a label's value ends at the header's first space.
func TestPEMPrivateKey(t *testing.T) {
	t.Parallel()
	lines := []string{
		"MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
		"MzEfYyjiWA4R4/M2bS1GB4t7NXp98C3SC6dVMvDuictGeurT8jNbvJZHtCSuYEvu",
		"NMoSfm76oqFvAp8Gy0iz5sxjZmSnXyCdPEovGhLa0VzMaQ8s+CLOyS56YyCFGeJZ",
	}
	for _, block := range []struct{ name, nl string }{{"raw", "\n"}, {"JSON-escaped", `\n`}} {
		pem := "-----BEGIN PRIVATE KEY-----" + block.nl + strings.Join(lines, block.nl) + block.nl + "-----END PRIVATE KEY-----" + block.nl
		for _, give := range []string{
			`parse credentials: {"type": "service_account", "private_key": "` + pem + `", "client_email": "x@y.iam.gserviceaccount.com"}`,
			"bad key file: " + pem + "(truncated)",
			"bad key file: " + strings.Replace(pem, "PRIVATE KEY", "RSA PRIVATE KEY", 2),
			"cut short: -----BEGIN EC PRIVATE KEY-----" + block.nl + lines[0] + block.nl + lines[1][:20],
		} {
			got := redact.String(give)
			for _, l := range lines {
				assert.NotContains(t, got, l[:20], "%s: %s\n-> %s", block.name, give, got)
			}
			assert.Contains(t, got, redact.Mask, give)
		}
	}
	assert.Equal(t, "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
		redact.String("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"), "a certificate is public")
}

func TestKnownSecrets(t *testing.T) {
	t.Parallel()
	r := redact.New("s3cr3t/pw+", "", "ab")
	assert.Equal(t, "pw xxxxx esc xxxxx b64 xxxxx short ab",
		r.String("pw s3cr3t/pw+ esc s3cr3t%2Fpw%2B b64 "+base64.StdEncoding.EncodeToString([]byte("s3cr3t/pw+"))+" short ab"))
	var nilR *redact.Redactor
	assert.Equal(t, "http://u:xxxxx@h", nilR.String("http://u:p@h"))
}

func TestURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{"http://prom:9090", "http://prom:9090"},
		{"http://u:pw@prom:9090", "http://u:xxxxx@prom:9090"},
		{"u:pw@prom:9090", "u:xxxxx@prom:9090"},
		{"http//u:pw@prom:9090", "http//u:xxxxx@prom:9090"},
		{"http://u:pw@prom:9090/a@b", "http://u:xxxxx@prom:9090/a@b"},
		{"http://u:p/w@prom", "http://u:xxxxx@prom"},
		{"http://tok@", "http://xxxxx@"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.URL(tt.give), tt.give)
	}
	assert.Nil(t, redact.URLSecrets("http://prom:9090"))
	assert.Equal(t, []string{"tok", "tok"}, redact.URLSecrets("http://tok@prom"))
	got := redact.URLSecrets("http://u:p%40ss@prom")
	assert.Contains(t, got, "p%40ss")
	assert.Contains(t, got, "p@ss")
	assert.Contains(t, got, base64.StdEncoding.EncodeToString([]byte("u:p@ss")))
}

func TestError(t *testing.T) {
	t.Parallel()
	r := redact.New("hunter22")
	require.NoError(t, r.Error(nil))
	plain := errors.New("nothing here")
	require.Same(t, plain, r.Error(plain), "an error without secrets is returned as is")
	cause := &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}
	err := r.Error(fmt.Errorf("login hunter22: %w", cause))
	assert.Equal(t, "login xxxxx: open x: file does not exist", err.Error())
	require.ErrorIs(t, err, fs.ErrNotExist)
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	e := errors.New("x hunter22")
	r.Errorp(&e)
	assert.Equal(t, "x xxxxx", e.Error())
}

type stringer struct{ s string }

func (s stringer) String() string { return s.s }

func TestHandler(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	r := redact.New("hunter22")
	log := slog.New(r.Handler(slog.NewTextHandler(&buf, nil)))
	log = log.With("addr", "http://u:hunter22@h")
	log.WithGroup("g").Info("login hunter22 failed",
		"err", errors.New("bad hunter22"),
		"list", []string{"ok", "Bearer abcdefgh12"},
		"val", stringer{"hunter22"},
		slog.Group("inner", "pw", "hunter22"),
		"n", 3)
	out := buf.String()
	assert.NotContains(t, out, "hunter22")
	assert.NotContains(t, out, "abcdefgh12")
	assert.Contains(t, out, "n=3")
	assert.Contains(t, out, "login xxxxx failed")
}

// BenchmarkError measures what a driver pays per returned error: a message
// without credentials (returned as is) and one with.
func BenchmarkError(b *testing.B) {
	r := redact.New("hunter22", "AKIAIOSFODNN7EXAMPLE")
	for _, tt := range []struct{ name, msg string }{
		{"clean", `aws: stop "i-0123456789abcdef0": not found: operation error EC2: StopInstances, https response error StatusCode: 400, RequestID: 1, api error InvalidInstanceID.NotFound: The instance ID 'i-0123456789abcdef0' does not exist`},
		{"secret", `Get "http://bob:hunter22@prom:9090/api/v1/query": dial tcp 10.0.0.1:9090: connect: connection refused`},
	} {
		err := errors.New(tt.msg)
		b.Run(tt.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = r.Error(err)
			}
		})
	}
}

// BenchmarkLongLines measures one pass over long lines of many -p flags
// and of many URLs without a space between them, the inputs whose
// redaction once took time growing with the square of their length
// (TestShortFlagsScaleLinearly, TestURLsScaleLinearly): ns/op divided by
// the bytes (b.SetBytes) stays flat as the line grows.
func BenchmarkLongLines(b *testing.B) {
	for _, tt := range []struct {
		name, give string
		n          int
	}{
		{"short-flags-100kB", " -p x", 20000},
		{"urls-1MB", "http://u:p@h/x,", 80000},
	} {
		s := strings.Repeat(tt.give, tt.n)
		b.Run(tt.name, func(b *testing.B) {
			b.SetBytes(int64(len(s)))
			b.ReportAllocs()
			for b.Loop() {
				_ = redact.String(s)
			}
		})
	}
}

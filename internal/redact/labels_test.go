package redact_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// Labelled secrets the labels missed are masked: a hyphenated
// private-key, a command line's long flags with a space or "=" before the
// value (--password, --token, --secret, --api-key), and plural labels
// (credentials, passwords, tokens, secrets) with "=", quotes or a list
// (a bare "credentials: word" is how Go wraps errors, so it stays), and
// names with hyphens (secret-access-key). Prose that only names a
// credential, and flags that only begin like one, stay as they are.
func TestLabelledFormsAndPlurals(t *testing.T) {
	t.Parallel()
	masked := []struct{ give, want string }{
		{"private-key=MIIEvQIBADANBgkq", "private-key=xxxxx"},
		{`{"private-key": "MIIEvQIBADANBgkq"}`, `{"private-key": "xxxxx"}`},
		{"exec: mysql --password hunter22 -h db", "exec: mysql --password xxxxx -h db"},
		{"exec: mysql --password=hunter22 -h db", "exec: mysql --password=xxxxx -h db"},
		{`run tool --token 'tok-123456' --verbose`, `run tool --token 'xxxxx' --verbose`},
		{"run tool --token=tok-123456", "run tool --token=xxxxx"},
		{"run tool --secret s3cr3t-value", "run tool --secret xxxxx"},
		{`run tool --api-key "k-1234567890"`, `run tool --api-key "xxxxx"`},
		{"run tool --api-key=k-1234567890", "run tool --api-key=xxxxx"},
		{"run tool --API-KEY  k-1234567890", "run tool --API-KEY  xxxxx"},
		{"credentials=AKIDEXAMPLE123", "credentials=xxxxx"},
		{`passwords: "hunter22"`, `passwords: "xxxxx"`},
		{"config {Passwords:[hunter22] Host:db}", "config {Passwords:[xxxxx] Host:db}"},
		{"secret-access-key=wJalrXUtnFEMI/K7MDENG", "secret-access-key=xxxxx"},
		{"get credentials: password=hunter22", "get credentials: password=xxxxx"},
		{"tokens=tok-123456&x=1", "tokens=xxxxx&x=1"},
		{`{"secrets": ["s3cr3t-value"]}`, `{"secrets": ["xxxxx"]}`},
		{"api_keys=k-1234567890", "api_keys=xxxxx"},
	}
	for _, tt := range masked {
		assert.Equal(t, tt.want, redact.String(tt.give), tt.give)
	}
	for _, prose := range []string{
		"the token was refused",
		"password reset required",
		"tokens were refused, passwords expired and credentials are stale",
		"private key not found",
		"run tool --password-file /etc/pw --token-ttl 5m --secrets-dir /run",
		"run tool --password-file=/etc/pw --tokens-max=5",
		"2 secret keys rotated",
		"operation error EC2: DescribeInstances, get identity: get credentials: failed to refresh cached credentials, no EC2 IMDS role found",
		"load passwords: open /etc/pw: no such file or directory",
	} {
		assert.Equal(t, prose, redact.String(prose))
	}
}

// A plural label in Go's error wrapping ("credentials: ") is prose, but
// the word after it may be a label of its own, whose value is masked as
// it was before plural labels were recognized: the search goes on from
// that word, not from after it.
func TestPluralProseBeforeALabel(t *testing.T) {
	t.Parallel()
	for give, want := range map[string]string{
		"load credentials: password: hunter2":       "load credentials: password: " + redact.Mask,
		"refresh credentials: token: abc123def":     "refresh credentials: token: " + redact.Mask,
		"read secrets: secret: s3cr3t, retrying":    "read secrets: secret: " + redact.Mask + ", retrying",
		"get credentials: password=hunter2":         "get credentials: password=" + redact.Mask,
		"get credentials: failed to refresh cached": "get credentials: failed to refresh cached",
	} {
		assert.Equal(t, want, redact.String(give), give)
	}
}

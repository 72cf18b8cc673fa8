package redact_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// A URL password holding a "/" is masked by String as URL masks it: the
// userinfo pattern stopped at the "/", so the whole password showed.
// A "/" ends the host, not a password, when what precedes it is a port
// (1 to 5 digits), a bracketed IPv6 host, or a host without ":": a path
// with an "@" later stays as it is.
func TestStringMasksAPasswordWithASlash(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{`Get "https://user:pa/ss@host/x": EOF`, `Get "https://user:xxxxx@host/x": EOF`},
		{"https://user:pa/ss@host/x", "https://user:xxxxx@host/x"},
		{"dial https://u:/pw/x@h:443 and http://v:a/b@k", "dial https://u:xxxxx@h:443 and http://v:xxxxx@k"},
		{"http://u:123456/7@h", "http://u:xxxxx@h"},
		{"https://host/a@b", "https://host/a@b"},
		{"https://host:8443/users/bob@example.com", "https://host:8443/users/bob@example.com"},
		{"http://[::1]:9090/a@b", "http://[::1]:9090/a@b"},
		{`see "http://host/x" and mail a:b/c @ d`, `see "http://host/x" and mail a:b/c @ d`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.String(tt.give), tt.give)
	}
	assert.Equal(t, redact.URL("https://user:pa/ss@host/x"), redact.String("https://user:pa/ss@host/x"), "as URL")
}

// A port is 1 to 5 digits, any of them: a "/" after a 5-digit port, or
// after a port holding a 0 or a 9, ends the host as after any other, and
// a path with an "@" later is not taken for a password.
func TestStringKeepsAPathAfterAnyPort(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"https://host:65535/users/bob@example.com",
		"https://host:9090/users/bob@example.com",
		"https://host:1/users/bob@example.com",
	} {
		assert.Equal(t, s, redact.String(s))
	}
}

package redact_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// A URL password holding a "/" is masked by String as URL masks it: the
// userinfo pattern stopped at the "/", so the whole password showed.
// A "/" ends the host, not a password, when what precedes it is a
// bracketed IPv6 host, or a host without ":": a path with an "@" later
// stays as it is. After a port it may be a password's (see
// TestStringMasksAPasswordThatBeginsLikeAPort).
func TestStringMasksAPasswordWithASlash(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{`Get "https://user:pa/ss@host/x": EOF`, `Get "https://user:xxxxx@host/x": EOF`},
		{"https://user:pa/ss@host/x", "https://user:xxxxx@host/x"},
		{"dial https://u:/pw/x@h:443 and http://v:a/b@k", "dial https://u:xxxxx@h:443 and http://v:xxxxx@k"},
		{"http://u:123456/7@h", "http://u:xxxxx@h"},
		{"https://host/a@b", "https://host/a@b"},
		{"https://host:8443/users/bob@example.com", "https://host:xxxxx@example.com"},
		{"http://[::1]:9090/a@b", "http://[::1]:9090/a@b"},
		{`see "http://host/x" and mail a:b/c @ d`, `see "http://host/x" and mail a:b/c @ d`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.String(tt.give), tt.give)
	}
	assert.Equal(t, redact.URL("https://user:pa/ss@host/x"), redact.String("https://user:pa/ss@host/x"), "as URL")
}

// A port is 1 to 5 digits, any of them: a URL whose port is one is kept
// (and one with more hosts and ports after it, as PostgreSQL takes them),
// one whose port is not (empty, more digits, a letter: what url.Parse
// calls an invalid port, which a "#" in a password leaves of an address)
// is masked from it on.
func TestStringKeepsAnyPort(t *testing.T) {
	t.Parallel()
	for _, s := range []string{
		"https://host:65535/users",
		"https://host:9090/x?a=b",
		"https://host:1",
		"https://host:0#x",
		"https://[::1]:9090",
		"postgres://h1:5432,h2:5432,h3/db",
		"mongodb://h1:27017,h2/db",
	} {
		assert.Equal(t, s, redact.String(s))
	}
	for give, want := range map[string]string{
		"https://host:123456/x": "https://host:xxxxx",
		"https://host:9o9o":     "https://host:xxxxx",
		"https://host:/x":       "https://host:xxxxx",
		"postgres://u:5432,x:y": "postgres://u:xxxxx",
		"https://u:a0":          "https://u:xxxxx",
	} {
		assert.Equal(t, want, redact.String(give), give)
	}
}

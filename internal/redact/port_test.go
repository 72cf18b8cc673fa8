package redact_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// A URL password that begins with 1 to 5 digits and a "/" is masked whole:
// String read the digits as a port and the rest as a path, so all but the
// digits showed. A path with an "@" after an explicit port reads the same
// and is masked too (over-masking is the safe side).
func TestStringMasksAPasswordThatBeginsLikeAPort(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{"postgres://user:123/abc@db:5432/x", "postgres://user:xxxxx@db:5432/x"},
		{`Get "http://u:8080/secret@host": EOF`, `Get "http://u:xxxxx@host": EOF`},
		{"dial http://u:1/a@h and http://v:65535/b@k", "dial http://u:xxxxx@h and http://v:xxxxx@k"},
		{"https://host:8443/users/bob@example.com", "https://host:xxxxx@example.com"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.String(tt.give), tt.give)
	}
	for _, s := range []string{"postgres://user:123/abc@db:5432/x", "http://u:8080/secret@host"} {
		assert.Equal(t, redact.URL(s), redact.String(s), "as URL: %s", s)
	}
}

package redact_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// A Go SQL data source name without a scheme (MySQL's driver's
// "user:password@tcp(host:3306)/db") has its password masked, whole when
// it holds a ":" or an "@"; a user alone, an e-mail address and an "@"
// followed by no protocol are left. They were printed as they were.
func TestDSNPasswordIsMasked(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{"dial user:hunter22@tcp(db.internal:3306)/app: refused", "dial user:xxxxx@tcp(db.internal:3306)/app: refused"},
		{"dsn=root:s3cret@unix(/var/run/mysqld.sock)/x", "dsn=root:xxxxx@unix(/var/run/mysqld.sock)/x"},
		{`config {DSN:"app:p@ss:w0rd@tcp(10.0.0.1:3306)/db?tls=true"}`, `config {DSN:"app:xxxxx@tcp(10.0.0.1:3306)/db?tls=true"}`},
		{"a:one@tcp(h1)/x and b:two@tcp(h2)/y", "a:xxxxx@tcp(h1)/x and b:xxxxx@tcp(h2)/y"},
		{"dsn=app:ab=cd@tcp(h)/x", "dsn=app:xxxxx@tcp(h)/x"},
		{"user@tcp(db:3306)/app", "user@tcp(db:3306)/app"},
		{"user:@tcp(db:3306)/app", "user:@tcp(db:3306)/app"},
		{"mail ops@example.com (on call)", "mail ops@example.com (on call)"},
		{"at 10:30 @ (noon)", "at 10:30 @ (noon)"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.String(tt.give), tt.give)
	}
}

// TestDSNPasswordWithAQuoteIsMasked: a quote, "<", ">" or "`" inside a
// password (generated ones hold them) no longer ends the DSN's word
// there: "user:pa\"ss@tcp(h)/db" was printed whole, the word before the
// quote holding no ":" and the part after it no password.
func TestDSNPasswordWithAQuoteIsMasked(t *testing.T) {
	t.Parallel()
	for give, want := range map[string]string{
		`dial user:pa"ss@tcp(db:3306)/app: refused`:     `dial user:xxxxx@tcp(db:3306)/app: refused`,
		`dial user:pa'ss@tcp(db:3306)/app: refused`:     `dial user:xxxxx@tcp(db:3306)/app: refused`,
		"dsn=user:a<b>c`d@tcp(db:3306)/app":             "dsn=user:xxxxx@tcp(db:3306)/app",
		`open "user:pa\"s:s@tcp(db:3306)/app": refused`: `open "user:xxxxx@tcp(db:3306)/app": refused`,
		`dial user:"pw@tcp(db:3306)/app: refused`:       `dial user:xxxxx@tcp(db:3306)/app: refused`,
		`config {DSN:"app:pw@tcp(h)/db"}`:               `config {DSN:"app:xxxxx@tcp(h)/db"}`,
	} {
		assert.Equal(t, want, redact.String(give), give)
	}
}

// A passphrase is labelled like a password (a key's, an archive's).
func TestPassphraseIsLabelled(t *testing.T) {
	t.Parallel()
	for give, want := range map[string]string{
		"passphrase=hunter22x next":            "passphrase=xxxxx next",
		"key_passphrase: hunter22x":            "key_passphrase: xxxxx",
		`{"Passphrase":"two words"}`:           `{"Passphrase":"xxxxx"}`,
		"openssl --passphrase hunter22x -in k": "openssl --passphrase xxxxx -in k",
	} {
		assert.Equal(t, want, redact.String(give), give)
	}
}

// A long message whose "@protocol(" are not DSNs (no ":" before them in
// their word: a minified body a server echoed into its error) is
// redacted in time linear in its length, and a DSN after them is still
// masked. Each "@" searched its word back to the start of the message, so
// 400 KB took minutes, holding the driver's error return or log line.
func TestLongMessageWithoutDSNsIsQuick(t *testing.T) {
	t.Parallel()
	const n = 80_000
	for _, tt := range []struct{ name, give, want string }{
		{"one word", strings.Repeat("x@tcp(", n), strings.Repeat("x@tcp(", n)},
		{"one word, a DSN in it", strings.Repeat("x@tcp(", n) + "u:hunter22@tcp(h)/db", strings.Repeat("x@tcp(", n) + "u:xxxxx@tcp(h)/db"},
		{"quoted words", strings.Repeat(`"x@tcp(`, n) + ` u:hunter22@tcp(h)/db`, strings.Repeat(`"x@tcp(`, n) + ` u:xxxxx@tcp(h)/db`},
	} {
		done := make(chan string, 1)
		go func() { done <- redact.String(tt.give) }()
		select {
		case got := <-done:
			assert.Equal(t, tt.want, got, tt.name)
		case <-time.After(30 * time.Second):
			t.Fatalf("%s: redacting %d bytes took over 30s", tt.name, len(tt.give))
		}
	}
}

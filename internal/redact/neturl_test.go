package redact_test

import (
	"fmt"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/redact"
)

// leaked returns the letters of password that got into s: its letters J,
// K, Q, V, W and Z, which nothing else in these tests' texts holds.
func leaked(s, password string) string {
	var out []byte
	for i := 0; i < len(password); i++ {
		if c := password[i]; strings.IndexByte("JKQVWZ", c) >= 0 && strings.IndexByte(s, c) >= 0 {
			out = append(out, c)
		}
	}
	return string(out)
}

// The error url.Parse returns for an address whose password holds a
// character a URL cannot (a space, a quote, an invalid escape such as
// "%zz") or one that ends the host early ("#", "?", "/") shows no part of
// the password once redacted, nor does the address quoted in an
// http.Client's error, nor URL. String took the quoted address's userinfo
// only up to a space or a quote, and did not mask what net/url quotes
// from the address in its reason: the port it could not read ("invalid
// port \":pa\" after host", the password's start when a "#" cut the
// address short) or an escape ("invalid URL escape \"%zz\"").
func TestNetURLParseErrorsShowNoPassword(t *testing.T) {
	t.Parallel()
	passwords := []string{
		"JQ ZK", "JQ\tZK", `JQ"ZK`, `JQ\ZK`, "JQ`ZK", "JQ<ZK", "JQ{ZK", "JQÉZK",
		"JQ%ZZK", "JQZK%", "JQ%Z", "50%VKW",
		"JQ#ZK", "JQ?ZK", "JQ/ZK", "JQ:ZK#W", "12?ZK", "12#ZK", "JQ ZK#W", "JQ?Z K", "0/%WQ#Z",
	}
	for _, scheme := range []string{"http", "postgres"} {
		for _, pw := range passwords {
			addr := scheme + "://user:" + pw + "@db.example:5432/x"
			_, err := url.Parse(addr)
			if err != nil {
				got := redact.String(err.Error())
				assert.Empty(t, leaked(got, pw), "%s\n-> %s", err, got)
				got = redact.String(fmt.Sprintf("load %q: %v", "cfg", err))
				assert.Empty(t, leaked(got, pw), "wrapped: %s", got)
			}
			got := redact.String(fmt.Sprintf("Get %q: EOF", addr))
			assert.Empty(t, leaked(got, pw), "quoted: %s", got)
			got = redact.URL(addr)
			assert.Empty(t, leaked(got, pw), "URL: %s", got)
		}
	}
}

// The exact texts net/url prints for the realistic cases: what was
// masked stays readable around it.
func TestNetURLParseErrorTexts(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{"http://u:pa ss@h", `parse "http://u:xxxxx@h": net/url: invalid userinfo`},
		{`http://u:pa"ss@h`, `parse "http://u:xxxxx@h": net/url: invalid userinfo`},
		{"http://u:pa%zzss@h", `parse "http://u:xxxxx@h": invalid URL escape "xxxxx"`},
		{"http://u:pa#ss@h", `parse "http://u:xxxxx": invalid port "xxxxx" after host`},
		{"http://u:pa?ss@h", `parse "http://u:xxxxx@h": invalid port "xxxxx" after host`},
		{"http://u:pa/ss@h", `parse "http://u:xxxxx@h": invalid port "xxxxx" after host`},
		{"http://u:pa ss#x@h", `parse "http://u:xxxxx": invalid port "xxxxx" after host`},
		{"http://u:80/p%zz#x@h", `parse "http://u:xxxxx": invalid URL escape "xxxxx"`},
		{"http://host:80/a%zz", `parse "http://host:xxxxx": invalid URL escape "xxxxx"`},
	}
	for _, tt := range tests {
		_, err := url.Parse(tt.give)
		require.Error(t, err, tt.give)
		assert.Equal(t, tt.want, redact.String(err.Error()), tt.give)
	}
	decodeErr := "decode: invalid character 'x' looking for beginning of value"
	assert.Equal(t, decodeErr, redact.String(decodeErr), "encoding/json quotes in \"'\"")
}

// A password that holds a "'" (valid in a URL's userinfo) or begins
// with a port's digits before a "?" or "#" (which url.Parse reads as a
// host, a port and a query or fragment) is masked in a message.
func TestStringMasksPasswordsURLParseAccepts(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{"dial http://u:pa'ss@h: refused", "dial http://u:xxxxx@h: refused"},
		{"dial http://u:12?ss@h: refused", "dial http://u:xxxxx@h: refused"},
		{"dial http://u:12#ss@h: refused", "dial http://u:xxxxx@h: refused"},
	}
	for _, tt := range tests {
		_, err := url.Parse(strings.Fields(tt.give)[1])
		require.NoError(t, err, "url.Parse accepts %s", tt.give)
		assert.Equal(t, tt.want, redact.String(tt.give), tt.give)
	}
}

// A quoted string that holds several URLs, or is not closed, has the
// userinfo of each masked.
func TestStringMasksEachURLOfAQuotedString(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{`targets "http://host/x http://u:pa ss@h"`, `targets "http://host/x http://u:xxxxx@h"`},
		{`Get "http://host/x and http://u:pw@h`, `Get "http://host/x and http://u:xxxxx@h`},
		{"http://h/r?to=http://u:pw@k", "http://h/r?to=http://u:xxxxx@k"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.String(tt.give), tt.give)
	}
}

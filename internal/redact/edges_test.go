package redact_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// TestStringAtTheEdges pins String at the edges of today's conditions
// (each row kills a mutant gremlins left alive): where a URL's scheme
// starts (letters and digits at the ends of their ranges), single and
// escaped quotes around a URL (at the start of the text, after one or
// three backslashes), an empty or unclosed list, a quote that is not
// closed, net/url's quotes at the start of the text, and every flag of a
// line. None panics; what follows a space in an unquoted URL's password
// is not masked (the package doc says so).
func TestStringAtTheEdges(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{`://h/r?to=http://u:pw@k`, `://h/r?to=http://u:xxxxx@k`}, // a "://" at the start of the text does not end the search
		{`file:///a:b@c`, `file:///a:b@c`},                        // an empty authority: the rest is a path
		{`x://#:&=`, `x://#:&=`},
		{`dial 'http://u:pa ss@h': refused`, `dial 'http://u:xxxxx@h': refused`}, // a URL in single quotes is masked to its closing quote
		{`\"http://u:p w@h\"`, `\"http://u:xxxxx@h\"`},                           // a URL quoted after a backslash at the start of the text
		{`\\\"http://u:p w@h\\\"`, `\\\"http://u:xxxxx@h\\\"`},                   // three backslashes: JSON quoted twice
		{`{\"url\": \\\"http://u:p w@h\\\"}`, `{\"url\": \\\"http://u:xxxxx@h\\\"}`},
		{`9http://u:pw@h`, `9http://u:xxxxx@h`}, // a scheme starts at a letter
		{`://`, `://`},                          // no scheme
		{`://tok@`, `://tok@`},
		{`"http://u:pw@host": EOF`, `"http://u:xxxxx@host": EOF`},
		{`tokens=`, `tokens=`},
		{`"{\"password\":\`, `"{\"password\":xxxxx`},
		{`--secret s3cr3t-value`, `--secret xxxxx`},
		{`--token a --password b`, `--token xxxxx --password xxxxx`}, // every flag, not the first alone
		{`{Password:[a]`, `{Password:[xxxxx]`},
		{`{Token:[`, `{Token:[`},
		{`{"tokens":["a]b"`, `{"tokens":["xxxxx`},
		{`'http://':`, `'http://':xxxxx`},
		{`h://@`, `h://xxxxx@`},
		{`h://u:pw@h`, `h://u:xxxxx@h`},
		{`z://u:p w@h`, `z://u:xxxxx w@h`},
		{`zz://u:p w@h`, `zz://u:xxxxx w@h`},
		{`Z://u:p w@h`, `Z://u:xxxxx w@h`},
		{`A://u:p w@h`, `A://u:xxxxx w@h`},
		{`a://u:p w@h`, `a://u:xxxxx w@h`},
		{`s9://u:p w@h`, `s9://u:xxxxx w@h`},
		{`s0://u:p w@h`, `s0://u:xxxxx w@h`},
		{`client-key-data://,:`, `client-key-data:xxxxx,:xxxxx`},
		{`{://@`, `{://@`},
		{`token8080://: x`, `token8080://:xxxxx x`},
		{`Password:\\"`, `Password:\\"xxxxx`},
		{`pw"http://token=\'`, `pw"http://token=\'xxxxx`},
		{`#Password:[]`, `#Password:[]`},
		{`Password:\"\"=pwpw`, `Password:xxxxx`},
		{`invalid port ":pw" after host`, `invalid port "xxxxx" after host`},
		{`parse "http://u:8080#x": invalid port ":8080#x" after host`, `parse "http://u:xxxxx": invalid port "xxxxx" after host`},
		{`'http://@http://=@?Password:: `, `'http://xxxxx@http://xxxxx@?Password:xxxxx `},
		{`{"tokens": ["a" b], "user": "bob"}`, `{"tokens": ["xxxxx"], "user": "bob"}`},
		{`tokens: ["a" b] more`, `tokens: ["xxxxx"] more`},
		{`{a} password: two words`, `{a} password: xxxxx words`},
		{`map[] password: two words`, `map[] password: xxxxx words`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.String(tt.give), "%q", tt.give)
	}
}

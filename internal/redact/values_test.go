package redact_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/redact"
)

// A labelled value printed as a list (Go's %v of a slice, JSON's array,
// an http.Header's values, a []byte token as Go prints it) is masked
// whole: only its first element was.
func TestLabelledListIsMaskedWhole(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{"{Password:[a b]}", "{Password:[xxxxx]}"},
		{"map[password:[a b]]", "map[password:[xxxxx]]"},
		{"config {Tokens:[tok-1 tok-2 tok-3] Host:db}", "config {Tokens:[xxxxx] Host:db}"},
		{`{"secrets": ["s1-value", "s2-value"], "n": 1}`, `{"secrets": ["xxxxx"], "n": 1}`},
		{`{"tokens":["a]b", "c d"]}`, `{"tokens":["xxxxx"]}`},
		{fmt.Sprintf("%+v", struct{ Token []byte }{[]byte("tok")}), "{Token:[xxxxx]}"},
		{"{Password:[a]b c] Host:db}", "{Password:[xxxxx] Host:db}"},
		{"{Password:[a b", "{Password:[xxxxx"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.String(tt.give), tt.give)
	}
	h := http.Header{}
	h["X-Api-Key"] = []string{"k-first-123", "k-second-456"}
	h["Cookie"] = []string{"a=first-cookie", "b=second-cookie"}
	js, err := json.Marshal(h)
	require.NoError(t, err)
	for _, give := range []string{fmt.Sprintf("%v", h), string(js)} {
		got := redact.String(give)
		for _, secret := range []string{"first", "second"} {
			assert.NotContains(t, got, secret, "%s\n-> %s", give, got)
		}
	}
}

// A quoted labelled value is masked up to its closing quote: a space, a
// ",", a ";" or an escaped quote inside it ended the mask early, and a
// value in JSON quoted again (by %q, or as a JSON string) was not found
// at all. A Go struct printed with %+v masks a value holding a space up to
// the next field, whatever it begins with (a space, a quote, a "["). A
// quote that does not end a value ("a"b) does not end the mask.
func TestLabelledQuotedValueIsMaskedWhole(t *testing.T) {
	t.Parallel()
	tests := []struct{ give, want string }{
		{`{"password": "hun ter22", "user": "bob"}`, `{"password": "xxxxx", "user": "bob"}`},
		{`{"password":"hun\"ter22"}`, `{"password":"xxxxx"}`},
		{`{"password":"hun\\"}`, `{"password":"xxxxx"}`},
		{`"password": "a,b;c"`, `"password": "xxxxx"`},
		{`password='hun ter'`, `password='xxxxx'`},
		{`secret: "hun ter"`, `secret: "xxxxx"`},
		{`password="cut short`, `password="xxxxx`},
		{`{"password": ""}`, `{"password": ""}`},
		{fmt.Sprintf("%q", `{"password":"hun ter22"}`), `"{\"password\":\"xxxxx\"}"`},
		{fmt.Sprintf("%q", `{"password":"hun\"ter22"}`), `"{\"password\":\"xxxxx\"}"`},
		{fmt.Sprintf("%q", `{"password":"hun\\"}`), `"{\"password\":\"xxxxx\"}"`},
		{fmt.Sprintf("%#v", struct{ Password string }{"hun ter22"}), `struct { Password string }{Password:"xxxxx"}`},
		{fmt.Sprintf("%+v", struct{ Password, Host string }{"hunter 22", "db"}), "{Password:xxxxx Host:db}"},
		{fmt.Sprintf("%+v", struct{ Host, Password string }{"db", "hunter 22"}), "{Host:db Password:xxxxx}"},
		{fmt.Sprintf("config %v: refused", map[string]string{"password": "hun ter22"}), "config map[password:xxxxx]: refused"},
		{"run tool --password 'hun ter' -v", "run tool --password 'xxxxx' -v"},
		{fmt.Sprintf("%+v", struct{ Password, Host string }{" a b", "db"}), "{Password:xxxxx Host:db}"},
		{fmt.Sprintf("%+v", struct{ Password, Host string }{`""W`, "db"}), "{Password:xxxxx Host:db}"},
		{fmt.Sprintf("%+v", struct{ Password, Host string }{`"a" b`, "db"}), "{Password:xxxxx Host:db}"},
		{fmt.Sprintf("%+v", struct{ Password, Host string }{"[] W", "db"}), "{Password:[xxxxx Host:db}"},
		{`password="a"b c`, `password=xxxxx c`},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, redact.String(tt.give), tt.give)
	}
}

// A kubeconfig's client-key-data (a base64 private key) is masked
// however short a message cut it; client-certificate-data is public.
func TestKubeconfigClientKeyData(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "users:\n- user:\n    client-key-data: xxxxx\n",
		redact.String("users:\n- user:\n    client-key-data: LS0tLS1CRUdJTiBSU0EgUFJJVkFURSBLRVktLS0tLQ\n"))
	assert.Equal(t, `client: {"client-key-data":"xxxxx"}`, redact.String(`client: {"client-key-data":"LS0tLS1CRUdJTiBSU0E"}`))
	assert.Equal(t, "client-certificate-data: LS0tLS1CRUdJTiBDRVJU", redact.String("client-certificate-data: LS0tLS1CRUdJTiBDRVJU"))
}

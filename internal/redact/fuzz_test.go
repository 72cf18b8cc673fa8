package redact_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/idlescale/idlescale/internal/redact"
)

// fuzzAlphabet is what fuzzed secrets are made of: the letters leaked
// looks for, digits, and every character that ends or quotes part of a
// URL or a labelled value.
const fuzzAlphabet = "JKQVWZ0123456789 \t/?#@%:\"'\\<>{}[]()!$&*+,;=~-._`|^é"

var fuzzRunes = []rune(fuzzAlphabet)

// fuzzSecret maps each byte of b to a character of fuzzAlphabet; ok is
// false when the secret holds none of leaked's letters.
func fuzzSecret(b []byte) (string, bool) {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(fuzzRunes[int(c)%len(fuzzRunes)])
	}
	s := sb.String()
	return s, strings.ContainsAny(s, "JKQVWZ")
}

// fuzzSeed returns the bytes fuzzSecret maps to s, made of fuzzAlphabet.
func fuzzSeed(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(slices.Index(fuzzRunes, r)))
	}
	return b
}

// FuzzURLPassword checks that no part of a URL's password shows in what
// String makes of the address in a message (quoted as url.Error and %q
// print it, in JSON, in the error url.Parse returns for it, bare when it
// holds no space or quote), nor in URL's. A password with an "@" before a
// "/", "?" or "#" is left out: url.Parse reads the first part as the
// password and the rest as the host and path, and so does String.
func FuzzURLPassword(f *testing.F) {
	for _, seed := range []string{"123/JQ", "8080/ZK", "JQ ZK", "JQ%ZQZK", "50%QK", "JQ#ZK", "JQ?ZK", "JQ/ZK", `JQ"ZK`, "JQ'ZK", "12?ZK"} {
		f.Add(fuzzSeed(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		pw, ok := fuzzSecret(b)
		if !ok {
			return
		}
		if at := strings.IndexByte(pw, '@'); at >= 0 && strings.ContainsAny(pw[at:], "/?#") {
			return
		}
		for _, scheme := range []string{"http", "postgres"} {
			addr := scheme + "://user:" + pw + "@db.example:5432/x"
			js, err := json.Marshal(map[string]string{"url": addr})
			if err != nil {
				t.Fatal(err)
			}
			texts := []string{fmt.Sprintf("Get %q: EOF", addr), string(js)}
			if _, err := url.Parse(addr); err != nil {
				texts = append(texts, err.Error(), fmt.Sprintf("load %q", err.Error()))
			}
			if !strings.ContainsAny(pw, " \t\"<>`é") {
				texts = append(texts, "dial "+addr+": refused")
			}
			for _, text := range texts {
				if got := redact.String(text); leaked(got, pw) != "" {
					t.Errorf("password %q: %s\n-> %s", pw, text, got)
				}
			}
			if got := redact.URL(addr); leaked(got, pw) != "" {
				t.Errorf("password %q: URL(%s) = %s", pw, addr, got)
			}
		}
		// As a Go SQL data source name, bare or quoted; one holding a
		// space, or a quote that seems to open a word (dsnOpener), ends
		// its word early, and one holding "@proto(" reads as two.
		if !strings.ContainsAny(pw, " \t\n\v\f\r") && !dsnOpener.MatchString(pw) && !dsnAt.MatchString(pw) {
			dsn := "app:" + pw + "@tcp(db.example:3306)/x"
			for _, text := range []string{"dial " + dsn + ": refused", "dsn=" + dsn, fmt.Sprintf("%+v", struct{ DSN string }{dsn}), fmt.Sprintf("{DSN:%q}", dsn)} {
				if got := redact.String(text); leaked(got, pw) != "" {
					t.Errorf("password %q: %s\n-> %s", pw, text, got)
				}
			}
		}
	})
}

// dsnAt finds what a DSN's password must not hold to be masked whole: an
// "@" and a protocol's "(".
var dsnAt = regexp.MustCompile(`@[A-Za-z0-9]+\(`)

// dsnOpener finds a quote in a password that reads as the start of the
// DSN's word: first (after the DSN's ":"), or after "=", ":", ",", "(",
// "[" or "{" ("{DSN:\"app:pw@tcp(h)/db\"}" cannot be told from the
// password "\"app:pw" of a user "{DSN").
var dsnOpener = regexp.MustCompile("^[\"'`<>]|[=:,(\\[{][\"'`<>]")

// goFieldLike finds what ends a value in a struct printed by Go: a space,
// a name and a colon. A value holding one is left out of
// FuzzLabelledValue, which it would end early.
var goFieldLike = regexp.MustCompile(`\s[A-Za-z_][A-Za-z0-9_.\-]*:`)

// FuzzLabelledValue checks that no part of a password shows in what
// String makes of it labelled: in JSON, in JSON quoted again by %q, in a
// struct printed by %+v and %#v, and in a list of a map printed by %v. A
// value holding a "]" is left out of the list, and one holding " Name:"
// out of %+v.
func FuzzLabelledValue(f *testing.F) {
	for _, seed := range []string{"JQ ZK", `JQ"ZK`, `JQ\`, "JQ,ZK;W", "JQ}ZK", "JQ ZK]"} {
		f.Add(fuzzSeed(seed))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		v, ok := fuzzSecret(b)
		if !ok {
			return
		}
		js, err := json.Marshal(map[string]string{"password": v, "user": "bob"})
		if err != nil {
			t.Fatal(err)
		}
		texts := []string{string(js), fmt.Sprintf("bad body %q", js), fmt.Sprintf("%#v", struct{ Password string }{v})}
		if !goFieldLike.MatchString(v) {
			texts = append(texts, fmt.Sprintf("%+v", struct{ Password, Host string }{v, "db"}))
		}
		if !strings.Contains(v, "]") {
			texts = append(texts, fmt.Sprintf("%v", map[string][]string{"password": {v, v}}))
		}
		for _, text := range texts {
			if got := redact.String(text); leaked(got, v) != "" {
				t.Errorf("value %q: %s\n-> %s", v, text, got)
			}
		}
	})
}

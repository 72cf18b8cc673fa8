package redact_test

import "testing"

// TestLabelledPasswordThatReadsAsADSN: a labelled password holding an
// "@", a word and a "(" (p@ss(wd) reads as a DSN's "@proto(") and a space
// is masked whole, in JSON and in JSON quoted again: the DSN's mask took
// the value's opening quote, and the label's then read the value as
// unquoted, up to the space, printing the rest of the password.
func TestLabelledPasswordThatReadsAsADSN(t *testing.T) {
	t.Parallel()
	tests := []redaction{
		{"json", `{"password":"p@ss(wd) x1 y2","user":"bob"}`, `{"password":"xxxxx","user":"bob"}`},
		{"json quoted again", `bad body "{\"password\":\"p@ss(wd) x1\",\"user\":\"bob\"}"`, `bad body "{\"password\":\"xxxxx\",\"user\":\"bob\"}"`},
		{"single quotes", `{'password':'p@ss(wd) x1'}`, `{'password':'xxxxx'}`},
		{"a DSN still", `dial user:"pw@tcp(db:3306)/app: refused`, `dial user:xxxxx@tcp(db:3306)/app: refused`},
		{"a quoted DSN value", `{"dsn":"app:pw@tcp(h)/db"}`, `{"dsn":"app:xxxxx@tcp(h)/db"}`},
	}
	redacts(t, tests)
}

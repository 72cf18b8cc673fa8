package redact_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/redact"
)

// ptrError is an error whose Error reads its receiver, as most do: a nil
// *ptrError panics in Error.
type ptrError struct{ msg string }

func (e *ptrError) Error() string { return e.msg }

// A typed nil error logged as an attribute (the "err", err of a function
// that returned a nil *T as an error) is printed as slog prints it, <nil>,
// and the line is logged: the redacting handler called its Error, which
// panicked, so the driver's log call panicked where slog alone prints
// <nil>. Errors, the package-level Error and Errorp do the same.
func TestHandlerTypedNilError(t *testing.T) {
	t.Parallel()
	for _, mk := range []struct {
		name string
		new  func(*bytes.Buffer) slog.Handler
	}{
		{"text", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		t.Run(mk.name, func(t *testing.T) {
			t.Parallel()
			var want, got bytes.Buffer
			var nilErr *ptrError
			slog.New(mk.new(&want)).Info("m", "err", nilErr)
			log := slog.New(redact.New("hunter22").Handler(mk.new(&got)))
			require.NotPanics(t, func() {
				log.Info("m", "err", nilErr)
				log.With("err", nilErr).Info("m", slog.Group("g", "err", nilErr))
			})
			assert.Contains(t, want.String(), "<nil>")
			assert.Contains(t, got.String(), "<nil>")
		})
	}
	var nilErr *ptrError
	require.NotPanics(t, func() {
		err := redact.Error(nilErr)
		assert.Same(t, nilErr, err, "a typed nil error is returned as it is")
		err = nilErr
		redact.Errorp(&err)
	})
}

// apiConfig prints its key as Key:… with %v, and as "api_key": … in JSON.
type apiConfig struct {
	Key string `json:"api_key"`
}

// textKey prints as something else with %v than with MarshalText.
type textKey struct{ s string }

func (k textKey) String() string               { return "a key" }
func (k textKey) MarshalText() ([]byte, error) { return []byte("token=" + k.s), nil }

// An attribute is redacted in the form the handler it wraps prints it:
// slog's text handler prints a []byte (a response body) as text and a
// TextMarshaler through MarshalText, its JSON handler prints a
// json.RawMessage as it is and a struct by its JSON tags. The redacting
// handler looked at the %+v of each, which held no credential (a byte
// slice prints as numbers, the struct's field is Key), and passed the
// value on, so the credential was printed.
func TestHandlerRedactsWhatTheHandlerPrints(t *testing.T) {
	t.Parallel()
	for _, mk := range []struct {
		name, want string
		new        func(*bytes.Buffer) slog.Handler
	}{
		{"text", "n=3", func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) }},
		{"json", `"n":3`, func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) }},
	} {
		t.Run(mk.name, func(t *testing.T) {
			t.Parallel()
			var buf bytes.Buffer
			log := slog.New(redact.Handler(mk.new(&buf)))
			log.Info("m",
				"body", []byte("password=topsecret1"),
				"raw", json.RawMessage(`{"password":"topsecret2"}`),
				"cfg", apiConfig{Key: "topsecret3"},
				"key", textKey{"topsecret4"},
				slog.Group("g", "body", []byte("password=topsecret5")),
				"n", 3, "plain", []byte("hello"), "ok", apiConfig{})
			out := buf.String()
			for _, secret := range []string{"topsecret1", "topsecret2", "topsecret3", "topsecret4", "topsecret5"} {
				assert.NotContains(t, out, secret)
			}
			assert.NotContains(t, out, base64.StdEncoding.EncodeToString([]byte("password=topsecret1")), "a byte slice in JSON's base64")
			assert.Contains(t, out, mk.want, "other values are printed")
		})
	}
}

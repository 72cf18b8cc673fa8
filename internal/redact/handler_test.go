package redact_test

import (
	"bytes"
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

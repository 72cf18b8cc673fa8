package detector_test

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
)

// TestLoadModelReaderErrors checks that a nil reader is an error naming it
// (not a panic) and that a failing reader's error is kept for errors.Is
// rather than flattened into a message about invalid JSON.
func TestLoadModelReaderErrors(t *testing.T) {
	t.Parallel()
	_, err := detector.LoadModel(nil)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "model.reader", ie.Field)

	errDisk := errors.New("disk on fire")
	_, err = detector.LoadModel(iotest.ErrReader(errDisk))
	require.ErrorIs(t, err, errDisk)
	assert.NotErrorIs(t, err, provider.ErrInvalid, "a read failure is not invalid input")
}

// TestLoadModelRefusesNilPointerReader: a nil *bytes.Reader or
// *strings.Reader (a host's reader not built, in the interface) is a
// non-nil io.Reader whose Read panics; LoadModel refuses it as it refuses
// a nil reader, naming model.reader, as trace.ReadCSV does.
func TestLoadModelRefusesNilPointerReader(t *testing.T) {
	t.Parallel()
	for name, r := range map[string]io.Reader{"nil *bytes.Reader": (*bytes.Reader)(nil), "nil *strings.Reader": (*strings.Reader)(nil)} {
		var err error
		require.NotPanics(t, func() { _, err = detector.LoadModel(r) }, name)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, name)
		assert.Equal(t, "model.reader", ie.Field, name)
	}
}

// TestModelSaveRefusesNilWriter: a nil writer, or a nil *bytes.Buffer in
// the interface, is an error naming model.writer, as LoadModel names
// model.reader; bad input never panics.
func TestModelSaveRefusesNilWriter(t *testing.T) {
	t.Parallel()
	m, err := detector.Train(t.Context(), fleetExamples(3, 2), detector.ModelConfig{IgnoreNetwork: true})
	require.NoError(t, err)
	for name, w := range map[string]io.Writer{"nil": nil, "nil *bytes.Buffer": (*bytes.Buffer)(nil)} {
		var err error
		require.NotPanics(t, func() { err = m.Save(w) }, name)
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, name)
		assert.Equal(t, "model.writer", ie.Field, name)
	}
}

package detector_test

import (
	"errors"
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

package enumtext_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/enumtext"
)

type color string

var errColor = errors.New("unknown color")

func (c color) Validate() error {
	if c == "red" || c == "green" {
		return nil
	}
	return errColor
}

func TestUnmarshal(t *testing.T) {
	t.Parallel()
	c := color("green")
	require.NoError(t, enumtext.Unmarshal(&c, []byte("red"), color.Validate))
	assert.Equal(t, color("red"), c)
	require.ErrorIs(t, enumtext.Unmarshal(&c, []byte("blue"), color.Validate), errColor)
	assert.Equal(t, color("red"), c, "a refused value leaves the target unchanged")
	require.NoError(t, enumtext.Unmarshal(&c, nil, color.Validate), `"" is the zero value, never validated`)
	assert.Equal(t, color(""), c)
}

func TestMarshal(t *testing.T) {
	t.Parallel()
	b, err := enumtext.Marshal(color("red"), color.Validate)
	require.NoError(t, err)
	assert.Equal(t, "red", string(b))
	b, err = enumtext.Marshal(color(""), color.Validate)
	require.NoError(t, err, `"" is the zero value, never validated`)
	assert.Empty(t, b)
	_, err = enumtext.Marshal(color("blue"), color.Validate)
	require.ErrorIs(t, err, errColor)
}

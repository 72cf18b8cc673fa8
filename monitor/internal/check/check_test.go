package check_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/internal/check"
	"github.com/idlescale/idlescale/provider"
)

func TestNil(t *testing.T) {
	t.Parallel()
	var p *int
	var f func()
	var m map[string]int
	n := 1
	assert.True(t, check.Nil(nil))
	assert.True(t, check.Nil(p))
	assert.True(t, check.Nil(f))
	assert.True(t, check.Nil(m))
	assert.False(t, check.Nil(&n))
	assert.False(t, check.Nil(n))
	assert.False(t, check.Nil(func() {}))
}

func TestOneOf(t *testing.T) {
	t.Parallel()
	require.NoError(t, check.OneOf("kind", "b", []string{"a", "b"}))
	err := check.OneOf("kind", "c", []string{"a", "b"})
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "kind", ie.Field)
	assert.Contains(t, ie.Error(), "must be one of a, b")
}

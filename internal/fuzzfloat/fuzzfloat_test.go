package fuzzfloat_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/fuzzfloat"
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	give := []float64{0, -1.5, math.Inf(1), math.Inf(-1), math.SmallestNonzeroFloat64, 1e300}
	got := fuzzfloat.Floats(fuzzfloat.Bytes(give...))
	assert.Equal(t, give, got)
	nan := fuzzfloat.Floats(fuzzfloat.Bytes(math.NaN()))
	assert.Len(t, nan, 1)
	assert.True(t, math.IsNaN(nan[0]))
	assert.Len(t, fuzzfloat.Floats(append(fuzzfloat.Bytes(1), 7, 7, 7)), 1, "a partial value is dropped")
	assert.Empty(t, fuzzfloat.Floats(nil))
}

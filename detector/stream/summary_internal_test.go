package stream

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The run below the threshold saturates at 2³²−1 as the count does. It
// wrapped to 0 after 2³² values below the threshold in a row, so that a
// resource idle for that long stopped being Idle. (The fields are set
// directly: 2³² updates take too long for a test.)
func TestSummaryRunSaturates(t *testing.T) {
	t.Parallel()
	s, err := NewSummary(SummaryConfig{Threshold: 0.1})
	require.NoError(t, err)
	s.Update(0.01)
	s.run, s.n = math.MaxUint32-1, math.MaxUint32-1
	s.Update(0.01)
	assert.Equal(t, math.MaxUint32, s.Run())
	s.Update(0.01)
	assert.Equal(t, math.MaxUint32, s.Run(), "saturated, not wrapped")
	assert.Equal(t, math.MaxUint32, s.Count())
	assert.True(t, s.Idle(12))
	s.Update(0.5)
	assert.Zero(t, s.Run(), "a value not below the threshold still ends the run")
}

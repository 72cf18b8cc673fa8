package scaling_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestSignalStringWithoutARange: a signal with neither Max nor Min is one
// Validate refuses, but a host prints what it loaded before validating
// it (or in the error it reports about it): String named a bound that
// was not there and dereferenced the nil Min, so printing the signal
// panicked.
func TestSignalStringWithoutARange(t *testing.T) {
	t.Parallel()
	s := scaling.Signal{Metric: provider.MetricCPU}
	assert.NotPanics(t, func() { _ = s.String() })
	assert.Equal(t, "cpu max (no range)", fmt.Sprint(s))
}

package memory_test

import (
	"testing"

	bclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/provider/quota"
)

// A nil *clock.Mock is not a nil Clock (which means the wall clock), nor a
// nil *memory.Cloud a source: New and NewQuotaEmulator refuse them, naming
// the field. They were taken, and the Cloud's first call (every one reads
// its clock) or the emulator's first read panicked.
func TestNilPointersRefused(t *testing.T) {
	t.Parallel()
	var inv *provider.InvalidError
	_, err := memory.New(memory.Config{}, memory.WithClock((*bclock.Mock)(nil)))
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)

	cloud, err := memory.New(memory.Config{})
	require.NoError(t, err)
	_, err = memory.NewQuotaEmulator(cloud, (*bclock.Mock)(nil), quota.CloudWatch())
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "clock", inv.Field)
	_, err = memory.NewQuotaEmulator((*memory.Cloud)(nil), bclock.NewMock(), quota.CloudWatch())
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "source", inv.Field)
}

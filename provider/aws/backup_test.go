package aws_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

func TestBackupsFromSnapshots(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	inst := runInstances(t, 1, "t3.micro", nil)[0]
	other := runInstances(t, 1, "t3.micro", nil)[0]
	plain := snapshot(t, inst, nil)
	verified := snapshot(t, inst, map[string]string{"idlescale:verified": "restore-test", "idlescale:verified-at": "2026-03-02T12:00:00Z"})
	notVerified := snapshot(t, inst, map[string]string{"idlescale:verified": "false"})
	snapshot(t, other, nil)

	got, err := d.Backups(tctx(t), inst, time.Time{})
	require.NoError(t, err)
	require.Len(t, got, 3, "only the instance's own volumes")
	byID := map[string]provider.Backup{}
	for i, b := range got {
		require.NoError(t, b.Validate())
		assert.Equal(t, inst, b.ResourceID)
		assert.True(t, b.Complete, "moto completes snapshots at once")
		if i > 0 {
			assert.False(t, b.Time.After(got[i-1].Time), "newest first")
		}
		byID[b.ID] = b
	}
	assert.False(t, byID[plain].Verified)
	assert.True(t, byID[verified].Verified)
	assert.Equal(t, "restore-test", byID[verified].VerifiedBy)
	assert.True(t, byID[verified].VerifiedAt.Equal(time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)))
	assert.False(t, byID[notVerified].Verified)
	assert.True(t, byID[notVerified].VerifiedAt.IsZero())

	none, err := d.Backups(tctx(t), inst, got[0].Time.Add(time.Second))
	require.NoError(t, err)
	assert.Empty(t, none)

	fresh := runInstances(t, 1, "t3.micro", nil)[0]
	empty, err := d.Backups(tctx(t), fresh, time.Time{})
	require.NoError(t, err)
	assert.NotNil(t, empty)
	assert.Empty(t, empty)

	fn := createFunction(t, 128, 3, nil)
	_, err = d.Backups(tctx(t), fn, time.Time{})
	require.ErrorIs(t, err, provider.ErrUnsupported)
	_, err = d.Backups(tctx(t), "i-0123456789abcdef0", time.Time{})
	require.ErrorIs(t, err, provider.ErrNotFound)
}

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

// TestVerificationTagsInTwoCases: a snapshot may carry the verification
// tags in two spellings (EC2's tag keys are case-sensitive, the driver
// matches them case-insensitively). One that says verified and one that
// says not verified, or two verification times that disagree, leave the
// snapshot unverified: it counted as verified when any spelling said
// so, so a "false" written by a later, failed restore test under another
// spelling let a terminate through on it.
func TestVerificationTagsInTwoCases(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	tests := []struct {
		name string
		give map[string]string
		want bool
	}{
		{"verified and not", map[string]string{"idlescale:verified": "restore-test", "IDLESCALE:VERIFIED": "false"}, false},
		{"not and verified", map[string]string{"idlescale:verified": "no", "Idlescale:Verified": "checksum"}, false},
		{"two times", map[string]string{"idlescale:verified": "restore-test", "idlescale:verified-at": "2026-03-02T12:00:00Z", "IDLESCALE:VERIFIED-AT": "2026-01-02T12:00:00Z"}, false},
		{"two that agree", map[string]string{"idlescale:verified": "restore-test", "IDLESCALE:VERIFIED": "restore-test"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inst := runInstances(t, 1, "t3.micro", nil)[0] // one volume: each snapshot a backup
			snap := snapshot(t, inst, tt.give)
			got, err := d.Backups(tctx(t), inst, time.Time{})
			require.NoError(t, err)
			require.Len(t, got, 1)
			assert.Equal(t, snap, got[0].ID)
			assert.Equal(t, tt.want, got[0].Verified, "%v", tt.give)
		})
	}
}

package approval_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety/approval"
)

// TestSelfApprovalComparesNormalisedIdentities checks that an approver who
// is the requester spelt differently (case, white space, invisible
// characters, compatibility forms) is refused, and that different people
// still may approve.
func TestSelfApprovalComparesNormalisedIdentities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		requester string
		approver  string
		self      bool
	}{
		{"same", "reaper", "reaper", true},
		{"capitalised", "reaper", "Reaper", true},
		{"upper case", "reaper", "REAPER", true},
		{"leading space", "reaper", " reaper", true},
		{"trailing tab", "reaper", "reaper\t", true},
		{"requester spaced", " Reaper ", "reaper", true},
		{"no-break space", "reaper", "reaper\u00a0", true},
		{"zero-width space", "reaper", "rea\u200bper", true},
		{"soft hyphen", "reaper", "re\u00adaper", true},
		{"byte-order mark", "reaper", "\ufeffreaper", true},
		{"fullwidth letters", "reaper", "ｒｅａｐｅｒ", true},
		{"Kelvin sign", "kate", "\u212aate", true},
		{"full case fold", "straße", "STRASSE", true},
		{"decomposed accent", "josé", "jose\u0301", true},
		{"inner spaces", "Alice Smith", "alice   smith", true},
		{"email case", "Alice@Example.com", "alice@example.com", true},
		{"other person", "reaper", "alice", false},
		{"suffix", "reaper", "reaper2", false},
		{"inner space is not nothing", "alicesmith", "alice smith", false},
		{"accent kept", "jose", "josé", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t)
			p := s.proposal()
			p.Requester = tt.requester
			req := s.request(t, p)
			_, err := s.approvals.Approve(t.Context(), req.ID, tt.approver, s.clock.Now(), "")
			if tt.self {
				require.ErrorIs(t, err, approval.ErrSelfApproval)
				got, gerr := s.approvals.Get(t.Context(), req.ID)
				require.NoError(t, gerr)
				assert.Equal(t, approval.Pending, got.State, "a refused self-approval changes nothing")
			} else {
				require.NoError(t, err)
			}
			assert.Equal(t, tt.self, approval.SameIdentity(tt.requester, tt.approver))
		})
	}
}

// TestApproverOfOnlySpacesIsEmpty checks that an identity that normalises
// to nothing is refused like an empty one.
func TestApproverOfOnlySpacesIsEmpty(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	req := s.request(t, s.proposal())
	for _, who := range []string{" ", "\t\u00a0", "\u200b"} {
		_, err := s.approvals.Approve(t.Context(), req.ID, who, s.clock.Now(), "")
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, "%q", who)
		assert.Equal(t, "approver", ie.Field)
		_, err = s.approvals.Deny(t.Context(), req.ID, who, s.clock.Now(), "")
		require.ErrorAs(t, err, &ie, "%q", who)
		_, err = s.approvals.Cancel(t.Context(), req.ID, who, s.clock.Now(), "")
		require.ErrorAs(t, err, &ie, "%q", who)
		assert.Equal(t, "by", ie.Field)
	}
}

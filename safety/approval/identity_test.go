package approval_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
	"github.com/idlescale/idlescale/safety/approval"
)

// TestSelfApprovalComparesNormalisedIdentities checks that an approver who
// is the requester spelt differently (case, white space, invisible
// characters, compatibility forms, control characters) is refused, and
// that different people still may approve. An approver with a control
// character (tab and newline included) or bytes that are not UTF-8 is
// refused as invalid before any comparison, and SameIdentity, which
// drops the controls that are not white space, still finds them the same.
func TestSelfApprovalComparesNormalisedIdentities(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		requester string
		approver  string
		self      bool
		invalid   bool // Approve refuses the approver with provider.ErrInvalid
	}{
		{"same", "reaper", "reaper", true, false},
		{"capitalised", "reaper", "Reaper", true, false},
		{"upper case", "reaper", "REAPER", true, false},
		{"leading space", "reaper", " reaper", true, false},
		{"trailing ideographic space", "reaper", "reaper\u3000", true, false},
		{"trailing tab", "reaper", "reaper\t", true, true},
		{"newline inside", "Alice Smith", "alice\nsmith", true, true},
		{"requester spaced", " Reaper ", "reaper", true, false},
		{"no-break space", "reaper", "reaper\u00a0", true, false},
		{"zero-width space", "reaper", "rea\u200bper", true, false},
		{"soft hyphen", "reaper", "re\u00adaper", true, false},
		{"byte-order mark", "reaper", "\ufeffreaper", true, false},
		{"fullwidth letters", "reaper", "ｒｅａｐｅｒ", true, false},
		{"Kelvin sign", "kate", "\u212aate", true, false},
		{"full case fold", "straße", "STRASSE", true, false},
		{"decomposed accent", "josé", "jose\u0301", true, false},
		{"inner spaces", "Alice Smith", "alice   smith", true, false},
		{"email case", "Alice@Example.com", "alice@example.com", true, false},
		{"NUL", "autoscaler", "autoscaler\x00", true, true},
		{"DEL inside", "autoscaler", "auto\x7fscaler", true, true},
		{"C1 control", "autoscaler", "autoscaler\u0080", true, true},
		{"escape", "autoscaler", "\x1bautoscaler", true, true},
		{"not UTF-8", "autoscaler", "autoscaler\xff", true, true},
		{"other person", "reaper", "alice", false, false},
		{"suffix", "reaper", "reaper2", false, false},
		{"inner space is not nothing", "alicesmith", "alice smith", false, false},
		{"accent kept", "jose", "josé", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSetup(t)
			p := s.proposal()
			p.Requester = tt.requester
			req := s.request(t, p)
			_, err := s.approvals.Approve(t.Context(), req.ID, tt.approver, s.clock.Now(), "")
			switch {
			case tt.invalid:
				var ie *provider.InvalidError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, "approver", ie.Field)
			case tt.self:
				require.ErrorIs(t, err, approval.ErrSelfApproval)
			default:
				require.NoError(t, err)
			}
			if tt.self {
				got, gerr := s.approvals.Get(t.Context(), req.ID)
				require.NoError(t, gerr)
				assert.Equal(t, approval.Pending, got.State, "a refused self-approval changes nothing")
			}
			assert.Equal(t, tt.self, approval.SameIdentity(tt.requester, tt.approver))
		})
	}
}

// TestIdentityWithControlCharacterIsInvalid checks every place an
// identity enters a Manager (the requester of Request, Claim and Execute,
// the approver of Approve and Deny, who cancels, completes or releases):
// one with a control character (Unicode Cc: NUL, DEL, a C1 control, tab,
// newline) or bytes that are not UTF-8 is refused with a
// *provider.InvalidError naming the field, and nothing is stored or
// audited. Such a name looks like another in most interfaces, and
// "autoscaler\x00" could otherwise approve what "autoscaler" asked for.
func TestIdentityWithControlCharacterIsInvalid(t *testing.T) {
	t.Parallel()
	bad := []string{"autoscaler\x00", "auto\x7fscaler", "autoscaler\u0080", "\u009falice", "alice\tsmith",
		"alice\n", "alice\r", "autoscaler\xff", "alic\xc3"}
	// Each call prepares a request in the state the method needs (id empty
	// for Request, which has none yet), then calls the method as who.
	calls := map[string]struct {
		field string
		from  approval.State
		call  func(s *setup, t *testing.T, who string, refused func(id string, err error))
	}{
		"request": {"requester", "", func(s *setup, t *testing.T, who string, refused func(string, error)) {
			p := s.proposal()
			d, err := s.engine.Check(t.Context(), p)
			require.ErrorIs(t, err, safety.ErrApprovalRequired)
			p.Requester = who
			_, err = s.approvals.Request(t.Context(), p, d, "")
			refused("", err)
		}},
		"approve": {"approver", approval.Pending, func(s *setup, t *testing.T, who string, refused func(string, error)) {
			req := s.request(t, s.proposal())
			_, err := s.approvals.Approve(t.Context(), req.ID, who, s.clock.Now(), "")
			refused(req.ID, err)
		}},
		"deny": {"approver", approval.Pending, func(s *setup, t *testing.T, who string, refused func(string, error)) {
			req := s.request(t, s.proposal())
			_, err := s.approvals.Deny(t.Context(), req.ID, who, s.clock.Now(), "")
			refused(req.ID, err)
		}},
		"cancel": {"by", approval.Pending, func(s *setup, t *testing.T, who string, refused func(string, error)) {
			req := s.request(t, s.proposal())
			_, err := s.approvals.Cancel(t.Context(), req.ID, who, s.clock.Now(), "")
			refused(req.ID, err)
		}},
		"claim": {"requester", approval.Approved, func(s *setup, t *testing.T, who string, refused func(string, error)) {
			p, req := s.approved(t)
			p.ApprovalID, p.Requester = req.ID, who
			_, err := s.approvals.Claim(t.Context(), req.ID, p)
			refused(req.ID, err)
		}},
		"execute": {"requester", approval.Approved, func(s *setup, t *testing.T, who string, refused func(string, error)) {
			p, req := s.approved(t)
			p.ApprovalID, p.Requester = req.ID, who
			_, err := s.approvals.Execute(t.Context(), req.ID, p)
			refused(req.ID, err)
		}},
		"complete": {"by", approval.Executing, func(s *setup, t *testing.T, who string, refused func(string, error)) {
			_, req := s.claimed(t)
			_, err := s.approvals.Complete(t.Context(), req.ID, who, s.clock.Now(), "")
			refused(req.ID, err)
		}},
		"release": {"by", approval.Executing, func(s *setup, t *testing.T, who string, refused func(string, error)) {
			_, req := s.claimed(t)
			_, err := s.approvals.Release(t.Context(), req.ID, who, s.clock.Now(), "")
			refused(req.ID, err)
		}},
	}
	for name, c := range calls {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			for _, who := range bad {
				s := newSetup(t)
				c.call(s, t, who, func(id string, err error) {
					var ie *provider.InvalidError
					require.ErrorAs(t, err, &ie, "%q", who)
					assert.Equal(t, c.field, ie.Field, "%q", who)
					reqs, err := s.approvals.List(t.Context(), approval.Filter{})
					require.NoError(t, err)
					if id == "" {
						assert.Empty(t, reqs, "%q: nothing stored", who)
						return
					}
					require.Len(t, reqs, 1)
					assert.Equal(t, c.from, reqs[0].State, "%q: nothing changed", who)
				})
				events := s.log.Events()
				if c.from == "" {
					assert.Empty(t, events, "%q: nothing audited", who)
				} else {
					require.NotEmpty(t, events)
					assert.Equal(t, string(c.from), events[len(events)-1].To, "%q: nothing audited after the move to %s", who, c.from)
				}
			}
		})
	}
}

// A request stored before identities with control characters were
// refused, by a requester "autoscaler\x00", cannot be approved by
// "autoscaler": SameIdentity drops such characters, so the four-eyes rule
// holds for old requests too.
func TestStoredRequesterWithControlCharacterCannotSelfApprove(t *testing.T) {
	t.Parallel()
	s := newSetup(t)
	for i, requester := range []string{"autoscaler\x00", "auto\x7fscaler", "autoscaler\u0080", "autoscaler\xff"} {
		p := s.proposal()
		p.Requester = requester
		req := approval.Request{ID: fmt.Sprintf("old-%d", i), State: approval.Pending, Proposal: p, Fingerprint: p.Fingerprint(),
			Requester: requester, CreatedAt: p.Now, ExpiresAt: p.Now.Add(time.Hour)}
		require.NoError(t, s.store.Create(t.Context(), req))
		_, err := s.approvals.Approve(t.Context(), req.ID, "autoscaler", s.clock.Now(), "")
		require.ErrorIs(t, err, approval.ErrSelfApproval, "requested by %q", requester)
		assert.True(t, approval.SameIdentity(requester, "autoscaler"), "%q", requester)
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

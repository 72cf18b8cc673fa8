package approval

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/idlescale/idlescale/internal/textnorm"
	"github.com/idlescale/idlescale/provider"
)

// SameIdentity reports whether a and b name the same person or service as
// far as the approval rules can tell, so that a requester cannot approve
// their own request by spelling their name differently. Both are
// normalised before they are compared:
//
//   - bytes that are not UTF-8, and control characters (Unicode Cc: NUL,
//     DEL, the C1 controls) other than white space, are removed (a
//     Manager refuses identities with either, see below; a request stored
//     before it did is still compared without them);
//   - Unicode NFKC: compatibility forms become their plain letters
//     (fullwidth "ｒｅａｐｅｒ", the Kelvin sign "K"), and decomposed
//     accents are composed;
//   - invisible characters are removed: format characters (zero-width
//     spaces and joiners, soft hyphens, byte-order and bidirectional
//     marks), variation selectors and other default-ignorable code points;
//   - white space (including tab, newline and the other white-space
//     controls) is trimmed at both ends and every run inside becomes one
//     space ("Alice  Smith" is "Alice Smith", but "alicesmith" is not);
//   - Unicode full case folding ("Reaper" is "reaper", "Straße" is
//     "STRASSE"), then NFKC again.
//
// Visually similar letters of different scripts (a Cyrillic "а" for a
// Latin "a") stay different: identities should come from an authenticated
// source, not from free text. Two identities that are empty once
// normalised are the same.
//
// A Manager does not rely on the normalisation alone: every identity it
// is given (the requester of a proposal, an approver, who cancels,
// claims, completes or releases) is refused with a *provider.InvalidError
// naming the field when it is not UTF-8, contains a control character
// (Unicode Cc, white space such as tab and newline included: most
// interfaces show none of them) or is empty once normalised.
func SameIdentity(a, b string) bool { return foldIdentity(a) == foldIdentity(b) }

// foldIdentity is the form SameIdentity compares: textnorm.Fold of s
// without its bytes that are not UTF-8 and its control characters other
// than white space, which textnorm keeps.
func foldIdentity(s string) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "")
	}
	if strings.IndexFunc(s, hiddenControl) >= 0 {
		s = strings.Map(func(r rune) rune {
			if hiddenControl(r) {
				return -1
			}
			return r
		}, s)
	}
	return textnorm.Fold(s)
}

// hiddenControl reports whether r is a control character (Cc) that is not
// white space: NUL, DEL, the C1 controls and the like, which most
// interfaces show as nothing.
func hiddenControl(r rune) bool { return unicode.IsControl(r) && !unicode.IsSpace(r) }

// CheckIdentity returns a *provider.InvalidError naming field when who
// cannot name the requester of a proposal or anyone else an approval is
// given to or by: not UTF-8, containing a control character (tab and
// newline included), or empty once normalised. A Manager refuses such an
// identity in every method; a host checks its own names with it when it
// starts (the reaper and the scaling engine check their Requester).
func CheckIdentity(field, who string) error { return checkIdentity(field, who, "acts") }

// checkIdentity returns a *provider.InvalidError naming field when who,
// an identity given to a Manager's method, is not one the package
// accepts: not UTF-8, containing a control character (Unicode Cc, tab and
// newline included), or empty once normalised (only white space or
// invisible characters, see SameIdentity), so that every transition is
// recorded as done by someone, named as people read it. role completes
// the reason for an empty identity, "must name who " + role.
func checkIdentity(field, who, role string) error {
	if !utf8.ValidString(who) {
		return provider.Invalid(field, who, "must be valid UTF-8")
	}
	if i := strings.IndexFunc(who, unicode.IsControl); i >= 0 {
		r, _ := utf8.DecodeRuneInString(who[i:])
		return provider.Invalid(field, who, fmt.Sprintf("must not contain a control character (%U at byte %d)", r, i))
	}
	if textnorm.Fold(who) == "" {
		return provider.Invalid(field, who, "must name who "+role)
	}
	return nil
}

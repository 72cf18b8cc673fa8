package approval

import (
	"github.com/idlescale/idlescale/internal/textnorm"
	"github.com/idlescale/idlescale/provider"
)

// SameIdentity reports whether a and b name the same person or service as
// far as the approval rules can tell, so that a requester cannot approve
// their own request by spelling their name differently. Both are
// normalised before they are compared:
//
//   - Unicode NFKC: compatibility forms become their plain letters
//     (fullwidth "ｒｅａｐｅｒ", the Kelvin sign "K"), and decomposed
//     accents are composed;
//   - invisible characters are removed: format characters (zero-width
//     spaces and joiners, soft hyphens, byte-order and bidirectional
//     marks), variation selectors and other default-ignorable code points;
//   - white space is trimmed at both ends and every run inside becomes one
//     space ("Alice  Smith" is "Alice Smith", but "alicesmith" is not);
//   - Unicode full case folding ("Reaper" is "reaper", "Straße" is
//     "STRASSE"), then NFKC again.
//
// Visually similar letters of different scripts (a Cyrillic "а" for a
// Latin "a") stay different: identities should come from an authenticated
// source, not from free text. Two identities that are empty once
// normalised are the same.
func SameIdentity(a, b string) bool { return textnorm.Fold(a) == textnorm.Fold(b) }

// checkIdentity returns a *provider.InvalidError naming field when who,
// an identity given to a Manager's method, is empty once normalised
// (only white space or invisible characters, see SameIdentity): a
// transition is always recorded as done by someone. role completes the
// reason, "must name who " + role.
func checkIdentity(field, who, role string) error {
	if textnorm.Fold(who) == "" {
		return provider.Invalid(field, who, "must name who "+role)
	}
	return nil
}

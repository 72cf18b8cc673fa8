// Package textnorm holds the one normalisation of the short texts the SDK
// compares: labels (environment, role, owner) and identities (who asked,
// who approves). Both are read from people and tags, so the same word
// arrives with stray white space, another case, invisible characters or in
// a compatibility form (fullwidth letters, a no-break space); compared
// byte for byte, "production " would not be "production" and "Reaper"
// would not be "reaper".
package textnorm

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// fold is Unicode full case folding; it is stateless and safe for
// concurrent use (see cases.Fold).
var fold = cases.Fold()

// Label returns s in the form a driver stores a label in: Unicode NFKC
// (fullwidth letters become ASCII, a no-break space a space), format
// characters (zero-width spaces and joiners, soft hyphens, byte-order and
// bidirectional marks) and variation selectors removed, runs of white
// space inside made one ASCII space, and white space at both ends
// trimmed. Case is kept.
func Label(s string) string {
	if isPlainASCII(s) {
		return collapseASCII(s)
	}
	return squeeze(norm.NFKC.String(s), ignorable, unicode.IsSpace, ' ')
}

// Fold returns the form two identities or labels are compared in: Label,
// then Unicode full case folding ("Straße" and "STRASSE" both give
// "strasse"), then NFKC again, since folding can undo it. Two strings are
// the same name when their Folds are equal.
func Fold(s string) string {
	if isPlainASCII(s) {
		return strings.ToLower(collapseASCII(s))
	}
	return norm.NFKC.String(fold.String(Label(s)))
}

// Key returns Fold(s) with every run of the separators ' ', '-', '_' and
// '.' written as one '_' and none at either end, so that "Load Balancer",
// "load-balancer" and "LOAD_BALANCER" all give "load_balancer". It is the
// form labels are matched in against a list of names.
func Key(s string) string {
	f := Fold(s)
	if strings.IndexFunc(f, isSeparator) < 0 {
		return f
	}
	return squeeze(f, func(rune) bool { return false }, isSeparator, '_')
}

// squeeze returns s without the runes drop reports and with every run of
// the runes sep reports written as one with, and none at either end.
func squeeze(s string, drop, sep func(rune) bool, with byte) string {
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	for _, r := range s {
		switch {
		case drop(r):
			continue
		case sep(r):
			pending = b.Len() > 0
			continue
		}
		if pending {
			b.WriteByte(with)
			pending = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isSeparator(r rune) bool { return r == ' ' || r == '-' || r == '_' || r == '.' }

// ignorable reports whether r is invisible and must not tell two names
// apart: a format character (Cf: zero-width space, joiners, soft hyphen,
// byte-order mark, bidirectional controls), a variation selector, or
// another default-ignorable code point.
func ignorable(r rune) bool {
	return unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Variation_Selector, r) ||
		unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r)
}

// isPlainASCII reports whether s is printable ASCII, space, tab, newline,
// carriage return, vertical tab and form feed only: text NFKC and
// folding leave unchanged, apart from case.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || (c < 0x20 && !isASCIISpace(c)) || c == 0x7f {
			return false
		}
	}
	return true
}

func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// collapseASCII trims s and makes every inner run of white space one
// space; s is plain ASCII.
func collapseASCII(s string) string {
	s = strings.TrimFunc(s, func(r rune) bool { return r < utf8.RuneSelf && isASCIISpace(byte(r)) })
	clean := true
	for i := 0; i < len(s); i++ {
		if isASCIISpace(s[i]) && (s[i] != ' ' || (i+1 < len(s) && isASCIISpace(s[i+1]))) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		if isASCIISpace(s[i]) {
			space = true
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

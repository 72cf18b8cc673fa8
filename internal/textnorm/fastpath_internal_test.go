package textnorm

import (
	"testing"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// The ASCII fast paths of Label and Fold give what the general paths
// give, on every string of up to four characters from the ASCII ones at
// the fast path's boundaries (controls, each white space, space, DEL,
// letters of both cases, separators) and a non-ASCII one.
func TestFastPathsMatchTheGeneralOnes(t *testing.T) {
	t.Parallel()
	alphabet := []string{"\x00", "\x01", "\t", "\n", "\v", "\f", "\r", "\x1f", " ", "!", "A", "Z", "a", "z", "~", "\x7f", "-", "_", ".", "é"}
	label := func(s string) string { return squeeze(norm.NFKC.String(s), ignorable, unicode.IsSpace, ' ') }
	foldGeneral := func(s string) string { return norm.NFKC.String(fold.String(label(s))) }
	var walk func(prefix string, depth int)
	n := 0
	walk = func(s string, depth int) {
		if got, want := Label(s), label(s); got != want {
			t.Errorf("Label(%q) = %q, the general path %q", s, got, want)
		}
		if got, want := Fold(s), foldGeneral(s); got != want {
			t.Errorf("Fold(%q) = %q, the general path %q", s, got, want)
		}
		n++
		if depth == 4 {
			return
		}
		for _, c := range alphabet {
			walk(s+c, depth+1)
		}
	}
	walk("", 0)
	if n != 1+20+20*20+20*20*20+20*20*20*20 {
		t.Fatalf("walked %d strings", n)
	}
}

package redact_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// TestURLsScaleLinearly: a long word of many URLs with no space between
// them (a comma-separated list of endpoints in a configuration dump or an
// error) is redacted in one pass: each URL's end and its last "@" were
// searched to the end of the word, so the time grew with the square of
// the word's length (120 kB took most of a second, 1 MB more than a
// minute). Its masks are checked here; its speed is BenchmarkLongLines'
// (the quadratic pass made this test take more than a minute).
func TestURLsScaleLinearly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give      string
		wantMasks int // in 80,000 repetitions
	}{
		{"http://u:p@h/x,", 80000},
		{"http://h:1/x,", 0},
	}
	for _, tt := range tests {
		s := strings.Repeat(tt.give, 80000)
		got := redact.String(s)
		assert.Equal(t, tt.wantMasks, strings.Count(got, redact.Mask), "%q", tt.give)
	}
}

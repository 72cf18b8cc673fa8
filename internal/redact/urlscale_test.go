package redact_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// TestURLsScaleLinearly: a long word of many URLs with no space between
// them (a comma-separated list of endpoints in a configuration dump or an
// error) is redacted in one pass: each URL's end and its last "@" were
// searched to the end of the word, so the time grew with the square of
// the word's length (120 kB took most of a second, 1 MB more than a
// minute).
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
		start := time.Now()
		got := redact.String(s)
		// Generous for a loaded machine: one pass takes milliseconds.
		assert.Less(t, time.Since(start), 10*time.Second, "%q × 80000", tt.give)
		assert.Equal(t, tt.wantMasks, strings.Count(got, redact.Mask), "%q", tt.give)
	}
}

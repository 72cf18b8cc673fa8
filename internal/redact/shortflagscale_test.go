package redact_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/idlescale/idlescale/internal/redact"
)

// TestShortFlagsScaleLinearly: a long line of many -p flags (a process
// listing, a build log in an error) is redacted in one pass: finding each
// flag's command read the command line back from the flag, so the time
// grew with the square of the line's length (20 kB of " -p x" took
// seconds, 100 kB four minutes). Its masks are checked here; its speed
// is BenchmarkLongLines' (the quadratic pass made this test take minutes).
func TestShortFlagsScaleLinearly(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give      string
		wantMasks int // in 20,000 repetitions
	}{
		{" -p x", 20000},
		{` "-p" "x"`, 20000},
		{" mysql -px", 20000},
		{" -p -q", 0},
	}
	for _, tt := range tests {
		s := strings.Repeat(tt.give, 20000)
		got := redact.String(s)
		assert.Equal(t, tt.wantMasks, strings.Count(got, redact.Mask), "%q", tt.give)
	}
}

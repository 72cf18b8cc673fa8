package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRun(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, ""))
	got := out.String()
	t.Log("\n" + got)
	for _, want := range []string{
		"replica A: config check: 1 other replica, the same ratelimit.Config\n",
		"replica B: config check: 1 other replica, the same ratelimit.Config\n",
		`replica A elected leader of "fleet"` + "\n",
		"10:00  replica A: web/up +5: clamped to 3 (target max_units_per_event); next at 2026-03-02T10:05:00Z\n",
		"10:02  replica A: web/up +2: denied (target min_interval); next at 2026-03-02T10:05:00Z\n",
		"10:06  replica A: web/up +3: allowed; next at 2026-03-02T10:11:00Z\n",
		"replica A shuts down\n",
		`replica B elected leader of "fleet" (took over in `,
		"10:12  replica B: web/up +2: allowed; next at 2026-03-02T11:00:00Z\n",
		"10:20  replica B: web/up +1: denied (target events_per_window); next at 2026-03-02T11:00:00Z\n",
		"actions taken: 3 (the shared budget allows 3 per hour)\n",
	} {
		assert.Contains(t, got, want)
	}
}

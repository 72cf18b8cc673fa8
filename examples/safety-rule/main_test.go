package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestRunMorning(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, time.Date(2026, 3, 30, 7, 30, 0, 0, time.UTC)))
	s := out.String()
	assert.Contains(t, s, "allowed 1, need approval 1, blocked 4")
	// The rules that blocked, as a reader reads them (not a Go map).
	assert.Contains(t, s, "\nallowed 1, need approval 1, blocked 4 (by backup 1, business_hours 1, change_ticket 1, dependencies 1, gradual 1, limits 1)\n")
	assert.NotContains(t, s, "map[")
	assert.Contains(t, s, "change_ticket: production change without a change ticket")
	assert.Contains(t, s, "self-approval by reaper: refused")
	assert.Contains(t, s, "approved by alice@example.com; stop of i-batch executed")
	assert.Contains(t, s, "approval.executed")
	assert.Equal(t, 2, strings.Count(s, "  decision "), "Check is audited, Preview is not")
}

func TestRunEvening(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	// 16:00 in New York: business hours there, evening in Berlin.
	require.NoError(t, run(t.Context(), &out, time.Date(2026, 3, 30, 20, 0, 0, 0, time.UTC)))
	s := out.String()
	assert.Contains(t, s, "allowed 0, need approval 0, blocked 6")
	assert.Contains(t, s, "schedule for Mon 2026-03-30 18:00 America/New_York")
	assert.NotContains(t, s, "approval apr-1 requested")
}

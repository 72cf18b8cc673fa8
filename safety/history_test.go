package safety_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/safety"
)

// TestMemoryHistoryFutureRecordDoesNotEraseTheCount: a MemoryHistory has
// no clock and keeps Keep after its newest record, so one record stamped
// a year ahead (a host's clock jump, a simulation sharing the history, a
// scheduled time recorded as done) dropped the fleet's real records, and
// every real record after it on arrival: the limits rule counted 1 of a
// fleet of 10 where 5 had been stopped ten minutes before, and let the
// rest of the fleet go. The history now refuses to answer for a since
// that reaches a record it dropped, so the rule fails and the engine
// blocks (fail closed) instead of undercounting.
func TestMemoryHistoryFutureRecordDoesNotEraseTheCount(t *testing.T) {
	t.Parallel()
	h := &safety.MemoryHistory{}
	require.NoError(t, h.Record("web", t0.Add(-10*time.Minute), 5))
	require.NoError(t, h.Record("web", t0.Add(365*24*time.Hour), 1))
	require.NoError(t, h.Record("web", t0.Add(-time.Minute), 1))
	require.NoError(t, h.Record("db", t0.Add(-time.Minute), 1))

	_, err := h.ActedOn(t.Context(), "web", t0.Add(-time.Hour))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie, "records the count needs were dropped")
	assert.Equal(t, "since", ie.Field)
	n, err := h.ActedOn(t.Context(), "web", t0.Add(365*24*time.Hour))
	require.NoError(t, err, "a since after every dropped record is answered")
	assert.Equal(t, 1, n)
	n, err = h.ActedOn(t.Context(), "db", t0.Add(-time.Hour))
	require.NoError(t, err, "another fleet is not affected")
	assert.Equal(t, 1, n)

	r, err := safety.NewLimitsRule(safety.LimitsConfig{}, h)
	require.NoError(t, err)
	eng, err := safety.New(safety.Config{}, []safety.Rule{r})
	require.NoError(t, err)
	p := stop("i-7")
	p.Fleet, p.FleetSize = "web", 10
	d, err := eng.Check(t.Context(), p)
	require.ErrorIs(t, err, safety.ErrBlocked)
	require.ErrorIs(t, err, safety.ErrRuleFailed)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.Equal(t, []string{"limits"}, d.BlockingRules())
}

// TestMemoryHistoryRefusesASinceAtADroppedRecord: ActedOn counts the
// records at or after since, so a since exactly at the time of a record
// the history dropped would count without it: it is refused too, and the
// first instant after it is answered. Mutation testing found the
// boundary untested (!forgot.Before(since) made forgot.After(since):
// every test passed): the limits rule, whose window then starts exactly
// at the dropped record, counted 1 of a fleet where 6 were acted on.
func TestMemoryHistoryRefusesASinceAtADroppedRecord(t *testing.T) {
	t.Parallel()
	h := &safety.MemoryHistory{Keep: time.Hour}
	require.NoError(t, h.Record("web", t0, 5))
	require.NoError(t, h.Record("web", t0.Add(time.Hour+time.Nanosecond), 1)) // drops the record at t0

	_, err := h.ActedOn(t.Context(), "web", t0)
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie, "the record at since was dropped: the count would be 1, not 6")
	assert.Equal(t, "since", ie.Field)
	n, err := h.ActedOn(t.Context(), "web", t0.Add(time.Nanosecond))
	require.NoError(t, err, "a since after the dropped record is answered")
	assert.Equal(t, 1, n)
}

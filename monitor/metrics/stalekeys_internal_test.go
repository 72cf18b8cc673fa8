package metrics

import (
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
)

type farClock struct{ now time.Time }

func (c farClock) Now() time.Time                       { return c.now }
func (c farClock) After(time.Duration) <-chan time.Time { return nil }

// The de-duplication keys and the verdict of a resource that vanished
// without a terminate (no decision nor verdict of it within VerdictTTL of
// the newest event) are dropped at a scrape: they were kept for good, so
// a host whose fleet churns outside the reaper grew without bound. A
// resource decided on and judged within VerdictTTL keeps them, and a
// decision recorded twice within it is still counted once.
func TestVanishedResourceLeavesTheDecisionKeys(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	c, err := New(Config{}, WithClock(farClock{now: at.Add(100 * time.Hour)}))
	require.NoError(t, err)
	decide := func(id string, src string, h time.Duration) []monitor.Event {
		return []monitor.Event{
			{Time: at.Add(h), Kind: monitor.KindVerdict, Source: src, ResourceID: id, Outcome: string(detector.Idle)},
			{Time: at.Add(h), Kind: monitor.KindDecision, Source: src, ResourceID: id,
				Action: safety.ActionStop, Outcome: string(safety.Pass)},
		}
	}
	require.NoError(t, c.Write(t.Context(), decide("i-gone", monitor.SourceReaper, 0)))
	require.NoError(t, c.Write(t.Context(), decide("i-kept", monitor.SourceReaper, 0)))
	require.NoError(t, c.Write(t.Context(), decide("i-kept", monitor.SourceReaper, 4*time.Hour)))
	testutil.CollectAndCount(c) // a scrape
	require.NoError(t, c.Write(t.Context(), decide("i-kept", monitor.SourceSafety, 4*time.Hour)[1:]))

	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Equal(t, []string{"i-kept"}, keys(c.lastSeen))
	assert.Equal(t, []string{"i-kept"}, keys(c.verdicts))
	assert.Equal(t, []string{"i-kept"}, keys(c.verdictAt))
	assert.InDelta(t, 3, testutil.ToFloat64(c.decisions.WithLabelValues(string(safety.Pass))), 0, "each decision counted once")
}

func keys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }

// A Collector no one scrapes (a host that registered it on a registry it
// has not exposed yet, or whose scraper is down for days) still forgets
// the verdicts and decision keys of resources that vanished: they were
// dropped only at a scrape, so its memory grew with every resource ever
// judged. Written one new resource an hour for 100 hours, it keeps those
// of the last few VerdictTTLs, not 100.
func TestUnscrapedCollectorForgetsVanishedResources(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	c, err := New(Config{}, WithClock(farClock{now: at.Add(1000 * time.Hour)}))
	require.NoError(t, err)
	for h := range 100 {
		id := "i-" + strconv.Itoa(h)
		require.NoError(t, c.Write(t.Context(), []monitor.Event{
			{Time: at.Add(time.Duration(h) * time.Hour), Kind: monitor.KindVerdict, Source: monitor.SourceReaper,
				ResourceID: id, Outcome: string(detector.Idle)},
			{Time: at.Add(time.Duration(h) * time.Hour), Kind: monitor.KindDecision, Source: monitor.SourceReaper,
				ResourceID: id, Action: safety.ActionStop, Outcome: string(safety.Pass)},
		}))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	limit := 2*int(DefaultVerdictTTL/time.Hour) + 1
	assert.LessOrEqual(t, len(c.lastSeen), limit, "decision keys")
	assert.LessOrEqual(t, len(c.verdicts), limit, "verdicts")
	assert.LessOrEqual(t, len(c.verdictAt), limit, "verdict times")
	assert.Contains(t, c.verdicts, "i-99", "the newest resource is kept")
}

// An unscraped Collector drops vanished resources once every VerdictTTL
// of event time, as Config.VerdictTTL says: a Write exactly VerdictTTL
// after the last drop drops again, so a verdict older than VerdictTTL
// behind the newest one is gone then, not one VerdictTTL later.
func TestUnscrapedCollectorDropsEveryVerdictTTL(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	c, err := New(Config{}, WithClock(farClock{now: at.Add(1000 * time.Hour)}))
	require.NoError(t, err)
	verdict := func(id string, h time.Duration) monitor.Event {
		return monitor.Event{Time: at.Add(h), Kind: monitor.KindVerdict, Source: monitor.SourceReaper,
			ResourceID: id, Outcome: string(detector.Idle)}
	}
	// The first Write drops (nothing yet), at its newest event, an hour in.
	require.NoError(t, c.Write(t.Context(), []monitor.Event{verdict("i-old", 0), verdict("i-mid", time.Hour)}))
	// Exactly VerdictTTL later: the next drop is due.
	require.NoError(t, c.Write(t.Context(), []monitor.Event{verdict("i-new", time.Hour+DefaultVerdictTTL)}))

	c.mu.Lock()
	defer c.mu.Unlock()
	assert.Equal(t, []string{"i-mid", "i-new"}, keys(c.verdicts), "i-old is more than VerdictTTL behind i-new")
}

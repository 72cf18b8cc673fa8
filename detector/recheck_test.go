package detector_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// TestRecheckWindow: the read again covers the verdict's now to the time
// of acting and at least Quiet before the time of acting, whatever the
// time passed: none (a clock that does not move), less than a source's
// least window, more than Quiet, or a time of acting before the verdict's
// now (a clock behind it).
func TestRecheckWindow(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	c := detector.Recheck{Quiet: 30 * time.Minute}
	tests := []struct {
		name     string
		at       time.Time
		from, to time.Time
	}{
		{"no time passed", now, now.Add(-30 * time.Minute), now},
		{"a millisecond", now.Add(time.Millisecond), now.Add(time.Millisecond - 30*time.Minute), now.Add(time.Millisecond)},
		{"longer than quiet", now.Add(2 * time.Hour), now, now.Add(2 * time.Hour)},
		{"exactly quiet", now.Add(30 * time.Minute), now, now.Add(30 * time.Minute)},
		{"a clock behind", now.Add(-time.Hour), now.Add(-30 * time.Minute), now},
	}
	for _, tt := range tests {
		from, to := c.Window(now, tt.at)
		assert.Equal(t, tt.from, from, tt.name)
		assert.Equal(t, tt.to, to, tt.name)
	}
	from, to := detector.Recheck{}.Window(now, now)
	assert.Equal(t, now.Add(-detector.DefaultRecheckQuiet), from, "Quiet 0 is the default")
	assert.Equal(t, now, to)
}

// TestRecheckUsed: what counts as use, and what fails closed.
func TestRecheckUsed(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	answer := func(counts []provider.ActivityCount, err error) provider.ActivitySource {
		return provider.ActivitySourceFunc(func(context.Context, provider.ActivityQuery) ([]provider.ActivityCount, error) {
			return counts, err
		})
	}
	logins := provider.ActivityCount{Kind: provider.ActivityLogins, Count: 2}
	api := provider.ActivityCount{Kind: provider.ActivityAPICalls, Count: 3}
	lastOnly := provider.ActivityCount{Kind: provider.ActivityFiles, Last: now.Add(-time.Minute)}
	lastBefore := provider.ActivityCount{Kind: provider.ActivityProcesses, Last: now.Add(-time.Hour)}
	quiet := provider.ActivityCount{Kind: provider.ActivityDBQueries}

	used, err := detector.Recheck{Source: answer([]provider.ActivityCount{logins, api, lastOnly, lastBefore, quiet}, nil)}.Used(t.Context(), "i-1", now, now)
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{logins, api, lastOnly}, used, "a count, or a last event inside the window")

	used, err = detector.Recheck{Source: answer([]provider.ActivityCount{logins, api}, nil), Kinds: []provider.ActivityKind{provider.ActivityAPICalls}}.Used(t.Context(), "i-1", now, now)
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{api}, used, "only the kinds counted")

	for name, c := range map[string]detector.Recheck{
		"no source":   {},
		"unsupported": {Source: answer(nil, provider.ErrUnsupported)},
		"no data":     {Source: answer(nil, nil)},
	} {
		used, err := c.Used(t.Context(), "i-1", now, now)
		require.NoError(t, err, name)
		assert.Empty(t, used, name)
	}

	_, err = detector.Recheck{Source: answer(nil, provider.ErrThrottled)}.Used(t.Context(), "i-1", now, now.Add(time.Minute))
	require.ErrorIs(t, err, provider.ErrThrottled)
	require.ErrorContains(t, err, "activity of i-1 over [2026-03-07T02:31:00Z, 2026-03-07T03:01:00Z)")

	for name, tt := range map[string]struct {
		c      detector.Recheck
		judged time.Time
		at     time.Time
		want   string
	}{
		"negative count": {detector.Recheck{Source: answer([]provider.ActivityCount{{Kind: provider.ActivityLogins, Count: -1}}, nil)}, now, now, "activity.logins.count"},
		"unknown kind":   {detector.Recheck{Source: answer([]provider.ActivityCount{{Kind: "ssh"}}, nil)}, now, now, "activity.kind"},
		"kind twice":     {detector.Recheck{Source: answer([]provider.ActivityCount{quiet, quiet}, nil)}, now, now, "is given twice"},
		"no judged":      {detector.Recheck{}, time.Time{}, now, "recheck.judged"},
		"no at":          {detector.Recheck{}, now, time.Time{}, "recheck.at"},
		"negative quiet": {detector.Recheck{Quiet: -time.Second}, now, now, "recheck.quiet"},
	} {
		_, err := tt.c.Used(t.Context(), "i-1", tt.judged, tt.at)
		require.ErrorIs(t, err, provider.ErrInvalid, name)
		assert.ErrorContains(t, err, tt.want, name)
	}
}

// TestRecheckPartialCover: a counted kind whose count begins after the
// window's start (its Since) leaves the part before unseen: with no use
// found elsewhere, Used fails with ErrPartialActivity naming it; a kind
// not counted, or a Since at the window's start, does not.
func TestRecheckPartialCover(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	c := detector.Recheck{Quiet: 30 * time.Minute, Kinds: []provider.ActivityKind{provider.ActivityLogins, provider.ActivityAPICalls}}
	from, to := c.Window(now, now)
	answer := func(counts ...provider.ActivityCount) detector.Recheck {
		c := c
		c.Source = provider.ActivitySourceFunc(func(context.Context, provider.ActivityQuery) ([]provider.ActivityCount, error) {
			return counts, nil
		})
		return c
	}
	late := provider.ActivityCount{Kind: provider.ActivityLogins, Since: from.Add(time.Nanosecond)}
	_, err := answer(late, provider.ActivityCount{Kind: provider.ActivityAPICalls}).Used(t.Context(), "i-1", now, now)
	require.ErrorIs(t, err, detector.ErrPartialActivity)
	require.ErrorContains(t, err, "logins since 2026-03-07T02:30:00.000000001Z")

	for name, counts := range map[string][]provider.ActivityCount{
		"since the window's start": {{Kind: provider.ActivityLogins, Since: from}},
		"a kind not counted":       {{Kind: provider.ActivityFiles, Since: to}, {Kind: provider.ActivityLogins}},
	} {
		used, err := answer(counts...).Used(t.Context(), "i-1", now, now)
		require.NoError(t, err, name)
		assert.Empty(t, used, name)
	}
	// Use found by another kind is reported as use: the caller does not
	// act either way.
	api := provider.ActivityCount{Kind: provider.ActivityAPICalls, Count: 1}
	used, err := answer(late, api).Used(t.Context(), "i-1", now, now)
	require.NoError(t, err)
	assert.Equal(t, []provider.ActivityCount{api}, used)
	// A Since after the window's end is not a valid answer.
	_, err = answer(provider.ActivityCount{Kind: provider.ActivityLogins, Since: to.Add(time.Nanosecond)}).Used(t.Context(), "i-1", now, now)
	require.ErrorIs(t, err, provider.ErrInvalid)
	assert.ErrorContains(t, err, "activity.since")
}

// TestEnsembleRecheck: the ensemble's Recheck counts its kinds over its
// quiet period.
func TestEnsembleRecheck(t *testing.T) {
	t.Parallel()
	ens, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: detector.ActivityConfig{
		Kinds: []provider.ActivityKind{provider.ActivityLogins}, Quiet: time.Hour}})
	require.NoError(t, err)
	c := ens.Recheck(nil)
	assert.Equal(t, []provider.ActivityKind{provider.ActivityLogins}, c.Kinds)
	assert.Equal(t, time.Hour, c.Quiet)
	def, err := detector.NewEnsemble(detector.EnsembleConfig{})
	require.NoError(t, err)
	assert.Equal(t, provider.ActivityKinds(), def.Recheck(nil).Kinds, "the defaults: every kind")
	assert.Equal(t, 30*time.Minute, def.Recheck(nil).Quiet)
}

// TestTerminable: the kinds the ensemble terminates are those it cannot
// stop nor scale in.
func TestTerminable(t *testing.T) {
	t.Parallel()
	for _, k := range []provider.Kind{provider.KindFunction, provider.KindVolume, provider.KindLoadBalancer} {
		assert.True(t, detector.Terminable(k), k)
	}
	for _, k := range []provider.Kind{provider.KindInstance, provider.KindDatabase, provider.KindGroup, ""} {
		assert.False(t, detector.Terminable(k), k)
	}
}

// TestRecheckLastAtTheWindowsStart: a last event is use from the window's
// first instant on ([from, to) holds from), and not an instant before it,
// for a source that gives the last event's time without a count.
func TestRecheckLastAtTheWindowsStart(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	c := detector.Recheck{Quiet: 30 * time.Minute}
	from, _ := c.Window(now, now)
	for _, tt := range []struct {
		last time.Time
		used bool
	}{{from, true}, {from.Add(-time.Nanosecond), false}} {
		c.Source = provider.ActivitySourceFunc(func(context.Context, provider.ActivityQuery) ([]provider.ActivityCount, error) {
			return []provider.ActivityCount{{Kind: provider.ActivityFiles, Last: tt.last}}, nil
		})
		used, err := c.Used(t.Context(), "i-1", now, now)
		require.NoError(t, err)
		assert.Equal(t, tt.used, len(used) == 1, "last at %s, window from %s", tt.last, from)
	}
}

// TestRecheckKnownActivityNoLongerRead: a verdict that read activity
// (ReadActivity: its activity signal voted on counts, or it recommends a
// terminate, which needs them) is acted on only when the read again can
// show use: a source that now answers ErrUnsupported (a volume a claim
// holds again, a source reconfigured) fails the read, where for a verdict
// without activity data it is no use, as before.
func TestRecheckKnownActivityNoLongerRead(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	gone := provider.ActivitySourceFunc(func(context.Context, provider.ActivityQuery) ([]provider.ActivityCount, error) {
		return nil, provider.ErrUnsupported
	})
	used, err := detector.Recheck{Source: gone}.Used(t.Context(), "i-1", now, now)
	require.NoError(t, err, "no activity data then, none now")
	assert.Empty(t, used)
	_, err = detector.Recheck{Source: gone, Known: true}.Used(t.Context(), "i-1", now, now)
	require.ErrorIs(t, err, provider.ErrUnsupported)
	require.ErrorContains(t, err, "the verdict read it and the source no longer does")
	used, err = detector.Recheck{Known: true}.Used(t.Context(), "i-1", now, now)
	require.NoError(t, err, "no source at all: the verdict had none either")
	assert.Empty(t, used)

	for _, tt := range []struct {
		name string
		v    detector.Verdict
		want bool
	}{
		{"no signals", detector.Verdict{Action: detector.ActionStop}, false},
		{"activity unknown", detector.Verdict{Action: detector.ActionStop, Signals: []detector.Contribution{{Signal: detector.SignalActivity, State: detector.Unknown}}}, false},
		{"activity idle", detector.Verdict{Action: detector.ActionStop, Signals: []detector.Contribution{{Signal: detector.SignalUtilization, State: detector.Idle}, {Signal: detector.SignalActivity, State: detector.Idle}}}, true},
		{"activity busy", detector.Verdict{Signals: []detector.Contribution{{Signal: detector.SignalActivity, State: detector.NotIdle}}}, true},
		{"another signal idle", detector.Verdict{Action: detector.ActionStop, Signals: []detector.Contribution{{Signal: detector.SignalUtilization, State: detector.Idle}}}, false},
		{"terminate", detector.Verdict{Action: detector.ActionTerminate}, true},
	} {
		assert.Equal(t, tt.want, detector.ReadActivity(tt.v), tt.name)
	}
}

// TestRecheckKnownActivityNoCountedKind: a verdict that read activity is
// not acted on when the read again counts none of the kinds it counts: a
// kind absent from an answer is unknown (a function that may now run at
// Lambda@Edge, a volume attached again without a datapoint yet), so the
// source no longer reads what the verdict read, as when it answers
// ErrUnsupported. Without Known, or without the kinds the verdict counted
// (Kinds nil: a host's detector, whose terminate may have read none), an
// answer without counts stays no use.
func TestRecheckKnownActivityNoCountedKind(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	answer := func(counts ...provider.ActivityCount) provider.ActivitySource {
		return provider.ActivitySourceFunc(func(context.Context, provider.ActivityQuery) ([]provider.ActivityCount, error) {
			return counts, nil
		})
	}
	other := provider.ActivityCount{Kind: provider.ActivityLogins}
	counted := []provider.ActivityKind{provider.ActivityLogins, provider.ActivityAPICalls} // as Ensemble.Recheck gives them
	tests := []struct {
		name  string
		give  detector.Recheck
		fails bool
	}{
		{"known, no count", detector.Recheck{Source: answer(), Known: true, Kinds: counted}, true},
		{"known, only a kind not counted", detector.Recheck{Source: answer(other), Known: true, Kinds: []provider.ActivityKind{provider.ActivityAPICalls}}, true},
		{"known, a counted kind quiet", detector.Recheck{Source: answer(other), Known: true, Kinds: counted}, false},
		{"known, kinds not known, no count", detector.Recheck{Source: answer(), Known: true}, false},
		{"not known, no count", detector.Recheck{Source: answer(), Kinds: counted}, false},
		{"not known, only a kind not counted", detector.Recheck{Source: answer(other), Kinds: []provider.ActivityKind{provider.ActivityAPICalls}}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			used, err := tt.give.Used(t.Context(), "i-1", now, now)
			if !tt.fails {
				require.NoError(t, err)
				assert.Empty(t, used)
				return
			}
			require.ErrorIs(t, err, provider.ErrUnsupported)
			require.ErrorContains(t, err, "counts none of its kinds")
			assert.Empty(t, used)
		})
	}
}

// TestRecheckRefusesNilPointerSource: a nil pointer or a nil Func adapter
// as Source (a host's *memory.Cloud or driver not built, in the
// interface) is a non-nil interface whose call panics; Used refuses it
// with an error naming recheck.source, as Detect, Sweep and Scan refuse
// such a source, and the caller does not act (fail closed), where a
// plain nil Source is none and finds no use.
func TestRecheckRefusesNilPointerSource(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	var cloud *memory.Cloud
	tests := []struct {
		name string
		give provider.ActivitySource
	}{
		{"nil pointer", cloud},
		{"nil ActivitySourceFunc", provider.ActivitySourceFunc(nil)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			for _, known := range []bool{false, true} {
				var (
					used []provider.ActivityCount
					err  error
				)
				require.NotPanics(t, func() {
					used, err = detector.Recheck{Source: tt.give, Known: known}.Used(t.Context(), "i-1", now, now)
				})
				var ie *provider.InvalidError
				require.ErrorAs(t, err, &ie, "known %v", known)
				assert.Equal(t, "recheck.source", ie.Field)
				assert.Empty(t, used)
			}
		})
	}
}

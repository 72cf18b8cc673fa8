package reaper_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
	"github.com/idlescale/idlescale/reaper"
)

// wrapped is a host's detector that embeds the ensemble and overrides
// Detect, as examples/kubernetes's stopIdleWorkloads does: it judges as
// the ensemble and keeps its other methods.
type wrapped struct{ *detector.Ensemble }

// Detect implements detector.Detector: the ensemble's verdict.
func (w wrapped) Detect(ctx context.Context, in detector.Input) (detector.Verdict, error) {
	return w.Ensemble.Detect(ctx, in)
}

// detectors are the bare ensemble and the ensemble wrapped, which the
// reaper must treat alike.
func detectors(ens *detector.Ensemble) map[string]detector.Detector {
	return map[string]detector.Detector{"ensemble": ens, "wrapped": wrapped{ens}}
}

// TestWrappedEnsembleTerminatesAnUnusedFunction: TestUnusedFunctionTerminated
// with the ensemble wrapped in a type that embeds it: the function nobody
// invoked in 28 days is terminated end to end as with the bare ensemble.
// (The reaper asserted *detector.Ensemble to read the terminate window:
// the wrapper's scan read the 30-minute quiet period, and the ensemble
// recommended no terminate, "no activity data covering 28d", so a
// wrapped ensemble never terminated anything.)
func TestWrappedEnsembleTerminatesAnUnusedFunction(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ensemble", "wrapped"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			e.addFunction(t, "fn-unused")
			r, err := reaper.New(reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionStop, detector.ActionTerminate}},
				e.fleet(), detectors(e.ensemble)[name], e.engine,
				reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
			require.NoError(t, err)
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			e.approvedTerminates(t, r, rep, "fn-unused")
		})
	}
}

// TestWrappedEnsembleReadsAgainAsTheEnsemble: the activity read again
// before acting counts what the ensemble counts, over its quiet period,
// whether the reaper has the ensemble or a type that embeds it. Each
// ensemble here counts otherwise than the reaper's fallback (every kind
// over 30 minutes), which the wrapper got when the reaper asserted
// *detector.Ensemble:
//
//   - counting logins only, an API call during the run is no use, and
//     the instance is stopped (the fallback counted it: a stricter read,
//     which kept the instance running);
//   - with a 2-hour quiet period, a login 90 minutes before the run's now
//     that the source publishes only after the scan read it is use, and
//     the instance is kept (the fallback read the last 30 minutes and
//     missed it: a looser read than the detector's, which stopped an
//     instance whose use the detector would have seen).
func TestWrappedEnsembleReadsAgainAsTheEnsemble(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		cfg     detector.ActivityConfig
		kind    provider.ActivityKind
		at      time.Duration // before t0, published after the scan
		outcome reaper.Outcome
	}{
		{"uncounted kind", detector.ActivityConfig{Kinds: []provider.ActivityKind{provider.ActivityLogins}}, provider.ActivityAPICalls, 5 * time.Minute, reaper.OutcomeActed},
		{"long quiet", detector.ActivityConfig{Quiet: 2 * time.Hour}, provider.ActivityLogins, 90 * time.Minute, reaper.OutcomeSkipped},
	} {
		ens, err := detector.NewEnsemble(detector.EnsembleConfig{Activity: tt.cfg})
		require.NoError(t, err)
		for name, det := range detectors(ens) {
			t.Run(tt.name+"/"+name, func(t *testing.T) {
				t.Parallel()
				e := newEnv(t, memory.Config{})
				e.add(t, vm{id: "i-1", cpu: 0.02})
				require.NoError(t, e.cloud.TrackActivity("i-1", provider.ActivityLogins, provider.ActivityAPICalls))
				fleet := e.fleet()
				fleet.Activity = &hookedActivity{Cloud: e.cloud, after: func() {
					assert.NoError(t, e.cloud.RecordActivity("i-1", tt.kind, t0.Add(-tt.at), 1))
				}}
				r, err := reaper.New(reaper.Config{Execute: true}, fleet, det, e.engine,
					reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
				require.NoError(t, err)
				rep, err := e.run(t.Context(), t, r, t0)
				require.NoError(t, err)
				rec := record(t, rep, "i-1")
				require.NotNil(t, rec.Verdict)
				require.Equal(t, detector.ActionStop, rec.Verdict.Action, "quiet when the scan read it: %v", rec.Verdict.Explain())
				assert.Equal(t, tt.outcome, rec.Outcome, rec.Reason)
				if tt.outcome == reaper.OutcomeActed {
					assert.Len(t, e.actions(), 1, "stopped")
				} else {
					assert.Contains(t, rec.Reason, "(logins 1)")
					assert.Empty(t, e.actions(), "not stopped")
				}
			})
		}
	}
}

// TestTerminablesReadOverTheDetectorsTerminateWindow: the resources a
// terminate may be recommended for are scanned with their activity read
// over the detector's own TerminateWindow, not over the default 28 days:
// with a 20-day window, a function never invoked and last called (an API
// call) 25 days ago is terminated, bare or wrapped, as the ensemble
// judges it on the window it was given; read over 28 days, the call 25
// days ago was use, and nothing was terminated.
func TestTerminablesReadOverTheDetectorsTerminateWindow(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"ensemble", "wrapped"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, memory.Config{})
			var err error
			e.ensemble, err = detector.NewEnsemble(detector.EnsembleConfig{Evidence: detector.EvidenceConfig{TerminateWindow: 20 * 24 * time.Hour}})
			require.NoError(t, err)
			e.addFunction(t, "fn-old")
			require.NoError(t, e.cloud.RecordActivity("fn-old", provider.ActivityAPICalls, t0.Add(-25*24*time.Hour), 1))
			r, err := reaper.New(reaper.Config{Execute: true, Actions: []detector.Action{detector.ActionStop, detector.ActionTerminate}},
				e.fleet(), detectors(e.ensemble)[name], e.engine,
				reaper.WithClock(e.waitClock()), reaper.WithApprovals(e.approvals), reaper.WithHistory(e.history))
			require.NoError(t, err)
			rep, err := e.run(t.Context(), t, r, t0)
			require.NoError(t, err)
			e.approvedTerminates(t, r, rep, "fn-old")
		})
	}
}

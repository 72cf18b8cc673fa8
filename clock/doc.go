// Package clock holds the library's small Clock interface and the real
// clock.
//
// Decisions in idlescale never read the time themselves: they take now in
// their input. Only the components that wait (a limiter's Wait, a runner's
// Run, the verification after an action) take a Clock, through a WithClock
// option, so that tests drive them with a fake one. A nil Clock means Real.
//
// The *clock.Mock type from github.com/benbjohnson/clock satisfies Clock, so
// a host can unit-test its scaling logic on simulated time:
//
//	mock := bclock.NewMock()             // github.com/benbjohnson/clock
//	var c clock.Clock = mock             // the library's interface
//	r, _ := reaper.New(cfg, fleet, det, gate, reaper.WithClock(c))
//	go r.Run(ctx)
//	// once Run waits on c.After, one hour passes at once:
//	mock.Add(time.Hour)
//
// Advancing a mock before the component has called After moves time under
// it without waking it; a test that must not race wraps the mock in its own
// Clock that reports each After call on a channel, and advances only after
// receiving it (the reaper's TestRunOnMockClock does this). Anything else
// with the same two methods works too.
package clock

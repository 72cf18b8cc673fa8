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
//
// The bounds on I/O are real time, whatever the clock, since the calls
// they bound are real: a safety engine's rule phase (safety.Config.Timeout),
// an alert notifier's delivery in alert.Alerter.Run (the interval) and a
// webhook's attempt (its Timeout), the scaling engine's provider writes
// (scaling.EngineConfig.WriteTimeout, 30 m by default), the reaper's
// bookkeeping after a provider call, the scaling engine's journal writes
// and the approval manager's audit of a stored transition (30 s each), a
// metrics collector's read of the rate-limit budgets at a scrape
// (metrics.Config.ScrapeTimeout), a shard sweep's Act (shardsweep.Config.ActTimeout) and the etcd requests
// of package coord and the etcd stores (their RequestTimeout). On a fake
// clock, a collaborator that hangs holds its caller for that much real
// time, however far the fake clock moves. ratelimit.Limiter.Wait compares
// the real time a context has left with the wait on its clock.
package clock

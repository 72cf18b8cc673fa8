// Package clock holds the library's small Clock interface and its real
// implementation.
//
// Decisions in idlescale never read the time themselves: they take now in
// their input. Only the runners that wait (a limiter's Wait, a pipeline's
// Run) take a Clock, so that tests can drive them with a fake. The
// *clock.Mock type from github.com/benbjohnson/clock satisfies Clock, and so
// does anything with the same two methods.
package clock

import "time"

// Clock tells the time and waits. Implementations must be safe for
// concurrent use.
type Clock interface {
	// Now returns the current time.
	Now() time.Time
	// After waits for d to elapse and then sends the current time on the
	// returned channel, like time.After.
	After(d time.Duration) <-chan time.Time
}

// Real is the wall clock. Its zero value is ready to use.
type Real struct{}

var _ Clock = Real{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// After returns time.After(d).
func (Real) After(d time.Duration) <-chan time.Time { return time.After(d) }

// OrReal returns c, or Real when c is nil.
func OrReal(c Clock) Clock {
	if c == nil {
		return Real{}
	}
	return c
}

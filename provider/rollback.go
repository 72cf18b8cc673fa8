package provider

import "context"

// rollbackKey is the context key of WithRollback.
type rollbackKey struct{}

// WithRollback returns ctx marking the writes made with it as rollbacks:
// each undoes a change its caller made a moment before (a step that
// failed or was not verified) and restores the state before it, so it
// must not be deferred or refused by the pacing a backend applies to
// ordinary changes, such as an Auto Scaling group's cooldown, which the
// change being undone has just started. The scaling engine marks every
// rollback write (Scaler.SetCapacity and Resizer.Resize), also that of a
// rollback it resumes after a restart; a host that undoes a change of its
// own may mark its write the same way. The mark is carried by every
// context derived from the marked one: a host must not hand a marked
// context to the scaling engine (Engine.Execute, Resume), whose forward
// steps would be marked too and pass a cooldown they should wait for.
//
// The mark is the contract drivers may read, with IsRollback; it is
// carried by the context so that every Scaler and Resizer, and any
// wrapper of one that passes its context on, takes it without a change of
// interface. A driver that paces writes lets a marked one through that
// pacing (the AWS driver sends SetDesiredCapacity with HonorCooldown
// false for it); a driver without pacing ignores it. The mark changes
// nothing else: want or size is validated, bounded and reported as for
// any write, and the caller's safety gate and rate limiter still decide
// whether the write is made.
func WithRollback(ctx context.Context) context.Context {
	return context.WithValue(ctx, rollbackKey{}, true)
}

// IsRollback reports whether ctx, or a context derived from it, was
// marked by WithRollback: the write made with it undoes a change and must
// not wait for a cooldown. A context not marked is an ordinary write's.
func IsRollback(ctx context.Context) bool {
	marked, _ := ctx.Value(rollbackKey{}).(bool)
	return marked
}

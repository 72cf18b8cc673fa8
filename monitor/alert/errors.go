package alert

import (
	"errors"
	"fmt"
)

// Sentinel errors of the package. Functions wrap them with context; test
// with errors.Is.
var (
	// ErrNotify means a notifier could not deliver a notification; it stays
	// pending and the next Alerter.Deliver retries it, unless the notifier
	// refused it for good (ErrRejected): then it was dropped. A
	// *NotifyError matches it.
	ErrNotify = errors.New("alert: notification failed")
	// ErrDropped means a notifier's backlog was full and its oldest
	// notifications were dropped. A *NotifyError says how many.
	ErrDropped = errors.New("alert: backlog full, notifications dropped")
	// ErrRejected means a webhook endpoint answered with a status that a
	// retry will not change (a 4xx other than 408 and 429, or a redirect,
	// which a Webhook does not follow), or that the Webhook could not
	// make the request at all (an alert JSON cannot encode). A
	// *StatusError matches it. A Notifier whose error matches it refuses
	// the notification for good: Alerter.Deliver drops it rather than
	// keeping it pending.
	ErrRejected = errors.New("alert: webhook rejected the notification")
)

// NotifyError reports a notifier that failed to deliver notifications. It
// matches ErrNotify, and ErrDropped when Dropped > 0, and unwraps to the
// notifier's error.
type NotifyError struct {
	// Notifier is the notifier's name (WithNotifier).
	Notifier string
	// Pending is how many notifications wait for a retry.
	Pending int
	// Dropped is how many notifications were dropped from the full backlog
	// since the last Deliver.
	Dropped int
	// Rejected is how many notifications the notifier refused for good
	// (ErrRejected) in this Deliver; they were dropped, not kept pending.
	Rejected int
	// Err is the notifier's error.
	Err error
}

// Error implements error.
func (e *NotifyError) Error() string {
	s := fmt.Sprintf("alert: notifier %q: %d notifications pending", e.Notifier, e.Pending)
	if e.Dropped > 0 {
		s += fmt.Sprintf(", %d dropped", e.Dropped)
	}
	if e.Rejected > 0 {
		s += fmt.Sprintf(", %d refused and dropped", e.Rejected)
	}
	return s + ": " + fmt.Sprint(e.Err)
}

// Is reports whether target is ErrNotify, or ErrDropped when notifications
// were dropped.
func (e *NotifyError) Is(target error) bool {
	return target == ErrNotify || (target == ErrDropped && e.Dropped > 0)
}

// Unwrap returns the notifier's error.
func (e *NotifyError) Unwrap() error { return e.Err }

// StatusError is a webhook endpoint's answer that is not a success. It
// matches ErrRejected when Retryable is false.
type StatusError struct {
	// Status is the HTTP status code.
	Status int
	// Retryable reports whether a later attempt may succeed (5xx, 408,
	// 429).
	Retryable bool
	// Location is a redirect's (3xx) Location header, which the Webhook
	// did not follow; empty otherwise.
	Location string
}

// Error implements error.
func (e *StatusError) Error() string {
	if e.Status >= 300 && e.Status < 400 {
		return fmt.Sprintf("alert: webhook answered %d, a redirect to %q (not followed: configure that URL)",
			e.Status, e.Location)
	}
	return fmt.Sprintf("alert: webhook answered %d", e.Status)
}

// Is reports whether target is ErrRejected and the status is not
// retryable.
func (e *StatusError) Is(target error) bool { return target == ErrRejected && !e.Retryable }

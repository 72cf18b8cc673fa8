package provider

import (
	"errors"
	"fmt"

	"github.com/idlescale/idlescale/internal/redact"
)

// Sentinel errors shared by every driver. Drivers wrap them (fmt.Errorf with
// %w) and keep their own cause in the chain, so callers test with errors.Is
// and can still reach the SDK's error with errors.As.
var (
	// ErrNotFound means the resource, group, function or backup does not
	// exist (or no longer exists).
	ErrNotFound = errors.New("not found")
	// ErrThrottled means the backend refused the call because of a rate
	// limit; the call may succeed if retried later.
	ErrThrottled = errors.New("throttled")
	// ErrUnsupported means the driver or the resource kind cannot do the
	// operation (for example resizing a load balancer).
	ErrUnsupported = errors.New("unsupported")
	// ErrConflict means the operation is not possible in the resource's
	// current state (for example starting a terminated instance) or raced
	// with another change.
	ErrConflict = errors.New("conflict")
	// ErrInvalid means an argument was invalid. It is matched by every
	// *InvalidError.
	ErrInvalid = errors.New("invalid argument")
	// ErrDenied means the backend refused the call for want of a
	// permission (an IAM policy, an RBAC role), of valid credentials (an
	// unknown, expired or badly signed key), or by a policy of its own
	// (a Kubernetes admission webhook answering 403). Nothing was
	// changed, and the call fails the same way until the permissions,
	// credentials or policy change: it is not worth retrying soon.
	ErrDenied = errors.New("denied")
	// ErrUnknownMetric means a metric name is neither a built-in Metric nor
	// a custom one; it also matches ErrInvalid.
	ErrUnknownMetric = fmt.Errorf("%w: unknown metric", ErrInvalid)
)

// unchanged are the sentinels that say a call changed nothing.
var unchanged = [...]error{ErrNotFound, ErrThrottled, ErrUnsupported, ErrConflict, ErrInvalid, ErrDenied}

// ChangedNothing reports whether err, returned by a call that changes
// something (an Actuator's or a Resizer's; a Scaler's SetCapacity is read
// back instead, see the package documentation), says by the provider
// contract that the call changed nothing: it matches
// ErrNotFound, ErrThrottled, ErrUnsupported, ErrConflict, ErrInvalid or
// ErrDenied. It is false for nil and for any other error (a timeout, a
// lost reply, a server error), after which the change may have been
// made: read the resource again to know. A context error is not one of
// them: a call cut off may have reached the backend.
func ChangedNothing(err error) bool {
	if err == nil {
		return false
	}
	for _, s := range unchanged {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}

// InvalidError reports one invalid value: which field, what it was and why it
// is wrong. It matches ErrInvalid with errors.Is. Made by Invalid, it
// carries no credentials: a password in a URL, a token or a key in Value
// (a string) or Reason is masked, so the error can be printed and logged.
type InvalidError struct {
	// Field names the field, in dotted form from the argument's root, for
	// example "capacity.min" or "samples[3].time".
	Field string
	// Value is the offending value, formatted with %v in the message.
	Value any
	// Reason says what the value should have been.
	Reason string

	kind error // a more specific sentinel it also matches, such as ErrUnknownMetric; nil for none
}

// Invalid returns an *InvalidError for field, value and reason, with
// credentials masked in value (when it is a string) and reason: the
// password or token of a URL's userinfo, authorization headers, labelled
// secrets (password=…), AWS access key IDs and long base64 runs become
// "xxxxx".
func Invalid(field string, value any, reason string) *InvalidError {
	if s, ok := value.(string); ok {
		value = redact.String(s)
	}
	return &InvalidError{Field: field, Value: value, Reason: redact.String(reason)}
}

// Error implements error. Without a Field (a value validated on its own,
// such as a Metric, before a caller names where it was) it reads
// "invalid VALUE: REASON".
func (e *InvalidError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("invalid %v: %s", quoteString(e.Value), e.Reason)
	}
	return fmt.Sprintf("invalid %s %v: %s", e.Field, quoteString(e.Value), e.Reason)
}

// Is reports whether target is ErrInvalid, or the more specific sentinel
// the error was made for (ErrUnknownMetric for a Metric's).
func (e *InvalidError) Is(target error) bool {
	return target == ErrInvalid || e.kind != nil && target == e.kind
}

func quoteString(v any) any {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return v
}

// within prefixes the Field of every *InvalidError in err with prefix, so a
// nested validation reports the full path ("resources[2].capacity.min").
func within(prefix string, err error) error {
	if err == nil {
		return nil // and no allocation: a valid value is the common case
	}
	var ie *InvalidError
	if errors.As(err, &ie) {
		if ie.Field == "" {
			ie.Field = prefix
		} else {
			ie.Field = prefix + "." + ie.Field
		}
	}
	return err
}

// Within returns err with prefix added to the field path of its
// *InvalidError, if it has one. It is for drivers and callers that validate
// nested values.
func Within(prefix string, err error) error { return within(prefix, err) }

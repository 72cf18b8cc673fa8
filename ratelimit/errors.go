package ratelimit

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/idlescale/idlescale/provider"
)

// Errors returned by the limiter. Invalid input returns a
// *provider.InvalidError, which matches provider.ErrInvalid.
var (
	// ErrStore means the Store failed (unreachable, timed out, corrupt
	// data). The limiter fails closed: the reservation that carries it is
	// denied with ReasonStore and consumed nothing.
	ErrStore = errors.New("ratelimit: store failed")
	// ErrCorrupt means a Store found data it cannot decode, or passed the
	// limiter other histories than the keys it asked for. It is wrapped
	// together with ErrStore.
	ErrCorrupt = errors.New("ratelimit: corrupt history")
)

// StoreError wraps the error of a Store operation. It matches ErrStore
// and, through Unwrap, the store's own error (context.DeadlineExceeded,
// ErrCorrupt, ...).
type StoreError struct {
	// Op is the limiter operation: "reserve", "cancel" or "stats".
	Op string
	// Err is the store's error.
	Err error
}

// Error implements error.
func (e *StoreError) Error() string {
	return fmt.Sprintf("ratelimit: %s: store failed: %v", e.Op, e.Err)
}

// Unwrap returns the store's error.
func (e *StoreError) Unwrap() error { return e.Err }

// Is reports whether target is ErrStore.
func (e *StoreError) Is(target error) bool { return target == ErrStore }

// maxTargetLen bounds a target name, which becomes part of store keys.
const maxTargetLen = provider.MaxIDLength

// ValidateTarget returns a *provider.InvalidError naming field unless
// target is a usable target name: 1 to provider.MaxIDLength bytes of
// valid UTF-8 without control characters.
func ValidateTarget(field, target string) error {
	switch {
	case target == "":
		return provider.Invalid(field, target, "must not be empty")
	case len(target) > maxTargetLen:
		return provider.Invalid(field, target, fmt.Sprintf("must be at most %d bytes", maxTargetLen))
	}
	ascii := true
	for i := 0; i < len(target); i++ {
		switch c := target[i]; {
		case c < 0x20 || c == 0x7f:
			return provider.Invalid(field, target, "must not contain control characters")
		case c >= 0x80:
			ascii = false
		}
	}
	if !ascii {
		if !utf8.ValidString(target) {
			return provider.Invalid(field, target, "must be valid UTF-8")
		}
		for _, r := range target {
			if r >= 0x80 && r < 0xa0 { // C1 controls
				return provider.Invalid(field, target, "must not contain control characters")
			}
		}
	}
	return nil
}

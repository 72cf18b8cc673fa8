package memory

import "errors"

// ErrInjected is the error an injected Fault returns when it names no error
// of its own.
var ErrInjected = errors.New("memory: injected fault")

// ErrPartial is wrapped by the error of a partial-failure Fault: part of the
// change was applied before the call failed.
var ErrPartial = errors.New("memory: partial failure")

package stream

import "github.com/idlescale/idlescale/provider"

// Bad input (a NaN threshold, an alpha outside (0, 1], an unsorted or
// repeated time, an infinite value, a window width that does not divide
// the values) returns a *provider.InvalidError that names the field and
// value and matches provider.ErrInvalid. The package has no sentinels of
// its own.

func invalid(field string, value any, reason string) error {
	return provider.Invalid(field, value, reason)
}

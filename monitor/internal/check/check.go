// Package check holds the two checks every monitor package makes: whether
// a collaborator passed as an interface is really there, and whether an
// enum's value is one of its known values.
package check

import (
	"slices"
	"strings"

	"github.com/idlescale/idlescale/internal/nilcheck"
	"github.com/idlescale/idlescale/provider"
)

// Nil reports whether v is nil or holds a nil pointer, func, map, chan or
// slice (nilcheck.Is): a nil *Log or a nil SinkFunc passed as an
// interface is no collaborator at all.
func Nil(v any) bool { return nilcheck.Is(v) }

// OneOf returns nil when v is one of known, and otherwise a
// *provider.InvalidError for field naming v and the known values.
func OneOf[T ~string](field string, v T, known []T) error {
	if slices.Contains(known, v) {
		return nil
	}
	names := make([]string, len(known))
	for i, k := range known {
		names[i] = string(k)
	}
	return provider.Invalid(field, string(v), "must be one of "+strings.Join(names, ", "))
}

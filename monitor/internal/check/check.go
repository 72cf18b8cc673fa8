// Package check holds the two checks every monitor package makes: whether
// a collaborator passed as an interface is really there, and whether an
// enum's value is one of its known values.
package check

import (
	"reflect"
	"slices"
	"strings"

	"github.com/idlescale/idlescale/provider"
)

// Nil reports whether v is nil or holds a nil pointer, func, map, chan or
// slice: a nil *Log or a nil SinkFunc passed as an interface is no
// collaborator at all.
func Nil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Slice:
		return rv.IsNil()
	}
	return false
}

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

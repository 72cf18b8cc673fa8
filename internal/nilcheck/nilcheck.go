package nilcheck

import "reflect"

// Is reports whether v is nil or holds a nil pointer, func, map, chan or
// slice: a value that would pass a nil check as an interface and fail on
// use.
func Is(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Slice:
		return rv.IsNil()
	}
	return false
}

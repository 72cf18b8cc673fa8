package monitor

import "reflect"

// isNil reports whether v is nil or holds a nil pointer, func, map, chan or
// slice: a nil *Ring or a nil SinkFunc passed as an interface is no
// collaborator at all.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Chan, reflect.Slice:
		return rv.IsNil()
	}
	return false
}

// Package enumtext holds the one rule every enum of the SDK follows when it
// is read from text (JSON, YAML, flags): the empty string is the zero
// value, "not set", and any other value must pass the type's Validate.
package enumtext

// Unmarshal sets *dst from text when text is empty (the zero value) or
// validate accepts it, and otherwise returns validate's error, which names
// the value, leaving *dst unchanged. Enum types call it from their
// UnmarshalText method.
func Unmarshal[T ~string](dst *T, text []byte, validate func(T) error) error {
	v := T(text)
	if v != "" {
		if err := validate(v); err != nil {
			return err
		}
	}
	*dst = v
	return nil
}

// Marshal encodes v as its text: empty text for the zero value, v itself
// when validate accepts it, and validate's error (naming the value)
// otherwise. Enum types call it from their MarshalText method.
func Marshal[T ~string](v T, validate func(T) error) ([]byte, error) {
	if v != "" {
		if err := validate(v); err != nil {
			return nil, err
		}
	}
	return []byte(v), nil
}

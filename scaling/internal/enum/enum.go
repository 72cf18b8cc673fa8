// Package enum holds the text encoding shared by the typed-string enums of
// package scaling and its subpackages: a known value encodes as its name,
// the unset value ("") as empty text, and decoding refuses unknown names
// with the error of the type's Validate.
package enum

// Enum is a typed string with a Validate method that accepts its known
// values.
type Enum interface {
	~string
	Validate() error
}

// Marshal encodes v: empty text for the unset value, its name when known,
// and the error of Validate otherwise.
func Marshal[E Enum](v E) ([]byte, error) {
	if v == "" {
		return []byte{}, nil
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return []byte(v), nil
}

// Unmarshal sets *dst from b: a known value, or unset for empty text.
// Unknown text returns the error of Validate (naming it) and leaves *dst
// unchanged.
func Unmarshal[E Enum](dst *E, b []byte) error {
	v := E(b)
	if v != "" {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	*dst = v
	return nil
}

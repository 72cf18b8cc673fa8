package safety

// enum is a typed string constant set of this package: Action, AuditKind,
// Outcome, Risk. Its empty value means unset; Validate refuses it and
// every unknown value.
type enum interface {
	~string
	Validate() error
}

// marshalEnum encodes v as its text, unset as empty text, and refuses an
// unknown value with the error of Validate.
func marshalEnum[E enum](v E) ([]byte, error) {
	if v == "" {
		return []byte{}, nil
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return []byte(v), nil
}

// unmarshalEnum sets *dst from b: a known value, or unset for empty text.
// Unknown text returns the error of Validate (naming it) and leaves *dst
// unchanged.
func unmarshalEnum[E enum](dst *E, b []byte) error {
	v := E(b)
	if v != "" {
		if err := v.Validate(); err != nil {
			return err
		}
	}
	*dst = v
	return nil
}

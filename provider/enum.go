package provider

// The enums of this package (Kind, State, Criticality, Metric, Unit,
// Statistic, ActivityKind) are typed strings with lower-case values. Each
// has String, MarshalText and UnmarshalText, so JSON and YAML read and
// write the plain value, and Validate. UnmarshalText accepts the empty
// string, the zero value that means "not set" (what that means, or whether
// it is allowed where the value is used, is documented on each type), and
// every value Validate accepts; anything else is an error naming the value,
// so a misspelt value in a configuration file fails when the file is read.

// unmarshalEnum sets *dst from text: the empty string (unset) or a value
// that validate accepts.
func unmarshalEnum[T ~string](dst *T, text []byte, validate func(T) error) error {
	v := T(text)
	if v != "" {
		if err := validate(v); err != nil {
			return err
		}
	}
	*dst = v
	return nil
}

package ratelimit

import "github.com/idlescale/idlescale/provider"

// MarshalText encodes d as "up" or "down" (empty for the zero value), so
// that histories and reservations read well as JSON.
func (d Direction) MarshalText() ([]byte, error) {
	switch d {
	case 0:
		return []byte{}, nil
	case Up, Down:
		return []byte(d.String()), nil
	}
	return nil, invalidDirection("direction", uint8(d))
}

// UnmarshalText decodes "up", "down" or the empty string (the zero value).
func (d *Direction) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := ParseDirection(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// MarshalText encodes o as its String.
func (o Outcome) MarshalText() ([]byte, error) {
	if o > Clamped {
		return nil, provider.Invalid("outcome", uint8(o), "unknown")
	}
	return []byte(o.String()), nil
}

// UnmarshalText decodes "denied", "allowed" or "clamped".
func (o *Outcome) UnmarshalText(b []byte) error {
	for v := Denied; v <= Clamped; v++ {
		if v.String() == string(b) {
			*o = v
			return nil
		}
	}
	return provider.Invalid("outcome", string(b), `must be "denied", "allowed" or "clamped"`)
}

// MarshalText encodes r as its String.
func (r Reason) MarshalText() ([]byte, error) {
	if r > ReasonInvalid {
		return nil, provider.Invalid("reason", uint8(r), "unknown")
	}
	return []byte(r.String()), nil
}

// UnmarshalText decodes a Reason's String.
func (r *Reason) UnmarshalText(b []byte) error {
	for v := ReasonNone; v <= ReasonInvalid; v++ {
		if v.String() == string(b) {
			*r = v
			return nil
		}
	}
	return provider.Invalid("reason", string(b), "unknown")
}

// MarshalText encodes s as its String.
func (s Scope) MarshalText() ([]byte, error) {
	if s > ScopeGlobal {
		return nil, provider.Invalid("scope", uint8(s), "unknown")
	}
	return []byte(s.String()), nil
}

// UnmarshalText decodes "none", "target" or "global".
func (s *Scope) UnmarshalText(b []byte) error {
	for v := ScopeNone; v <= ScopeGlobal; v++ {
		if v.String() == string(b) {
			*s = v
			return nil
		}
	}
	return provider.Invalid("scope", string(b), `must be "none", "target" or "global"`)
}

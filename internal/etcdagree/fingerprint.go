package etcdagree

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"
)

// Errors of the package; the public packages export them under their own
// names.
var (
	// ErrMismatch means another live replica runs another shared
	// configuration.
	ErrMismatch = errors.New("shared configuration differs between replicas")
	// ErrMalformed means another replica's fingerprint could not be read.
	ErrMalformed = errors.New("unreadable configuration fingerprint")
)

// Fingerprint is one replica's shared configuration as published: the
// value of its key.
type Fingerprint struct {
	// ID is the replica's ID.
	ID string `json:"id"`
	// Hash is "sha256:" and the hex SHA-256 of Config.
	Hash string `json:"fingerprint"`
	// Config is the canonical JSON of the shared configuration: object
	// keys sorted, no insignificant space.
	Config json.RawMessage `json:"config"`
}

// NewFingerprint returns the fingerprint of replica id's shared
// configuration v: its JSON, canonicalised. It fails when v does not
// encode to a JSON object.
func NewFingerprint(id string, v any) (Fingerprint, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("encode the shared configuration: %w", err)
	}
	canon, err := canonical(raw)
	if err != nil {
		return Fingerprint{}, fmt.Errorf("encode the shared configuration: %w", err)
	}
	return Fingerprint{ID: id, Hash: hash(canon), Config: canon}, nil
}

// canonical re-encodes the JSON object raw with its keys sorted (at every
// level) and numbers kept as written.
func canonical(raw []byte) ([]byte, error) {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	if d.More() {
		return nil, errors.New("trailing data after the object")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, fmt.Errorf("not a JSON object: %.40s", raw)
	}
	return json.Marshal(v) // maps are encoded with sorted keys
}

func hash(canon []byte) string {
	sum := sha256.Sum256(canon)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Parse reads the fingerprint stored under key. The error, matching
// ErrMalformed, names the key and what is wrong: not JSON, no id, no
// config object, or a hash that is not the config's.
func Parse(key string, val []byte) (Fingerprint, error) {
	var f Fingerprint
	if err := json.Unmarshal(val, &f); err != nil {
		return f, fmt.Errorf("%w: key %q: %w", ErrMalformed, key, err)
	}
	switch {
	case f.ID == "":
		return f, fmt.Errorf("%w: key %q: no id", ErrMalformed, key)
	case len(f.Config) == 0:
		return f, fmt.Errorf("%w: key %q: no config", ErrMalformed, key)
	}
	canon, err := canonical(f.Config)
	if err != nil {
		return f, fmt.Errorf("%w: key %q: config: %w", ErrMalformed, key, err)
	}
	if got := hash(canon); got != f.Hash {
		return f, fmt.Errorf("%w: key %q: fingerprint %q is not its config's (%s)", ErrMalformed, key, f.Hash, got)
	}
	f.Config = canon
	return f, nil
}

// Diff is one field whose value differs between two replicas' shared
// configurations.
type Diff struct {
	// Field is the field's path in the configuration's JSON, as
	// "period" or "tracker.step"; a map key that is not a plain name is
	// quoted: `targets["web-1"].up.events`.
	Field string `json:"field"`
	// Mine and Theirs are its JSON values in this replica's configuration
	// and the other's, but for a time.Duration of this replica's
	// configuration (CompareAs, Config.Shared), which is a Go duration ("5m0s") when not
	// negative; "" when the field is absent from one (its zero value, left
	// out of the JSON).
	Mine   string `json:"mine"`
	Theirs string `json:"theirs"`
}

// String returns "field: mine → theirs".
func (d Diff) String() string {
	return fmt.Sprintf("%s: %s (here) vs %s", d.Field, orAbsent(d.Mine), orAbsent(d.Theirs))
}

func orAbsent(s string) string {
	if s == "" {
		return "absent"
	}
	return s
}

// Compare returns the fields whose values differ between the canonical
// configurations mine and theirs, sorted by path. Arrays are compared
// whole.
func Compare(mine, theirs json.RawMessage) []Diff { return CompareAs(nil, mine, theirs) }

// CompareAs is Compare of two configurations of type t (the Go type
// NewFingerprint encoded; nil: not known): a field whose type is
// time.Duration, which encodes as nanoseconds, has its values printed as
// Go durations ("5m0s"), a negative one (the -1 a configuration may use
// for "no limit") as its number.
func CompareAs(t reflect.Type, mine, theirs json.RawMessage) []Diff {
	a, b := map[string]string{}, map[string]string{}
	flatten(a, "", decode(mine), t)
	flatten(b, "", decode(theirs), t)
	// An empty object on one side and fields under it on the other are
	// told by the fields.
	for _, m := range [2][2]map[string]string{{a, b}, {b, a}} {
		for k, v := range m[0] {
			if v == "{}" && hasUnder(m[1], k) {
				delete(m[0], k)
			}
		}
	}
	var out []Diff
	for k, va := range a {
		if vb := b[k]; va != vb {
			out = append(out, Diff{Field: k, Mine: va, Theirs: vb})
		}
	}
	for k, vb := range b {
		if _, ok := a[k]; !ok {
			out = append(out, Diff{Field: k, Theirs: vb})
		}
	}
	slices.SortFunc(out, func(x, y Diff) int { return strings.Compare(x.Field, y.Field) })
	return out
}

// hasUnder reports whether m has a path under path.
func hasUnder(m map[string]string, path string) bool {
	for k := range m {
		if strings.HasPrefix(k, path+".") || strings.HasPrefix(k, path+"[") {
			return true
		}
	}
	return false
}

func decode(raw json.RawMessage) any {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

var durationType = reflect.TypeFor[time.Duration]()

// flatten adds the leaves of v under path to out: an object's fields by
// their paths, anything else (arrays too) as its JSON, but a number of
// type t time.Duration, not negative, as a Go duration. t is v's Go type,
// or nil when not known.
func flatten(out map[string]string, path string, v any, t reflect.Type) {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	m, ok := v.(map[string]any)
	if !ok || (len(m) == 0 && path != "") {
		if n, isNum := v.(json.Number); isNum && t == durationType {
			if d, err := n.Int64(); err == nil && d >= 0 {
				out[path] = time.Duration(d).String()
				return
			}
		}
		b, _ := json.Marshal(v)
		out[path] = string(b)
		return
	}
	for k, c := range m {
		flatten(out, join(path, k), c, memberType(t, k))
	}
}

// memberType returns the Go type of member k of a JSON object encoded
// from t (a struct's field by its JSON name, as encoding/json names it,
// or a map's element), or nil when not known.
func memberType(t reflect.Type, k string) reflect.Type {
	if t == nil {
		return nil
	}
	switch t.Kind() {
	case reflect.Map:
		return t.Elem()
	case reflect.Struct:
	default:
		return nil
	}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" || (!f.IsExported() && !f.Anonymous) {
			continue
		}
		name, _, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			ft := f.Type
			if ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if mt := memberType(ft, k); mt != nil {
					return mt
				}
				continue
			}
		}
		if name == "" {
			name = f.Name
		}
		if name == k || (tag == "" && strings.EqualFold(name, k)) {
			return f.Type
		}
	}
	return nil
}

// join appends key k to path: ".k" for a plain name, `["k"]` otherwise.
func join(path, k string) string {
	plain := k != ""
	for _, r := range k {
		if r != '_' && (r < 'a' || r > 'z') && (r < 'A' || r > 'Z') && (r < '0' || r > '9') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return fmt.Sprintf("%s[%q]", path, k)
	case path == "":
		return k
	}
	return path + "." + k
}

package yamlconf_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/internal/yamlconf"
	"github.com/idlescale/idlescale/provider"
)

// color is an enum that refuses unknown names in UnmarshalText, as the
// SDK's enums do, with an *InvalidError whose Field is the leaf name.
type color string

func (c *color) UnmarshalText(b []byte) error {
	switch string(b) {
	case "red", "green", "":
		*c = color(b)
		return nil
	}
	return provider.Invalid("color", string(b), "must be red or green")
}

// shade refuses with a plain error.
type shade string

var errShade = errors.New("no such shade")

func (s *shade) UnmarshalText(b []byte) error {
	if string(b) == "dark" {
		*s = shade(b)
		return nil
	}
	return errShade
}

type Base struct {
	Tint color `yaml:"tint"`
}

type item struct {
	Base   `yaml:",inline"`
	Color  color            `yaml:"color,omitempty"`
	Colors []color          `yaml:"colors"`
	ByName map[color]int    `yaml:"by_name"`
	Named  map[string]color `yaml:"named"`
	Shade  *shade
	Skip   color `yaml:"-"`
}

type doc struct {
	Items []item         `yaml:"items"`
	Ptr   *item          `yaml:"ptr"`
	Arr   [2]color       `yaml:"arr"`
	Any   map[string]any `yaml:"any"`
}

// decode decodes src strictly, as the SDK's loaders do, and locates the
// error.
func decode(t *testing.T, src string) error {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader([]byte(src)))
	dec.KnownFields(true)
	var d doc
	return yamlconf.Locate([]byte(src), reflect.TypeFor[doc](), dec.Decode(&d))
}

func TestLocate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src, field, msg string
	}{
		{"list item field", "items:\n  - color: red\n  - color: blue\n", "items[1].color",
			`line 3, column 12: invalid items[1].color "blue": must be red or green`},
		{"inline struct", "items:\n  - tint: mauve\n", "items[0].tint", `line 2, column 11: invalid items[0].tint "mauve"`},
		{"list of enums", "items: [{colors: [red, green, teal]}]\n", "items[0].colors[2]", "line 1, column 31"},
		{"map key", "items: [{by_name: {red: 1, pink: 2}}]\n", "items[0].by_name[pink]", "line 1, column 28"},
		{"map value", "items: [{named: {a: red, b: navy}}]\n", "items[0].named[b]", "line 1, column 29"},
		{"pointer to struct", "ptr: {color: gold}\n", "ptr.color", "line 1, column 14"},
		{"array", "arr: [red, plum]\n", "arr[1]", "line 1, column 12"},
		{"alias", "x: &c beige\nitems: [{color: *c}]\n", "items[0].color", `"beige"`},
		{"default lower-case name, plain error", "items: [{shade: light}]\n", "", "line 1, column 17: items[0].shade: no such shade"},
		// A merge key ("<<") adds a mapping's keys that the mapping does
		// not set itself, after its own; the decoder refuses the first
		// refused value in that order.
		{"merged mapping", "items:\n  - <<: {color: blue}\n  - color: pink\n", "items[0].color", `line 2, column 17: invalid items[0].color "blue"`},
		{"merged alias", "any: {m: &m {color: blue}}\nitems: [{<<: *m}]\n", "items[0].color", `line 1, column 21: invalid items[0].color "blue"`},
		{"merged list, the mapping's own key first", "items: [{<<: [{tint: red}, {color: red, tint: mauve}], color: navy}]\n", "items[0].color", `"navy"`},
		{"merged key set before", "items: [{<<: [{tint: red}, {tint: mauve}], color: red}, {color: pink}]\n", "items[1].color", `"pink"`},
		{"merged map entries", "items: [{named: {a: red, <<: {a: teal, b: navy}}}]\n", "items[0].named[b]", `"navy"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := decode(t, tt.src)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.msg)
			if tt.field == "" {
				require.ErrorIs(t, err, errShade, "the type's own error stays in the chain")
				return
			}
			var inv *provider.InvalidError
			require.ErrorAs(t, err, &inv)
			assert.Equal(t, tt.field, inv.Field)
			require.ErrorIs(t, err, provider.ErrInvalid)
		})
	}
}

// TestLocateLeavesOthers: the decoder's own errors, errors of values walk
// does not reach, and success pass through unchanged.
func TestLocateLeavesOthers(t *testing.T) {
	t.Parallel()
	require.NoError(t, decode(t, "items: [{color: red, tint: green, shade: dark}]\nany: {x: [1, 2]}\n"))

	err := decode(t, "items: [{color: red, size: 3}]\n")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line 1: field size not found", "an unknown field: the decoder's error")

	err = decode(t, "items: {color: red}\n")
	var te *yaml.TypeError
	require.ErrorAs(t, err, &te, "a map where a list goes: the decoder's error")

	err = decode(t, "items: [\n")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "line", "a syntax error keeps its line")

	// A refusal that walk cannot find again (the document does not hold
	// it) is returned unchanged.
	refusal := provider.Invalid("color", "x", "nowhere")
	assert.Same(t, error(refusal), yamlconf.Locate([]byte("items: []\n"), reflect.TypeFor[doc](), refusal))
	require.NoError(t, yamlconf.Locate([]byte("items: []\n"), reflect.TypeFor[doc](), nil))
}

// TestLocateNull: an explicit null is the zero value, not a refusal; the
// walk goes on to the value that is refused.
func TestLocateNull(t *testing.T) {
	t.Parallel()
	err := decode(t, "items: [{color: ~, colors: [null, red, cyan]}]\n")
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "items[0].colors[2]", inv.Field)
}

// tinted is an unexported struct that holder inlines: the decoder fills
// the exported fields of an embedded struct, exported or not.
type tinted struct {
	Tint color `yaml:"tint"`
}

type holder struct {
	tinted `yaml:",inline"`

	Colors []color `yaml:"colors"`
}

// A value of an unexported inline struct is located as the decoder reads
// it: field left such structs out (as unexported fields), so their values
// came back unlocated.
func TestLocateUnexportedInline(t *testing.T) {
	t.Parallel()
	src := []byte("colors: [red]\ntint: mauve\n")
	dec := yaml.NewDecoder(bytes.NewReader(src))
	dec.KnownFields(true)
	var h holder
	err := yamlconf.Locate(src, reflect.TypeFor[holder](), dec.Decode(&h))
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "tint", inv.Field)
	assert.Contains(t, err.Error(), `line 2, column 7: invalid tint "mauve"`)
}

package yamlconf_test

import (
	"bytes"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/internal/yamlconf"
	"github.com/idlescale/idlescale/provider"
)

type tree struct {
	Color color  `yaml:"color"`
	Kids  []tree `yaml:"kids"`
}

// nested returns a document of levels trees, each the only kid of the one
// above, the innermost with a color walk refuses, and its decoding error.
func nested(levels int) ([]byte, error) {
	var b strings.Builder
	for range levels {
		b.WriteString("{kids: [")
	}
	b.WriteString("{color: teal}")
	for range levels {
		b.WriteString("]}")
	}
	src := []byte(b.String())
	var v tree
	return src, yaml.NewDecoder(bytes.NewReader(src)).Decode(&v)
}

// The walk stops at its depth bound (aliases can make a document a
// graph): a refusal within it is located, one past it is returned as the
// decoder gave it.
func TestLocateDepthBound(t *testing.T) {
	t.Parallel()
	field := func(levels int) string {
		src, decodeErr := nested(levels)
		require.Error(t, decodeErr)
		err := yamlconf.Locate(src, reflect.TypeFor[tree](), decodeErr)
		var inv *provider.InvalidError
		require.ErrorAs(t, err, &inv)
		return inv.Field
	}
	// Each level is a mapping and a list: two steps of the walk, which
	// starts at the document, 100 steps deep at most.
	assert.Equal(t, strings.Repeat("kids[0].", 49)+"color", field(49))
	assert.Equal(t, "color", field(50), "past the bound: the type's own field name")
}

type forest map[string]forest

// A document whose alias holds itself is a cycle: the walk ends at its
// bound through lists, maps and aliases alike, and the decoder's error is
// returned unchanged.
func TestLocateAliasCycle(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		src string
		typ reflect.Type
	}{
		{"&a {kids: [*a]}", reflect.TypeFor[tree]()},
		{"&a {x: *a}", reflect.TypeFor[forest]()},
	} {
		v := reflect.New(tt.typ).Interface()
		decodeErr := yaml.Unmarshal([]byte(tt.src), v)
		require.Error(t, decodeErr, tt.src)
		assert.Same(t, decodeErr, yamlconf.Locate([]byte(tt.src), tt.typ, decodeErr), tt.src)
	}
}

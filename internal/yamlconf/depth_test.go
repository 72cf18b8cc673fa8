package yamlconf_test

import (
	"bytes"
	"reflect"
	"strings"
	"sync/atomic"
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

// checks counts the values of type counted decoded (by the decoder and by
// the walk).
var checks atomic.Int64

// counted is an enum that counts its decodings and accepts any value.
type counted string

func (c *counted) UnmarshalText(b []byte) error {
	checks.Add(1)
	*c = counted(b)
	return nil
}

type tagged struct {
	Items []struct {
		Tags []counted `yaml:"tags"`
	} `yaml:"items"`
}

// A document whose aliases expand to far more than it holds, which the
// decoder refuses early (excessive aliasing), is not walked on past what
// the decoder allows either: the walk followed every alias, n × n values
// for a document of 2n aliases (a 44 KB fleet file took 5 s, 32 MiB years),
// and a list holding two aliases of itself took 2^33 steps within the
// depth bound, a document of 19 bytes that never returned. The decoder's
// error is returned unchanged. Not parallel: checks is shared.
func TestLocateAliasExpansion(t *testing.T) {
	var b strings.Builder
	b.WriteString("items:\n  - &r {tags: [&k a")
	for range 2000 {
		b.WriteString(", *k")
	}
	b.WriteString("]}\n")
	for range 2000 {
		b.WriteString("  - *r\n")
	}
	src := []byte(b.String())
	var v tagged
	checks.Store(0)
	decodeErr := yaml.Unmarshal(src, &v)
	require.ErrorContains(t, decodeErr, "excessive aliasing")
	decoded := checks.Load()
	checks.Store(0)
	require.Same(t, decodeErr, yamlconf.Locate(src, reflect.TypeFor[tagged](), decodeErr))
	t.Logf("decoded %d, walked %d", decoded, checks.Load())
	require.LessOrEqual(t, checks.Load(), decoded, "values checked by the walk, at most what the decoder decoded")

	cycle := []byte("&a {kids: [*a, *a]}")
	var tr tree
	decodeErr = yaml.Unmarshal(cycle, &tr)
	require.Error(t, decodeErr)
	assert.Same(t, decodeErr, yamlconf.Locate(cycle, reflect.TypeFor[tree](), decodeErr))
}

type series struct {
	Items []struct {
		Name   string `yaml:"name"`
		Values []int  `yaml:"values"`
	} `yaml:"items"`
	Color color `yaml:"color"`
}

// A document the decoder reads up to a refused value, its aliases within
// the share the decoder allows, is walked up to that value too: the walk
// counts the nodes as the decoder counts them (mapping keys among them),
// so it does not stop short of the value for aliasing the decoder allowed
// and the value is located.
func TestLocateAliasesTheDecoderAllows(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("items:\n  - {name: a0, values: &v [0")
	for i := 1; i < 399; i++ {
		b.WriteString(", 1")
	}
	b.WriteString("]}\n")
	for range 500 {
		b.WriteString("  - {name: a, values: *v}\n")
	}
	b.WriteString("color: teal\n")
	src := []byte(b.String())
	var v series
	decodeErr := yaml.Unmarshal(src, &v)
	require.Error(t, decodeErr)
	require.NotContains(t, decodeErr.Error(), "excessive aliasing")
	err := yamlconf.Locate(src, reflect.TypeFor[series](), decodeErr)
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	assert.Equal(t, "color", inv.Field)
	assert.Contains(t, err.Error(), "line 503, column 8")
}

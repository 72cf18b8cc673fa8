package yamlconf_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/internal/yamlconf"
	"github.com/idlescale/idlescale/provider"
)

// located decodes src into a new typ and returns the Field of the
// *provider.InvalidError Locate makes of the decoding's error (located:
// "line L, column C: ..."), "" when Locate returns that error as it is.
func located(t *testing.T, src string, typ reflect.Type) string {
	t.Helper()
	decodeErr := yaml.Unmarshal([]byte(src), reflect.New(typ).Interface())
	require.Error(t, decodeErr, src)
	err := yamlconf.Locate([]byte(src), typ, decodeErr)
	if !strings.HasPrefix(err.Error(), "line ") {
		require.Equal(t, decodeErr.Error(), err.Error(), "returned as the decoder gave it")
		return ""
	}
	var inv *provider.InvalidError
	require.ErrorAs(t, err, &inv)
	return inv.Field
}

type mapTree struct {
	Color color              `yaml:"color"`
	Kids  map[string]mapTree `yaml:"kids"`
}

type palette map[color]palette

// The depth bound counts every step of the walk, through aliases, map
// entries and merge keys as through struct fields and list items: a
// refusal within it is located, one a level further is returned as the
// decoder gave it.
func TestLocateDepthBoundEverywhere(t *testing.T) {
	t.Parallel()
	// aliases: tree -> kids -> alias -> tree, three steps a level.
	aliases := func(levels int) string {
		var b strings.Builder
		b.WriteString("l0: &l0 {color: teal}\n")
		for i := 1; i < levels; i++ {
			fmt.Fprintf(&b, "l%d: &l%d {kids: [*l%d]}\n", i, i, i-1)
		}
		fmt.Fprintf(&b, "kids: [*l%d]\n", levels-1)
		return b.String()
	}
	// map entries: tree -> kids (a map) -> entry, two steps a level.
	entries := func(levels int) string {
		return strings.Repeat("{kids: {k: ", levels) + "{color: teal}" + strings.Repeat("}}", levels)
	}
	// merged aliases: mapping -> merge -> alias -> mapping, two steps.
	mergedAliases := func(levels int) string {
		var b strings.Builder
		b.WriteString("l0: &l0 {color: teal}\n")
		for i := 1; i < levels; i++ {
			fmt.Fprintf(&b, "l%d: &l%d {<<: *l%d}\n", i, i, i-1)
		}
		fmt.Fprintf(&b, "<<: *l%d\n", levels-1)
		return b.String()
	}
	// merged lists: mapping -> merge (a list) -> mapping, two steps.
	mergedLists := func(levels int) string {
		return strings.Repeat("{<<: [", levels) + "{color: teal}" + strings.Repeat("]}", levels)
	}
	// merged mappings: mapping -> merge -> mapping, one step; the
	// refused value is the innermost mapping's key, checked at its depth.
	mergedKeys := func(levels int) string {
		return "{m: " + strings.Repeat("{<<: ", levels) + "{teal: {}}" + strings.Repeat("}", levels) + "}"
	}
	for _, tt := range []struct {
		name   string
		doc    func(int) string
		typ    reflect.Type
		levels int // the most within the bound
		field  string
	}{
		{"aliases", aliases, reflect.TypeFor[tree](), 32, strings.Repeat("kids[0].", 32) + "color"},
		{"map entries", entries, reflect.TypeFor[mapTree](), 49, strings.Repeat("kids[k].", 49) + "color"},
		{"merged aliases", mergedAliases, reflect.TypeFor[tree](), 49, "color"},
		{"merged lists", mergedLists, reflect.TypeFor[tree](), 49, "color"},
		{"merged mappings", mergedKeys, reflect.TypeFor[struct {
			M palette `yaml:"m"`
		}](), 98, "m[teal]"},
	} {
		assert.Equal(t, tt.field, located(t, tt.doc(tt.levels), tt.typ), "%s: %d levels", tt.name, tt.levels)
		assert.Empty(t, located(t, tt.doc(tt.levels+1), tt.typ), "%s: %d levels", tt.name, tt.levels+1)
	}
}

// A list a merge key names is merged mapping by mapping, each of them:
// a value refused in any but the first is located too.
func TestLocateMergedList(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "kids[0].color", located(t, "a: &a {kids: []}\nb: &b {color: teal}\nkids: [{<<: [*a, *b]}]\n", reflect.TypeFor[tree]()))
	assert.Equal(t, "color", located(t, "<<: [{kids: []}, {kids: [{color: red}]}, {color: teal}]\n", reflect.TypeFor[tree]()))
}

type colors struct {
	Items []color `yaml:"items"`
	Color color   `yaml:"color"`
}

// The walk counts the nodes and the aliased ones as the decoder does, to
// the node: it stops where the decoder refuses a document for excessive
// aliasing (more than 100 aliased nodes of more than 1000, more than 99 %
// of them), not a node sooner or later. Past 1000 nodes with 99.5 % of
// them aliased, the decoder decodes the 1000th and refuses at the 1001st;
// with exactly 99 % aliased at the 1100th, it goes on.
func TestLocateAliasShareToTheNode(t *testing.T) {
	t.Parallel()
	// Nodes: the document, its mapping, the keys base and items, the
	// alias (5), then the aliased list (6) and its items, the 1000th
	// node being items[993].
	list := func(n, teal int) string {
		vals := make([]string, n)
		for i := range vals {
			vals[i] = "red"
		}
		if teal >= 0 {
			vals[teal] = "teal"
		}
		return "[" + strings.Join(vals, ", ") + "]"
	}
	over := func(teal int) string { return "base: &b " + list(1200, teal) + "\nitems: *b\n" }
	typ := reflect.TypeFor[colors]()
	assert.Equal(t, "items[993]", located(t, over(993), typ))
	assert.Empty(t, located(t, over(994), typ))
	var v colors
	require.ErrorContains(t, yaml.Unmarshal([]byte(over(994)), &v), "excessive aliasing")

	// Eleven nodes not aliased (the document, its mapping, seven keys
	// before items, items, the alias), then 1089 aliased: 99 % of 1100
	// exactly, which the decoder allows; the next nodes are not aliased.
	var b strings.Builder
	for i := range 6 {
		fmt.Fprintf(&b, "k%d: x\n", i)
	}
	b.WriteString("base: &b " + list(1088, -1) + "\nitems: *b\ncolor: teal\n")
	assert.Equal(t, "color", located(t, b.String(), typ))
}

type countedLists struct {
	Items [][]counted `yaml:"items"`
}

// Past 400,000 nodes the share of aliased nodes allowed falls (to 10 %
// from 4,000,000), and the walk, counting as the decoder does, stops
// where the decoder stops: it decodes exactly the values the decoder
// decoded. Not parallel: checks is shared.
func TestLocateAliasShareFalls(t *testing.T) {
	// Each alias (not aliased) brings 31 aliased nodes, a list of 30:
	// 96.9 % of the nodes aliased, which the decoder allows up to about
	// 486,000 nodes.
	var b strings.Builder
	b.WriteString("base: &l [" + strings.Repeat("a, ", 29) + "a]\nitems: [*l")
	b.WriteString(strings.Repeat(", *l", 17000))
	b.WriteString("]\n")
	src := []byte(b.String())
	var v countedLists
	checks.Store(0)
	decodeErr := yaml.Unmarshal(src, &v)
	require.ErrorContains(t, decodeErr, "excessive aliasing")
	decoded := checks.Load()
	require.Greater(t, decoded, int64(400_000))
	checks.Store(0)
	require.Same(t, decodeErr, yamlconf.Locate(src, reflect.TypeFor[countedLists](), decodeErr))
	assert.Equal(t, decoded, checks.Load(), "values decoded by the walk and by the decoder")
}

type countedMaps struct {
	Items  []map[string]counted `yaml:"items"`
	Colors []color              `yaml:"colors"`
}

// The nodes a merge key's alias brings are aliased nodes, for the walk
// as for the decoder, and only while they are walked: a document merging
// one mapping of 200 entries into each of 20 items is refused for
// excessive aliasing, and the walk decodes no more than the decoder did;
// one merging an alias once, then holding 1500 values, is not, and a
// refused value at its end is located. Not parallel: checks is shared.
func TestLocateMergedAliasShare(t *testing.T) {
	var b strings.Builder
	b.WriteString("m: &m {")
	for i := range 200 {
		fmt.Fprintf(&b, "k%d: v, ", i)
	}
	b.WriteString("}\nitems:\n")
	for range 20 {
		b.WriteString("  - {<<: *m}\n")
	}
	src := []byte(b.String())
	var v countedMaps
	checks.Store(0)
	decodeErr := yaml.Unmarshal(src, &v)
	require.ErrorContains(t, decodeErr, "excessive aliasing")
	decoded := checks.Load()
	checks.Store(0)
	require.Same(t, decodeErr, yamlconf.Locate(src, reflect.TypeFor[countedMaps](), decodeErr))
	assert.LessOrEqual(t, checks.Load(), decoded, "values decoded by the walk, at most what the decoder decoded")

	once := "m: &m {k: v}\nitems: [{<<: *m}]\ncolors: [" + strings.Repeat("red, ", 1500) + "teal]\n"
	assert.Equal(t, "colors[1500]", located(t, once, reflect.TypeFor[countedMaps]()))
}

type colorLists struct {
	Items [][]color `yaml:"items"`
}

// The share of aliased nodes allowed past 400,000 nodes is the decoder's
// to the last bit: 0.99 - 0.89 × ((nodes - 400,000) / 3,600,000), the
// division first. At 1,120,000 nodes that is 0.8119999999999999, and a
// document that has then 909,440 aliased nodes (0.812 of them) is
// refused there, before its 1,120,000th node; the walk, multiplying
// first, allowed 0.812 and went on to that node, locating a value the
// decoder never reached instead of returning its error.
func TestLocateAliasShareToTheBit(t *testing.T) {
	t.Parallel()
	// Not aliased: the document, its mapping, its four keys, the items
	// list (7) and each alias; aliased: what each alias brings, a list
	// and its values. 143,322 lists of 3 then 67,230 lists of 4 make the
	// 1,120,000th node the first value of the last list.
	var b strings.Builder
	b.WriteString("a: &a [red, red, red]\nb: &b [red, red, red, red]\nt: &t [teal, red, red, red]\nitems: [")
	b.WriteString(strings.Repeat("*a, ", 143_322))
	b.WriteString(strings.Repeat("*b, ", 67_230))
	b.WriteString("*t]\n")
	src := []byte(b.String())
	var v colorLists
	decodeErr := yaml.Unmarshal(src, &v)
	require.ErrorContains(t, decodeErr, "excessive aliasing")
	assert.Same(t, decodeErr, yamlconf.Locate(src, reflect.TypeFor[colorLists](), decodeErr))
}

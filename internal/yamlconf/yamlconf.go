// Package yamlconf names the field of a value that a configuration file's
// decoding refused.
//
// go.yaml.in/yaml/v3 reports its own errors (a malformed document, a
// string where a number goes, an unknown field) with a line number, but an
// error returned by a type's UnmarshalText (every enum of the SDK
// validates there: a strategy type, a metric, a policy type) comes back
// as it is, without saying where in the file the value was. Locate finds
// that value again by walking the document alongside the Go type it was
// decoded into, so that a loader can say
// "line 7, column 20: invalid targets[0].strategies[1].type "magic": ...".
package yamlconf

import (
	"encoding"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/provider"
)

// maxDepth bounds the walk (aliases can make a document a graph).
const maxDepth = 100

var (
	textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
	yamlUnmarshaler = reflect.TypeFor[yaml.Unmarshaler]()
)

// Locate returns decodeErr, the error of decoding data into a value of
// type t, located: when a scalar of data (a value or a map key) is refused
// by its type's UnmarshalText (or UnmarshalYAML), the error that type
// returns for it, with its field path (in the file's keys, with [i] for
// list items and [key] for map entries) as the Field of its
// *provider.InvalidError, prefixed with the value's line and column.
// Otherwise, and for the decoder's own errors (which carry a line
// already), it returns decodeErr unchanged.
func Locate(data []byte, t reflect.Type, decodeErr error) error {
	var te *yaml.TypeError
	if decodeErr == nil || errors.As(decodeErr, &te) {
		return decodeErr
	}
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil {
		return decodeErr
	}
	if err := walk(&doc, t, "", 0, &budget{}); err != nil {
		return err
	}
	return decodeErr
}

// budget bounds a walk as the decoder bounds its decoding (go.yaml.in's
// "excessive aliasing"): once the nodes reached through aliases are too
// large a share of those walked, the walk stops, so that a document whose
// aliases expand to far more than it holds (which the decoder refused
// early) is not walked through every expansion. It counts nodes as the
// decoder does, a mapping's keys among them, so that it does not stop
// short of a value the decoder reached.
type budget struct {
	visits, aliased int
	aliasDepth      int // the aliases the walk is within
	spent           bool
}

// visit counts a node and reports whether the walk may go on.
func (b *budget) visit() bool {
	if b.spent {
		return false
	}
	b.visits++
	if b.aliasDepth > 0 {
		b.aliased++
	}
	if b.aliased > 100 && b.visits > 1000 && float64(b.aliased)/float64(b.visits) > allowedAliasRatio(b.visits) {
		b.spent = true
	}
	return !b.spent
}

// allowedAliasRatio is the decoder's: the share of nodes decoded through
// aliases allowed after visits nodes, 99 % up to 400,000, down to 10 %
// from 4,000,000. It is computed as the decoder computes it, the division
// first: multiplying first gives another last bit for some counts
// (0.812 at 1,120,000 nodes, not 0.8119999999999999), and the walk then
// went a node past where the decoder refused a document.
func allowedAliasRatio(visits int) float64 {
	const low, high = 400_000, 4_000_000
	switch {
	case visits <= low:
		return 0.99
	case visits >= high:
		return 0.10
	}
	return 0.99 - 0.89*(float64(visits-low)/float64(high-low))
}

// walk returns the located error of the first value under n, decoded into
// a t at path, that its type refuses; nil when there is none or b is
// spent.
func walk(n *yaml.Node, t reflect.Type, path string, depth int, b *budget) error {
	if depth > maxDepth || !b.visit() {
		return nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 1 {
			return walk(n.Content[0], t, path, depth+1, b)
		}
		return nil
	case yaml.AliasNode:
		if n.Alias == nil {
			return nil
		}
		b.aliasDepth++
		defer func() { b.aliasDepth-- }()
		return walk(n.Alias, t, path, depth+1, b)
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if err := check(n, t, path); err != nil || refuses(t) {
		return err
	}
	switch t.Kind() {
	case reflect.Struct, reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		return pairs(n, t, path, depth, b, map[string]bool{})
	case reflect.Slice, reflect.Array:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			if err := walk(c, t.Elem(), path+"["+strconv.Itoa(i)+"]", depth+1, b); err != nil {
				return err
			}
		}
	}
	return nil
}

// pairs walks the entries of mapping n into t, a struct or a map, in the
// decoder's order: n's own keys, then those of the mappings its merge key
// ("<<") names that neither n nor an earlier one of them set (set holds
// the keys set so far).
func pairs(n *yaml.Node, t reflect.Type, path string, depth int, b *budget, set map[string]bool) error {
	var merge *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge" {
			merge = v
			continue
		}
		if !b.visit() { // the decoder counts each key it decodes, as a node
			return nil
		}
		if t.Kind() == reflect.Map {
			at := path + "[" + k.Value + "]"
			kt := t.Key()
			for kt.Kind() == reflect.Pointer {
				kt = kt.Elem()
			}
			if err := check(k, kt, at); err != nil {
				return err
			}
			if set[k.Value] {
				continue
			}
			set[k.Value] = true
			if err := walk(v, t.Elem(), at, depth+1, b); err != nil {
				return err
			}
			continue
		}
		if set[k.Value] {
			continue
		}
		set[k.Value] = true
		if ft, ok := field(t, k.Value, 0); ok {
			if err := walk(v, ft, join(path, k.Value), depth+1, b); err != nil {
				return err
			}
		}
	}
	if merge == nil {
		return nil
	}
	return merged(merge, t, path, depth+1, b, set)
}

// merged walks the mapping, or the list of mappings, that a merge key
// names into t (see pairs).
func merged(n *yaml.Node, t reflect.Type, path string, depth int, b *budget, set map[string]bool) error {
	if depth > maxDepth || !b.visit() {
		return nil
	}
	switch n.Kind {
	case yaml.AliasNode:
		if n.Alias == nil || n.Alias.Kind == yaml.SequenceNode {
			return nil // the decoder refuses a merged list that is an alias
		}
		b.aliasDepth++
		defer func() { b.aliasDepth-- }()
		return merged(n.Alias, t, path, depth+1, b, set)
	case yaml.MappingNode:
		return pairs(n, t, path, depth, b, set)
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if c.Kind == yaml.SequenceNode {
				continue
			}
			if err := merged(c, t, path, depth+1, b, set); err != nil {
				return err
			}
		}
	}
	return nil
}

// refuses reports whether values of t decode through their own method,
// so that walk does not look inside them.
func refuses(t reflect.Type) bool {
	p := reflect.PointerTo(t)
	return p.Implements(yamlUnmarshaler) || p.Implements(textUnmarshaler)
}

// check decodes n into a new t through t's own method, as the decoder
// would, and returns its error located at path.
func check(n *yaml.Node, t reflect.Type, path string) error {
	v := reflect.New(t).Interface()
	var err error
	switch u := v.(type) {
	case yaml.Unmarshaler:
		err = u.UnmarshalYAML(n)
	case encoding.TextUnmarshaler:
		if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!null" {
			return nil
		}
		err = u.UnmarshalText([]byte(n.Value))
	default:
		return nil
	}
	if err == nil {
		return nil
	}
	var inv *provider.InvalidError
	if errors.As(err, &inv) {
		inv.Field = path
		return fmt.Errorf("line %d, column %d: %w", n.Line, n.Column, err)
	}
	return fmt.Errorf("line %d, column %d: %s: %w", n.Line, n.Column, path, err)
}

// field returns the type of t's field that the key names, as the decoder
// matches them: the name in its yaml tag, or its name in lower case, and
// the fields of inline structs (embedded ones too when unexported, whose
// exported fields the decoder fills).
func field(t reflect.Type, key string, depth int) (reflect.Type, bool) {
	if depth > maxDepth {
		return nil, false
	}
	for f := range t.Fields() {
		if !f.IsExported() && !f.Anonymous {
			continue
		}
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" {
			continue
		}
		if inline(opts) {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				if t, ok := field(ft, key, depth+1); ok {
					return t, true
				}
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		if name == key {
			return f.Type, true
		}
	}
	return nil, false
}

func inline(opts string) bool {
	for o := range strings.SplitSeq(opts, ",") {
		if o == "inline" {
			return true
		}
	}
	return false
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

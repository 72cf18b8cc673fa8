package detector

import (
	"go.yaml.in/yaml/v3"
)

// emptyField is a map or slice field of a configuration whose non-nil
// empty value means something other than nil (none rather than the
// default), which YAML's omitempty would leave out.
type emptyField struct {
	key   string // its YAML key
	empty bool   // non-nil and empty
	seq   bool   // a slice: [] rather than {}
}

// emptyMap describes the map field m, named key in YAML.
func emptyMap[K comparable, V any](key string, m map[K]V) emptyField {
	return emptyField{key: key, empty: m != nil && len(m) == 0}
}

// emptySlice describes the slice field s, named key in YAML.
func emptySlice[E any](key string, s []E) emptyField {
	return emptyField{key: key, empty: s != nil && len(s) == 0, seq: true}
}

// yamlKeepingEmpty returns what a configuration's MarshalYAML encodes:
// plain (the configuration converted to a type without the method) as
// its fields are tagged, and, after them, each of fields that is empty
// as {} or []: omitempty leaves it out, and read back it would be nil,
// the default, instead of none.
func yamlKeepingEmpty(plain any, fields ...emptyField) (any, error) {
	var n *yaml.Node
	for _, f := range fields {
		if !f.empty {
			continue
		}
		if n == nil {
			n = new(yaml.Node)
			if err := n.Encode(plain); err != nil {
				return nil, err
			}
		}
		v := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Style: yaml.FlowStyle}
		if f.seq {
			v = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq", Style: yaml.FlowStyle}
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: f.key}, v)
	}
	if n == nil {
		return plain, nil
	}
	return n, nil
}

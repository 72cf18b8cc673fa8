package etcdagree_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdagree"
)

type conf struct {
	Period  int            `json:"period"`
	Targets map[string]int `json:"targets,omitempty"`
	Tags    []string       `json:"tags,omitempty"`
	Sub     struct {
		Step int `json:"step"`
	} `json:"sub"`
}

// TestFingerprintIsCanonical: the same configuration hashes alike whatever
// the order its maps were built in; another value hashes differently.
func TestFingerprintIsCanonical(t *testing.T) {
	t.Parallel()
	a := conf{Period: 1, Targets: map[string]int{"web": 1, "db": 2}}
	b := conf{Period: 1, Targets: map[string]int{"db": 2, "web": 1}}
	fa, err := etcdagree.NewFingerprint("a", a)
	require.NoError(t, err)
	fb, err := etcdagree.NewFingerprint("b", b)
	require.NoError(t, err)
	assert.Equal(t, fa.Hash, fb.Hash)
	assert.JSONEq(t, `{"period":1,"targets":{"db":2,"web":1},"sub":{"step":0}}`, string(fa.Config))
	b.Targets["db"] = 3
	fb, err = etcdagree.NewFingerprint("b", b)
	require.NoError(t, err)
	assert.NotEqual(t, fa.Hash, fb.Hash)

	_, err = etcdagree.NewFingerprint("a", []int{1})
	require.Error(t, err, "not an object")
	_, err = etcdagree.NewFingerprint("a", map[string]any{"f": func() {}})
	require.Error(t, err, "not JSON")
}

// TestCompare: the fields that differ, by path, with both values; a
// field absent on one side; map keys that are not plain names quoted;
// arrays compared whole; equal configurations give none.
func TestCompare(t *testing.T) {
	t.Parallel()
	mine := conf{Period: 1, Targets: map[string]int{"web-1": 1, "db": 2}, Tags: []string{"x"}}
	theirs := conf{Period: 2, Targets: map[string]int{"web-1": 1, "cache": 3}, Tags: []string{"x", "y"}}
	theirs.Sub.Step = 5
	fm, err := etcdagree.NewFingerprint("a", mine)
	require.NoError(t, err)
	ft, err := etcdagree.NewFingerprint("b", theirs)
	require.NoError(t, err)
	assert.Equal(t, []etcdagree.Diff{
		{Field: "period", Mine: "1", Theirs: "2"},
		{Field: "sub.step", Mine: "0", Theirs: "5"},
		{Field: "tags", Mine: `["x"]`, Theirs: `["x","y"]`},
		{Field: "targets.cache", Theirs: "3"},
		{Field: "targets.db", Mine: "2"},
	}, etcdagree.Compare(fm.Config, ft.Config))
	assert.Empty(t, etcdagree.Compare(fm.Config, fm.Config))
	assert.Equal(t, "targets.db: 2 (here) vs absent", etcdagree.Diff{Field: "targets.db", Mine: "2"}.String())

	empty, err := etcdagree.NewFingerprint("d", map[string]any{"period": 1, "targets": map[string]int{}})
	require.NoError(t, err)
	some, err := etcdagree.NewFingerprint("e", map[string]any{"period": 1, "targets": map[string]int{"db": 2}})
	require.NoError(t, err)
	assert.Equal(t, []etcdagree.Diff{{Field: "targets.db", Theirs: "2"}}, etcdagree.Compare(empty.Config, some.Config), "an empty object is told by the fields under it")
	assert.Equal(t, []etcdagree.Diff{{Field: "targets.db", Mine: "2"}}, etcdagree.Compare(some.Config, empty.Config))
	none, err := etcdagree.NewFingerprint("f", map[string]any{"period": 1})
	require.NoError(t, err)
	assert.Equal(t, []etcdagree.Diff{{Field: "targets", Mine: "{}"}}, etcdagree.Compare(empty.Config, none.Config), "an empty object against none")

	quoted, err := etcdagree.NewFingerprint("c", conf{Period: 1, Targets: map[string]int{"web-1": 2, "db": 2}, Tags: []string{"x"}})
	require.NoError(t, err)
	assert.Equal(t, []etcdagree.Diff{{Field: `targets["web-1"]`, Mine: "1", Theirs: "2"}}, etcdagree.Compare(fm.Config, quoted.Config))
}

// TestParse: a fingerprint reads back; an unreadable one is an error
// matching ErrMalformed that names the key, never a panic.
func TestParse(t *testing.T) {
	t.Parallel()
	good, err := etcdagree.NewFingerprint("r1", conf{Period: 3})
	require.NoError(t, err)
	val, err := json.Marshal(good)
	require.NoError(t, err)
	got, err := etcdagree.Parse("k/r1", val)
	require.NoError(t, err)
	assert.Equal(t, good, got)

	tests := []struct {
		name string
		give string
	}{
		{"empty", ""},
		{"not JSON", "{"},
		{"an array", "[1]"},
		{"no id", `{"fingerprint":"` + good.Hash + `","config":{"period":3}}`},
		{"no config", `{"id":"r1","fingerprint":"` + good.Hash + `"}`},
		{"config not an object", `{"id":"r1","fingerprint":"` + good.Hash + `","config":[1]}`},
		{"config a string", `{"id":"r1","fingerprint":"` + good.Hash + `","config":"{}"}`},
		{"another config's hash", `{"id":"r1","fingerprint":"` + good.Hash + `","config":{"period":4}}`},
		{"no hash", `{"id":"r1","config":{"period":3}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := etcdagree.Parse("k/bad", []byte(tt.give))
			require.ErrorIs(t, err, etcdagree.ErrMalformed)
			assert.ErrorContains(t, err, `"k/bad"`)
		})
	}
}

// TestConflict: Conflict names the replicas that differ in the fields
// asked about (or under them), and every unreadable one; none when no
// mismatch touches them.
func TestConflict(t *testing.T) {
	t.Parallel()
	st := etcdagree.Status{Checked: true, Mismatches: []etcdagree.Mismatch{
		{Replica: "b", Key: "p/b", Fields: []etcdagree.Diff{{Field: "period", Mine: "1", Theirs: "2"}}},
		{Replica: "c", Key: "p/c", Fields: []etcdagree.Diff{{Field: "prefixes", Mine: "1", Theirs: "2"}, {Field: "shards.shards", Mine: "4", Theirs: "8"}}},
	}}
	require.NoError(t, st.Conflict("prefix"), "prefixes is not under prefix")
	err := st.Conflict("shards")
	require.ErrorIs(t, err, etcdagree.ErrMismatch)
	require.ErrorContains(t, err, `replica c (key "p/c"): prefixes: 1 (here) vs 2; shards.shards: 4 (here) vs 8`)
	assert.NotContains(t, err.Error(), "replica b")
	err = st.Conflict()
	require.ErrorContains(t, err, `replica b (key "p/b"): period: 1 (here) vs 2`)

	_, perr := etcdagree.Parse("p/d", []byte("{"))
	st.Mismatches = append(st.Mismatches, etcdagree.Mismatch{Replica: "d", Key: "p/d", Err: perr})
	err = st.Conflict("prefix")
	require.ErrorIs(t, err, etcdagree.ErrMismatch)
	require.ErrorIs(t, err, etcdagree.ErrMalformed)
	require.ErrorContains(t, err, `"p/d"`)
	require.NoError(t, etcdagree.Status{Checked: true}.Conflict())
}

// TestComparePaths: a key of letters, digits and underscores (the ends of
// each range included) is a plain path step; any other character, or an
// empty key, is quoted.
func TestComparePaths(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ key, field string }{
		{"az", "targets.az"}, {"AZ", "targets.AZ"}, {"09", "targets.09"}, {"_", "targets._"},
		{"a-z", `targets["a-z"]`}, {"a z", `targets["a z"]`}, {"`", "targets[\"`\"]"}, {"{", `targets["{"]`},
		{"@", `targets["@"]`}, {"[", `targets["["]`}, {"/", `targets["/"]`}, {":", `targets[":"]`}, {"", `targets[""]`},
	} {
		mine, err := etcdagree.NewFingerprint("a", map[string]any{"targets": map[string]int{tc.key: 1}})
		require.NoError(t, err)
		theirs, err := etcdagree.NewFingerprint("b", map[string]any{"targets": map[string]int{tc.key: 2}})
		require.NoError(t, err)
		assert.Equal(t, []etcdagree.Diff{{Field: tc.field, Mine: "1", Theirs: "2"}}, etcdagree.Compare(mine.Config, theirs.Config), "key %q", tc.key)
	}
}

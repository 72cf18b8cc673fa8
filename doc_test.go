package idlescale_test

import (
	"bufio"
	"go/build"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/idlescale/idlescale/"

// mapEntry is a package line of the package doc's map: a tab, the
// package's path, and its description after spaces.
var mapEntry = regexp.MustCompile(`^//\t([a-z][a-z0-9/]*)\s`)

// The package doc's "Map of the SDK" says that imports only go downward
// in its list: every package it lists imports only packages listed above
// it. Checked on the packages' own (non-test) imports.
func TestMapImportsGoDownward(t *testing.T) {
	t.Parallel()
	f, err := os.Open("doc.go")
	require.NoError(t, err)
	defer f.Close()
	var order []string
	in := false
	for sc := bufio.NewScanner(f); sc.Scan(); {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "// # Map of the SDK"):
			in = true
		case in && strings.HasPrefix(line, "// # "):
			in = false
		case in:
			if m := mapEntry.FindStringSubmatch(line); m != nil {
				order = append(order, m[1])
			}
		}
	}
	require.Greater(t, len(order), 20, "the map's packages")
	for i, p := range order {
		pkg, err := build.ImportDir(filepath.FromSlash(p), 0)
		require.NoError(t, err, p)
		for _, imp := range pkg.Imports {
			dep, ok := strings.CutPrefix(imp, module)
			if !ok {
				continue
			}
			if j := slices.Index(order, dep); j >= 0 {
				assert.Less(t, j, i, "%s imports %s, which the map lists below it", p, dep)
			}
		}
	}
}

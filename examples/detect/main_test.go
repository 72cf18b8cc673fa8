package main

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDetectRuns(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, filepath.Join("..", "..", "testdata")))
	s := out.String()
	t.Log(s)
	checked := map[string]int{}
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "i-") || f[1] == "is" {
			continue
		}
		if _, err := strconv.ParseFloat(f[2], 64); err == nil && len(f) == 5 { // the verdict table: ID STATE CONFIDENCE ACTION SAVES
			switch f[0] {
			case "i-c6585a", "i-24ae8d", "i-53ea38":
				// Always below 3 % CPU for two weeks: stopped.
				assert.Equal(t, "stop", f[3], line)
			default:
				// A sample above 50 % in the two weeks: never stopped.
				assert.Contains(t, []string{"none", "schedule"}, f[3], line)
			}
			checked["actions"]++
		}
		switch f[0] {
		case "i-c6585a", "i-24ae8d":
			assert.Equal(t, "idle", f[1], line)
			checked[f[0]]++
		case "i-825cc2", "i-5f5533", "i-ac20cd":
			assert.Equal(t, "not_idle", f[1], line)
			checked[f[0]]++
		}
	}
	// Each instance has a row in the verdict table and in the comparison
	// with the fixed rules.
	for _, id := range []string{"i-c6585a", "i-24ae8d", "i-825cc2", "i-5f5533", "i-ac20cd"} {
		assert.Equal(t, 2, checked[id], "rows checked for %s", id)
	}
	assert.Equal(t, 8, checked["actions"], "every instance's action checked")
	assert.Contains(t, s, "i-c6585a is idle")
	assert.Contains(t, s, "i-24ae8d is idle")
	assert.NotContains(t, s, "error:")
}

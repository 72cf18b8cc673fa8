package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The example replays a trace end to end: its table names every policy,
// the rate-limited table follows, and the JSON and SVG files it writes
// are a report and a drawing.
func TestReplayAppServer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	jsonOut, svgOut := filepath.Join(dir, "report.json"), filepath.Join(dir, "week.svg")
	var out bytes.Buffer
	require.NoError(t, run(t.Context(), &out, "../../testdata", "app-server", jsonOut, svgOut, true))
	got := out.String()
	assert.True(t, strings.HasPrefix(got, "app-server: 1344 steps of 1h0m0s"), "%s", got)
	assert.Regexp(t, `(?m)^ +hpa +\d`, got, "Kubernetes' HPA algorithm has its row")
	for _, want := range []string{"oracle", "predictive", "reactive", "reactive+headroom",
		"with the default rate limits", "predictive (rate limited)", "rolling MASE"} {
		assert.Contains(t, got, want)
	}
	b, err := os.ReadFile(jsonOut)
	require.NoError(t, err)
	var rep map[string]any
	require.NoError(t, json.Unmarshal(b, &rep), "the JSON report")
	assert.NotEmpty(t, rep)
	svg, err := os.ReadFile(svgOut)
	require.NoError(t, err)
	assert.Contains(t, string(svg), "<svg")
}

func TestReplayUnknownTrace(t *testing.T) {
	t.Parallel()
	err := run(t.Context(), &bytes.Buffer{}, "../../testdata", "nope", "", "", true)
	require.ErrorContains(t, err, "no trace named nope")
}

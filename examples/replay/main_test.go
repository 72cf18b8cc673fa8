package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
	// The first table's figures, as the README states them: the predictive
	// policy keeps the violation share τ_U under 5 % where the reactive
	// policies miss far more often, at most 1.10× the oracle's cost on
	// this hourly trace, with no more changes than the oracle; the
	// reactive policy with headroom is given just enough for 5 %.
	first, _, ok := strings.Cut(got, "with the default rate limits")
	require.True(t, ok)
	rows := map[string][]float64{}
	for _, m := range regexp.MustCompile(`(?m)^ +(\S+) +([\d. ]+)$`).FindAllStringSubmatch(first, -1) {
		var v []float64
		for _, f := range strings.Fields(m[2]) {
			x, err := strconv.ParseFloat(f, 64)
			require.NoError(t, err, m[0])
			v = append(v, x)
		}
		require.Len(t, v, 8, m[0]) // τ_U θ_U θ_O τ_O cost capacity-h changes reversals/h
		rows[m[1]] = v
	}
	require.Len(t, rows, 5, "oracle, predictive, hpa, reactive, reactive+headroom")
	const tauU, cost, changes = 0, 4, 6
	assert.Equal(t, []float64{0, 0, 0, 0, 1}, rows["oracle"][:5], "the oracle never misses, at its own cost")
	assert.LessOrEqual(t, rows["predictive"][tauU], 5.0)
	assert.LessOrEqual(t, rows["predictive"][cost], 1.10)
	assert.LessOrEqual(t, rows["predictive"][changes], rows["oracle"][changes])
	assert.Greater(t, rows["hpa"][tauU], 30.0)
	assert.Greater(t, rows["reactive"][tauU], 30.0)
	assert.InDelta(t, 5.0, rows["reactive+headroom"][tauU], 0.05)

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

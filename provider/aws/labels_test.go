package aws_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestTagValuesNormalised checks that metadata tags are normalised where
// they enter: an environment tag "production " (a trailing space typed in
// the console) is the production environment, and a criticality " High "
// is high.
func TestTagValuesNormalised(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	owner := uniq("team")
	inst := runInstances(t, 1, "t3.micro", map[string]string{
		"Environment": "production ", "role": " database", "Criticality": " High ", "owner": owner + "\u00a0",
	})[0]
	group := createGroup(t, 0, 1, 0, map[string]string{"environment": "\tProduction\u200b"})
	r, err := d.Get(t.Context(), inst)
	require.NoError(t, err)
	assert.Equal(t, "production", r.Environment)
	assert.Equal(t, "database", r.Role)
	assert.Equal(t, provider.CriticalityHigh, r.Criticality)
	assert.Equal(t, owner, r.Owner)
	assert.Equal(t, "production ", r.Tags["Environment"], "tags are copied verbatim")
	g, err := d.Get(t.Context(), group)
	require.NoError(t, err)
	assert.Equal(t, "Production", g.Environment)
}

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

// TestMetadataTagsInTwoCases: EC2 tag keys are case-sensitive, so an
// instance may carry a metadata tag twice in different cases. A
// protection tag in either case that says protected protects it, and two
// criticalities (or environments) that disagree make it protected, as a
// malformed one does, whichever case comes first: the protection tag
// spelled exactly as configured, saying false, hid the other one saying
// true, and of two spellings neither exact one was taken at random.
func TestMetadataTagsInTwoCases(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	tests := []struct {
		name string
		give map[string]string
	}{
		{"protection false and PROTECTION true", map[string]string{"idlescale:protected": "false", "IDLESCALE:PROTECTED": "true"}},
		{"protection no and Protection yes", map[string]string{"Idlescale:Protected": "no", "IDLESCALE:protected": "yes"}},
		{"criticality low and CRITICALITY critical", map[string]string{"Criticality": "low", "CRITICALITY": "critical"}},
		{"environment dev and Environment production", map[string]string{"environment": "dev", "Environment": "production"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			inst := runInstances(t, 1, "t3.micro", tt.give)[0]
			for range 5 { // the map's order varies from read to read
				r, err := d.Get(t.Context(), inst)
				require.NoError(t, err)
				assert.True(t, r.Protected, "%v", r.Tags)
			}
		})
	}
	same := runInstances(t, 1, "t3.micro", map[string]string{"Criticality": " High", "CRITICALITY": "high", "Name": "web", "name": "old"})[0]
	r, err := d.Get(t.Context(), same)
	require.NoError(t, err)
	assert.False(t, r.Protected, "two spellings that agree, and names that do not (no metadata)")
	assert.Equal(t, provider.CriticalityHigh, r.Criticality)
	assert.Equal(t, "web", r.Name, "the spelling exactly as asked")
}

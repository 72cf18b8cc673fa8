package prometheus_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/prometheus"
)

// TestLabelsNormalised checks that target labels mapped onto a resource
// are normalised where they enter: white space and invisible characters
// around a label do not make "production " another environment.
func TestLabelsNormalised(t *testing.T) {
	t.Parallel()
	srv := (&fakeServer{version: "2.42.0", vector: `[{"metric":{"__name__":"up","instance":"i-1","environment":" production ","role":"database\u200b","owner":"team  a"},"value":[1700000000,"1"]}]`}).start(t)
	src := newSource(t, prometheus.Config{Address: srv.URL})
	r, err := src.Get(t.Context(), "i-1")
	require.NoError(t, err)
	assert.Equal(t, "production", r.Environment)
	assert.Equal(t, "database", r.Role)
	assert.Equal(t, "team a", r.Owner)
	assert.Equal(t, " production ", r.Tags["environment"], "tags are copied verbatim")
	got, err := src.List(t.Context(), provider.Filter{Environment: "production"})
	require.NoError(t, err)
	assert.Len(t, got, 1)
}

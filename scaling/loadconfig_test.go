package scaling_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/scaling"
)

// TestLoadConfigFileRefusesWhatIsNotAPolicy: LoadConfigFile reads a
// regular file of at most MaxConfigBytes, and refuses anything else
// with an error that names the path and matches provider.ErrInvalid: a
// device (/dev/zero, which it read for ever, growing without bound), a
// directory, a file over the limit (a log written where the policy
// was expected, read and parsed whole). ParseConfig refuses more than
// MaxConfigBytes from a reader too.
func TestLoadConfigFileRefusesWhatIsNotAPolicy(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	policy := "targets:\n  - id: web\n    strategies: [{type: threshold}]\n"
	big := filepath.Join(dir, "big.yaml")
	pad := bytes.Repeat([]byte("# a comment line of a policy grown far too long\n"), scaling.MaxConfigBytes/40)
	require.NoError(t, os.WriteFile(big, append([]byte(policy), pad...), 0o600))
	edge := filepath.Join(dir, "edge.yaml")
	require.NoError(t, os.WriteFile(edge, append([]byte(policy), pad[:scaling.MaxConfigBytes-len(policy)]...), 0o600))

	c, err := scaling.LoadConfigFile(edge)
	require.NoError(t, err, "a policy of exactly MaxConfigBytes is read")
	require.Len(t, c.Targets, 1)

	paths := []string{big, dir}
	if runtime.GOOS != "windows" {
		paths = append(paths, "/dev/zero")
	}
	for _, path := range paths {
		_, err := scaling.LoadConfigFile(path)
		require.ErrorIs(t, err, provider.ErrInvalid, path)
		assert.True(t, strings.HasPrefix(err.Error(), path+": "), err.Error())
	}

	_, err = scaling.ParseConfig(bytes.NewReader(append([]byte(policy), pad...)))
	require.ErrorIs(t, err, provider.ErrInvalid)
	var ierr *provider.InvalidError
	require.ErrorAs(t, err, &ierr)
	assert.Equal(t, "config", ierr.Field)
	assert.Contains(t, ierr.Reason, "MaxConfigBytes")
}

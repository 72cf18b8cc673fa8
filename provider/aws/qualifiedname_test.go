package aws_test

import (
	"strings"
	"testing"
	"time"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/lambda"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
)

// TestResizeOfAQualifiedFunctionNameChangesNothing: Lambda takes a
// function's name with a version or an alias ("fn:1", "fn:prod") as a
// FunctionName, as it takes the qualified ARN. Resize refused a
// qualified ARN (TestResizeOfAVersionOrAliasChangesNothing) but not a
// qualified name: resolved by GetFunction to the version, it was resized
// as that version (moto changed the published version's memory, which
// Lambda keeps fixed) or reported nothing to change when the version
// already had the size, while $LATEST kept its own. It is now
// provider.ErrUnsupported naming the qualifier, as for the ARN, before
// any change.
func TestResizeOfAQualifiedFunctionNameChangesNothing(t *testing.T) {
	t.Parallel()
	d := newDriver(t)
	arn := createFunction(t, 128, 3, nil)
	name := arn[strings.LastIndex(arn, ":")+1:]
	c := sdk().lambda
	v, err := c.PublishVersion(tctx(t), &lambda.PublishVersionInput{FunctionName: &name})
	require.NoError(t, err)
	_, err = c.CreateAlias(tctx(t), &lambda.CreateAliasInput{FunctionName: &name, Name: awssdk.String("prod"), FunctionVersion: v.Version})
	require.NoError(t, err)
	memory := func(fn string) int32 {
		t.Helper()
		cfg, err := c.GetFunctionConfiguration(tctx(t), &lambda.GetFunctionConfigurationInput{FunctionName: &fn})
		require.NoError(t, err)
		return awssdk.ToInt32(cfg.MemorySize)
	}
	for _, q := range []string{awssdk.ToString(v.Version), "prod"} {
		err := d.Resize(tctx(t), name+":"+q, provider.Size{MemoryMiB: 512, Timeout: 30 * time.Second})
		require.ErrorIs(t, err, provider.ErrUnsupported, q)
		assert.Contains(t, err.Error(), q)
		assert.True(t, provider.ChangedNothing(err), q)
		assert.Equal(t, int32(128), memory(name+":"+q), "%s: the version is not changed", q)
		assert.Equal(t, int32(128), memory(name), "%s: nor $LATEST", q)
	}
	// The version's own size is no size of $LATEST to be left alone.
	err = d.Resize(tctx(t), name+":prod", provider.Size{MemoryMiB: 128, Timeout: 3 * time.Second})
	require.ErrorIs(t, err, provider.ErrUnsupported)
}

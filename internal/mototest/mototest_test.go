//go:build unix

package mototest_test

import (
	"net/http"
	"testing"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/smithy-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/mototest"
)

func TestStartResetClose(t *testing.T) {
	srv, err := mototest.Start(t.Context())
	require.NoError(t, err)
	require.NoError(t, srv.Reset(t.Context()))
	resp, err := http.Get(srv.URL + "/moto-api/data.json")
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)

	srv.Close()
	srv.Close() // idempotent
	_, err = http.Get(srv.URL + "/moto-api/data.json")
	require.Error(t, err, "the whole process group is gone, the port answers no more")
}

func TestMissingBinaryIsAnError(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := mototest.Start(t.Context())
	require.ErrorIs(t, err, mototest.ErrNoMoto)
}

// A server enforcing IAM lets the free calls through (the readiness polls
// of /moto-api/ are not among them) and refuses the next one signed with
// a key no IAM user has, as AWS does.
func TestStartEnforcingIAM(t *testing.T) {
	srv, err := mototest.StartEnforcingIAM(t.Context(), 1)
	require.NoError(t, err)
	defer srv.Close()
	client := ec2.NewFromConfig(awssdk.Config{
		Region:       "eu-north-1",
		BaseEndpoint: awssdk.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("testing", "testing", ""),
	})
	_, err = client.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{})
	require.NoError(t, err, "the one free call")
	_, err = client.DescribeInstances(t.Context(), &ec2.DescribeInstancesInput{})
	var api smithy.APIError
	require.ErrorAs(t, err, &api)
	assert.Equal(t, "AuthFailure", api.ErrorCode(), "%v", err)

	_, err = mototest.StartEnforcingIAM(t.Context(), -1)
	require.ErrorContains(t, err, "-1 free calls: must not be negative")
}

//go:build unix

package mototest_test

import (
	"net/http"
	"testing"

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

package etcdkv_test

import (
	"testing"
	"time"

	benclock "github.com/benbjohnson/clock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/idlescale/idlescale/clock"
	"github.com/idlescale/idlescale/internal/etcdkv"
	"github.com/idlescale/idlescale/provider"
)

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		give  etcdkv.Config
		field string
	}{
		{etcdkv.Config{RequestTimeout: -1}, "request_timeout"},
		{etcdkv.Config{MaxConflicts: -1}, "max_conflicts"},
		{etcdkv.Config{Prefix: "a\x00b"}, "prefix"},
	}
	for _, tt := range tests {
		var ie *provider.InvalidError
		require.ErrorAs(t, tt.give.Validate(), &ie, tt.field)
		assert.Equal(t, tt.field, ie.Field)
	}
	require.NoError(t, etcdkv.Config{}.Validate())
	require.NoError(t, etcdkv.Config{Prefix: "p/", RequestTimeout: time.Second, MaxRetries: -1}.Validate())
}

func TestConfigWithDefaults(t *testing.T) {
	t.Parallel()
	d := etcdkv.Config{Prefix: "d/", RequestTimeout: time.Second, MaxRetries: 4, MaxConflicts: 200}
	assert.Equal(t, d, etcdkv.Config{}.WithDefaults(d))
	set := etcdkv.Config{Prefix: "p/", RequestTimeout: time.Minute, MaxRetries: 1, MaxConflicts: 2}
	assert.Equal(t, set, set.WithDefaults(d))
	assert.Zero(t, etcdkv.Config{MaxRetries: -1}.WithDefaults(d).MaxRetries, "negative: no retries")

	r := d.Retrier(nil)
	assert.Equal(t, time.Second, r.Timeout)
	assert.Equal(t, 4, r.MaxRetries)
}

func TestCheckClient(t *testing.T) {
	t.Parallel()
	var nilPtr *clientv3.Client
	var asClient etcdkv.Client = nilPtr
	for _, give := range []any{nil, nilPtr, asClient} {
		var ie *provider.InvalidError
		require.ErrorAs(t, etcdkv.CheckClient(give), &ie)
		assert.Equal(t, "client", ie.Field)
	}
	require.NoError(t, etcdkv.CheckClient(&clientv3.Client{}))
}

func TestCheckNew(t *testing.T) {
	t.Parallel()
	var ie *provider.InvalidError
	err := etcdkv.CheckNew("pkg", nil, etcdkv.Config{RequestTimeout: -1})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "client", ie.Field, "the client is checked first")
	assert.Contains(t, err.Error(), "pkg: ")
	err = etcdkv.CheckNew("pkg", &clientv3.Client{}, etcdkv.Config{RequestTimeout: -1})
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "request_timeout", ie.Field)
	assert.Contains(t, err.Error(), "pkg: config: ")
	require.NoError(t, etcdkv.CheckNew("pkg", &clientv3.Client{}, etcdkv.Config{}))
}

// TestClockOf: nil is the real clock, a clock is itself, and a nil
// pointer (not a nil interface) is an error naming the field and the
// package.
func TestClockOf(t *testing.T) {
	t.Parallel()
	c, err := etcdkv.ClockOf("pkg", nil)
	require.NoError(t, err)
	assert.Equal(t, clock.Real{}, c)
	mock := benclock.NewMock()
	c, err = etcdkv.ClockOf("pkg", mock)
	require.NoError(t, err)
	assert.Same(t, mock, c)
	_, err = etcdkv.ClockOf("pkg", (*benclock.Mock)(nil))
	var ie *provider.InvalidError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "clock", ie.Field)
	assert.Contains(t, err.Error(), "pkg: ")
}

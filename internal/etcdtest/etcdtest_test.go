package etcdtest_test

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdtest"
)

func TestMain(m *testing.M) {
	etcdtest.RunChildIfRequested()
	os.Exit(m.Run())
}

func TestSingleMember(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{NoFsync: true})
	require.Len(t, c.Members, 1)
	cli := c.Client(t)
	_, err := cli.Put(t.Context(), "k", "v")
	require.NoError(t, err)
	resp, err := cli.Get(t.Context(), "k")
	require.NoError(t, err)
	require.Len(t, resp.Kvs, 1)
	assert.Equal(t, "v", string(resp.Kvs[0].Value))
	assert.Zero(t, c.Members[0].Pid())
	require.Error(t, c.Members[0].Kill(), "an in-process member cannot be killed")
	c.Members[0].Stop()
	c.Members[0].Stop() // idempotent
	assert.Empty(t, c.Endpoints())
}

func TestChildMemberIsKilled(t *testing.T) {
	t.Parallel()
	c := etcdtest.New(t, etcdtest.Options{Members: 3, Child: []int{2}, NoFsync: true})
	child := c.Members[2]
	require.NotZero(t, child.Pid())
	cli := c.Client(t, c.Members[0].ClientURL, c.Members[1].ClientURL)
	id, err := child.ID(t.Context(), cli)
	require.NoError(t, err)
	assert.NotZero(t, id)
	require.NoError(t, child.Kill())
	// The two survivors keep a quorum. A Put that meets the election (when
	// the child led) fails and is not retried by the client: retry it.
	deadline := time.NewTimer(10 * time.Second)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		_, err = cli.Put(ctx, "after", "kill")
		cancel()
		if err == nil {
			break
		}
		select {
		case <-deadline.C:
			t.Fatalf("no write accepted within 10s of the kill: %v", err)
		case <-tick.C:
		}
	}
	assert.Len(t, c.Endpoints(), 2)
}

func TestInvalidOptions(t *testing.T) {
	t.Parallel()
	_, err := etcdtest.Start(t.TempDir(), etcdtest.Options{Members: -1})
	require.Error(t, err)
	_, err = etcdtest.Start(t.TempDir(), etcdtest.Options{Members: 1, Child: []int{3}})
	require.Error(t, err)
}

// run is one run of a test called name: go test -count=2 runs a test
// twice with the same name and a new testing.T.
type run struct {
	testing.TB
	name string
}

func (r *run) Name() string { return r.name }

// KeyPrefix is stable within a test and new for every run of it, so
// that go test -count=2 does not see the keys of the first run.
func TestKeyPrefixUniquePerRun(t *testing.T) {
	t.Parallel()
	first, second := &run{t, "TestX/sub"}, &run{t, "TestX/sub"}
	p := etcdtest.KeyPrefix(first)
	assert.Equal(t, p, etcdtest.KeyPrefix(first), "the same run: the same prefix")
	assert.True(t, strings.HasPrefix(p, "test/TestX_sub/"), p)
	assert.True(t, strings.HasSuffix(p, "/"), p)
	q := etcdtest.KeyPrefix(second)
	assert.True(t, strings.HasPrefix(q, "test/TestX_sub/"), q)
	assert.NotEqual(t, p, q, "a second run of the same test gets a fresh prefix")
	assert.False(t, strings.HasPrefix(q, p) || strings.HasPrefix(p, q), "neither keyspace contains the other: %s %s", p, q)
}

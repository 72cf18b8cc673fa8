package etcdaudit_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/internal/etcdtest"
	"github.com/idlescale/idlescale/safety/etcdaudit"
)

// A value under the trail that is not an event (null, {}, an object
// without a time, which Record refuses to write) cannot be read: Events
// and EventsAfter fail with ErrStore naming its key, as for a value that
// is not JSON. They returned it as an event of the zero time and no kind,
// which monitor.ImportAuditAfter then refused by its place in the batch
// only, and Events since a time left it out without a word.
func TestEventWithoutTimeIsUnreadable(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	cli := cluster.Dial(t)
	pfx := etcdtest.KeyPrefix(t)
	log, err := etcdaudit.New(etcdaudit.Config{Prefix: pfx}, cli)
	require.NoError(t, err)
	key := pfx + "audit/1772445600000000000-0000000000000001"
	for _, val := range []string{`null`, `{}`, `{"kind":"decision","actor":"reaper"}`} {
		_, err = cli.Put(ctx, key, val)
		require.NoError(t, err)
		_, err = log.Events(ctx, time.Time{})
		require.ErrorIs(t, err, etcdaudit.ErrStore, val)
		assert.Contains(t, err.Error(), key, val)
		_, err = log.Events(ctx, time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC))
		require.ErrorIs(t, err, etcdaudit.ErrStore, val)
		_, _, err = log.EventsAfter(ctx, 0)
		require.ErrorIs(t, err, etcdaudit.ErrStore, val)
		assert.Contains(t, err.Error(), key, val)
	}
}

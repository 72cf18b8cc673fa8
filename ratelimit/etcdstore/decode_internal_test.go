package etcdstore

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
)

// decode refuses what no replica writes, at each bound: a zero ID, units
// not positive, times outside 1900..2200 (the first instant of 1900 is
// in, of 2200 out), events out of order; an old array value reads as it
// is.
func TestDecodeBounds(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 2, 3, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		name string
		val  string
		ok   bool
	}{
		{"valid", `{"events":[{"id":1,"at":"2026-03-02T03:00:00Z","units":1},{"id":2,"at":"2026-03-02T03:00:00Z","units":2}]}`, true},
		{"an array, as written before the horizon", `  [{"id":1,"at":"2026-03-02T03:00:00Z","units":1}]`, true},
		{"first instant of 1900", `[{"id":1,"at":"1900-01-01T00:00:00Z","units":1}]`, true},
		{"last instant before 2200", `[{"id":1,"at":"2199-12-31T23:59:59.999999999Z","units":1}]`, true},
		{"1899", `[{"id":1,"at":"1899-12-31T23:59:59Z","units":1}]`, false},
		{"2200", `[{"id":1,"at":"2200-01-01T00:00:00Z","units":1}]`, false},
		{"zero id", `[{"id":0,"at":"2026-03-02T03:00:00Z","units":1}]`, false},
		{"zero units", `[{"id":1,"at":"2026-03-02T03:00:00Z","units":0}]`, false},
		{"out of order", `[{"id":1,"at":"2026-03-02T03:00:01Z","units":1},{"id":2,"at":"2026-03-02T03:00:00Z","units":1}]`, false},
		{"horizon in 1900", `{"events":[],"horizon":"1900-01-01T00:00:00Z"}`, true},
		{"horizon in 1899", `{"events":[],"horizon":"1899-12-31T23:59:59Z"}`, false},
		{"horizon in 2200", `{"events":[],"horizon":"2200-01-01T00:00:00Z"}`, false},
		{"not JSON", `{"events":`, false},
		{"empty", ``, false},
		{"white space only", " \n", false},
	} {
		_, err := decode("k", []byte(tt.val))
		if tt.ok {
			require.NoError(t, err, tt.name)
			continue
		}
		require.ErrorIs(t, err, ratelimit.ErrCorrupt, tt.name)
		assert.Contains(t, err.Error(), `key "k"`, tt.name)
	}
	h, err := decode("k", []byte(`[{"id":7,"at":"2026-03-02T03:00:00Z","units":3}]`))
	require.NoError(t, err)
	require.Len(t, h.Events, 1)
	assert.Equal(t, ratelimit.Event{ID: 7, At: at, Units: 3}, h.Events[0])
}

// A lease shorter than 25 s is refused; exactly 25 s is the least.
func TestLeaseTTLBound(t *testing.T) {
	t.Parallel()
	require.NoError(t, Config{LeaseTTL: 25 * time.Second}.Validate())
	require.ErrorIs(t, Config{LeaseTTL: 25*time.Second - time.Nanosecond}.Validate(), provider.ErrInvalid)
}

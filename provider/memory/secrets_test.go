package memory_test

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

// Credentials planted in IDs, fields and fleet files.
const (
	plantedPassword = "Pl4nted-pw-memory"
	plantedToken    = "plantedBearerTokenValue42"
	plantedKeyID    = "AKIAPLANTEDMEMORY000"
)

func assertNoSecret(t *testing.T, what, text string) {
	t.Helper()
	for _, s := range []string{plantedPassword, plantedToken, plantedKeyID} {
		assert.NotContains(t, text, s, "%s leaks a planted credential", what)
	}
}

// TestNoSecretsInErrorsOrLogs plants credentials where a host could put
// them (a URL with userinfo as an ID or a field, a bearer token or an
// access key in a fleet file) and scans the errors of the failure paths
// and the log for them.
func TestNoSecretsInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	var logs bytes.Buffer // the Cloud logs on the calling goroutine
	c, err := memory.New(memory.Config{}, memory.WithClock(newMock()),
		memory.WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	ctx := t.Context()
	urlID := "https://admin:" + plantedPassword + "@db.internal/orders"
	// An ID that is a URL with a password: accepted, acted on, logged.
	require.NoError(t, c.Add(provider.Resource{ID: urlID, Kind: provider.KindInstance}))
	require.NoError(t, c.Stop(ctx, urlID))

	var errs []error
	add := func(err error) { errs = append(errs, err) }
	missing := "https://admin:" + plantedPassword + "@db.internal/missing"
	_, err = c.Get(ctx, missing)
	add(err)
	add(c.Start(ctx, missing))
	add(c.Stop(ctx, missing))
	add(c.Terminate(ctx, missing))
	_, err = c.Capacity(ctx, missing)
	add(err)
	add(c.SetCapacity(ctx, missing, provider.CapacitySpec{Max: 1}))
	add(c.Resize(ctx, missing, provider.Size{InstanceType: "t3.small"}))
	_, err = c.Backups(ctx, missing, time.Time{})
	add(err)
	add(c.Add(provider.Resource{ID: urlID, Kind: provider.KindInstance})) // exists
	add(c.Add(provider.Resource{ID: "i-2", Kind: provider.KindInstance, TimeZone: "https://u:" + plantedPassword + "@tz"}))
	add(c.Add(provider.Resource{ID: "Bearer " + plantedToken, Kind: provider.KindInstance}))
	add(c.AddSamples(missing, provider.MetricCPU, provider.Sample{Time: epoch, Value: 1}))
	add(c.RecordActivity(missing, provider.ActivityLogins, epoch, 1))

	dir := t.TempDir()
	// A CSV whose header line carries a credential.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "cpu.csv"), []byte("aws_access_key_id="+plantedKeyID+",token=Bearer "+plantedToken+"\n1,2\n"), 0o600))
	for i, doc := range []string{
		"resources: [{id: x, kind: instance, hourly_cost: \"Bearer " + plantedToken + "\"}]",
		"resources: [{id: x, kind: instance, launch_ago: " + plantedKeyID + "}]",
		"resources: [{id: x, kind: instance, time_zone: \"https://u:" + plantedPassword + "@tz\"}]",
		"resources: [{id: x, kind: instance, metrics: [{metric: cpu, csv: \"https://u:" + plantedPassword + "@host/cpu.csv\"}]}]",
		"resources: [{id: x, kind: instance, metrics: [{metric: cpu, csv: cpu.csv}]}]",
	} {
		path := filepath.Join(dir, "fleet"+string(rune('a'+i))+".yaml")
		require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
		add(c.LoadFleetFile(path))
	}

	for i, err := range errs {
		require.Error(t, err, "call %d", i)
		assertNoSecret(t, "error "+string(rune('a'+i)), err.Error())
	}
	out := logs.String()
	require.NotEmpty(t, out)
	assert.Contains(t, out, "db.internal", "the log still names the resource")
	assertNoSecret(t, "log", out)
}

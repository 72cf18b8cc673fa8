package memory_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/provider/memory"
)

const cpuCSV = "timestamp,value\n2014-01-01 00:00:00,1\n2014-01-01 00:05:00,2\n"

// fleetDir lays out a fleet directory with a CSV inside it, one beside it
// (outside) and symbolic links in and out, and returns the fleet
// directory.
func fleetDir(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	dir := filepath.Join(root, "fleet")
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "data"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "data", "cpu.csv"), []byte(cpuCSV), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(root, "outside.csv"), []byte(cpuCSV), 0o600))
	require.NoError(t, os.Symlink(filepath.Join(root, "outside.csv"), filepath.Join(dir, "link-out.csv")))
	require.NoError(t, os.Symlink("../outside.csv", filepath.Join(dir, "rel-link-out.csv")))
	require.NoError(t, os.Symlink("/dev/zero", filepath.Join(dir, "zero.csv")))
	require.NoError(t, os.Symlink("data/cpu.csv", filepath.Join(dir, "link-in.csv")))
	require.NoError(t, os.Symlink(root, filepath.Join(dir, "up")))
	return dir
}

func writeFleet(t *testing.T, dir, csv string) string {
	t.Helper()
	path := filepath.Join(dir, "fleet.yaml")
	doc := "resources:\n  - id: i-1\n    kind: instance\n    metrics: [{metric: cpu, csv: " + quoteYAML(csv) + "}]\n"
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o600))
	return path
}

func quoteYAML(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// TestFleetCSVStaysInsideItsDirectory checks that a fleet file reads only
// regular files inside its own directory: absolute paths, climbs out,
// symbolic links that lead out, devices and /proc are refused with an
// error naming the field, and nothing of what they hold is quoted.
func TestFleetCSVStaysInsideItsDirectory(t *testing.T) {
	t.Parallel()
	refused := []string{
		"/etc/passwd",
		"/proc/self/environ",
		"/dev/zero",
		"../outside.csv",
		"data/../../outside.csv",
		"link-out.csv",
		"rel-link-out.csv",
		"zero.csv",
		"up/outside.csv",
		"data",
		"",
	}
	for _, csv := range refused {
		t.Run("refuses "+csv, func(t *testing.T) {
			t.Parallel()
			dir := fleetDir(t)
			c, _ := newCloud(t)
			var err error
			if csv == "" {
				err = c.ApplyFleet(memory.Fleet{Resources: []memory.FleetResource{{
					Resource: provider.Resource{ID: "i-1", Kind: provider.KindInstance},
					Metrics:  []memory.FleetMetric{{Metric: provider.MetricCPU, CSV: "/etc/passwd"}},
				}}}, "")
			} else {
				err = c.LoadFleetFile(writeFleet(t, dir, csv))
			}
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, "fleet.resources[0].metrics[0].csv", ie.Field)
			assert.NotContains(t, err.Error(), "root:", "the error quotes /etc/passwd")
			for _, kv := range os.Environ() {
				if _, v, _ := strings.Cut(kv, "="); len(v) >= 8 {
					assert.NotContains(t, err.Error(), v, "the error quotes the environment")
				}
			}
			all, lerr := c.List(t.Context(), provider.Filter{})
			require.NoError(t, lerr)
			assert.Empty(t, all)
		})
	}
	for _, csv := range []string{"data/cpu.csv", "./data/cpu.csv", "link-in.csv", "data/../data/cpu.csv"} {
		t.Run("reads "+csv, func(t *testing.T) {
			t.Parallel()
			dir := fleetDir(t)
			c, _ := newCloud(t)
			require.NoError(t, c.LoadFleetFile(writeFleet(t, dir, csv)))
			q := provider.Query{ResourceID: "i-1", Metric: provider.MetricCPU, Start: epoch.Add(-10 * time.Minute), End: epoch.Add(5 * time.Minute), Step: 5 * time.Minute}
			s, err := c.QueryMetric(t.Context(), q)
			require.NoError(t, err)
			assert.Equal(t, 2, s.Len()-s.Gaps(), "both samples replayed")
		})
	}
}

// TestLoadFleetFSWidensTheRoot checks that a host widens where CSV paths
// may reach by handing over a file system: paths stay relative to the
// fleet file and may climb to the root of the file system, not past it.
func TestLoadFleetFSWidensTheRoot(t *testing.T) {
	t.Parallel()
	dir := fleetDir(t)
	root, err := os.OpenRoot(filepath.Dir(dir))
	require.NoError(t, err)
	t.Cleanup(func() { _ = root.Close() })
	writeFleet(t, dir, "../outside.csv")
	c, _ := newCloud(t)
	require.NoError(t, c.LoadFleetFS(root.FS(), "fleet/fleet.yaml"))
	_, err = c.Get(t.Context(), "i-1")
	require.NoError(t, err)

	for _, csv := range []string{"../../outside.csv", "/etc/passwd", "zero.csv"} {
		writeFleet(t, dir, csv)
		c, _ := newCloud(t)
		err := c.LoadFleetFS(root.FS(), "fleet/fleet.yaml")
		var ie *provider.InvalidError
		require.ErrorAs(t, err, &ie, csv)
		assert.Equal(t, "fleet.resources[0].metrics[0].csv", ie.Field, csv)
	}
	c, _ = newCloud(t)
	require.Error(t, c.LoadFleetFS(root.FS(), "../fleet.yaml"))
	require.ErrorIs(t, c.LoadFleetFS(nil, "fleet.yaml"), provider.ErrInvalid)
}

// TestFleetCSVLimits checks the fleet loader's CSV failures: a huge line,
// a byte-order mark (accepted), a year that cannot be shifted to now.
func TestFleetCSVLimits(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		csv   string
		field string // "" means accepted
	}{
		{"byte-order mark", "\ufeff" + cpuCSV, ""},
		{"huge line", "timestamp,value\n2014-01-01 00:00:00," + strings.Repeat("1", 2<<20) + "\n", "csv line 2"},
		{"year 1", "timestamp,value\n0001-01-01 00:00:00,1\n", "fleet.resources[0].metrics[0].csv"},
		{"year 9999", "timestamp,value\n9999-12-31 00:00:00,1\n", "fleet.resources[0].metrics[0].csv"},
		{"ends 300 years ago", "timestamp,value\n1720-01-01 00:00:00,1\n", "fleet.resources[0].metrics[0].csv"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, "cpu.csv"), []byte(tt.csv), 0o600))
			c, _ := newCloud(t)
			err := c.LoadFleetFile(writeFleet(t, dir, "cpu.csv"))
			if tt.field == "" {
				require.NoError(t, err)
				return
			}
			var ie *provider.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, ie.Field, tt.field)
		})
	}
}

// TestFleetNormalisesLabels checks that labels are normalised where they
// enter: surrounding white space and invisible characters go, case stays.
func TestFleetNormalisesLabels(t *testing.T) {
	t.Parallel()
	c, _ := newCloud(t)
	f, err := memory.ParseFleet(strings.NewReader("resources: [{id: i, kind: instance, environment: \" Production\\u200b \", role: \"database\\t\", owner: \" team a \"}]"))
	require.NoError(t, err)
	require.NoError(t, c.ApplyFleet(f, t.TempDir()))
	r, err := c.Get(t.Context(), "i")
	require.NoError(t, err)
	assert.Equal(t, "Production", r.Environment)
	assert.Equal(t, "database", r.Role)
	assert.Equal(t, "team a", r.Owner)
}

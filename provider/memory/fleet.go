package memory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/internal/redact"
	"github.com/idlescale/idlescale/internal/safefile"
	"github.com/idlescale/idlescale/internal/yamlconf"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

// Fleet is the content of a fleet file: resources with their capacity,
// metric traces, backups and activity. It is read from YAML or JSON (JSON is
// YAML); unknown fields are errors. Relative times ("ago") count back from
// the Cloud's clock when the fleet is applied and must not be negative.
// Labels (environment, role, owner) are normalised as Cloud.Add does.
//
// A fleet file reads only what lies beside it: CSV paths are relative
// (slash-separated) to the fleet file's directory and must stay inside it.
// Absolute paths, ".." that climbs out, symbolic links that lead out,
// and anything that is not a regular file (a directory, /dev/zero, a named
// pipe, /proc) are refused with an error naming the field; each trace is
// read with the limits of trace.CSVOptions' defaults. A host that keeps
// its traces elsewhere widens the reach explicitly: LoadFleetFS with a
// file system whose root holds both (an (*os.Root).FS), or ApplyFleet
// with a wider directory.
//
//	resources:
//	  - id: i-idle
//	    kind: instance
//	    environment: staging
//	    size: {instance_type: m5.large}
//	    metrics:
//	      - metric: cpu
//	        csv: testdata/nab/ec2_cpu_utilization_c6585a.csv
//	        scale: 0.01          # percent to fraction
//	    backups:
//	      - {id: snap-1, ago: 3h, complete: true, verified: true}
//	    activity:
//	      - {kind: logins, ago: 26h, count: 1}
//	  - id: web
//	    kind: group
//	    capacity: {min: 1, max: 10, desired: 3}
type Fleet struct {
	// Resources are the resources to add.
	Resources []FleetResource `json:"resources" yaml:"resources"`
}

// FleetResource is one resource of a Fleet.
type FleetResource struct {
	provider.Resource `yaml:",inline"`

	// Capacity is a group's capacity; required for groups, refused for
	// other kinds.
	Capacity *provider.CapacitySpec `json:"capacity,omitempty" yaml:"capacity,omitempty"`
	// Metrics are the resource's metric traces. A metric listed twice
	// must continue where its earlier entry ends (its samples later).
	Metrics []FleetMetric `json:"metrics,omitempty" yaml:"metrics,omitempty"`
	// Backups are its backups, each ID listed once.
	Backups []FleetBackup `json:"backups,omitempty" yaml:"backups,omitempty"`
	// Activity lists activity events.
	Activity []FleetActivity `json:"activity,omitempty" yaml:"activity,omitempty"`
	// TrackActivity lists activity kinds observed even without events.
	TrackActivity []provider.ActivityKind `json:"track_activity,omitempty" yaml:"track_activity,omitempty"`
	// LaunchAgo sets LaunchTime to this long before now. When neither it
	// nor launch_time is given, a resource with metrics was launched at its
	// earliest sample (it existed while it was measured), and one without
	// at now.
	LaunchAgo time.Duration `json:"launch_ago,omitempty" yaml:"launch_ago,omitempty"`
}

// FleetMetric is one metric trace: either a CSV file, replayed so that it
// ends EndAgo before now, or inline samples at absolute times.
type FleetMetric struct {
	// Metric is the metric name. Required.
	Metric provider.Metric `json:"metric" yaml:"metric"`
	// CSV is a trace file: a slash-separated path relative to the fleet
	// file's directory, which must stay inside the directory the fleet
	// was loaded with (see Fleet).
	CSV string `json:"csv,omitempty" yaml:"csv,omitempty"`
	// TimeColumn, ValueColumn and Scale are as in trace.CSVOptions.
	TimeColumn  string  `json:"time_column,omitempty" yaml:"time_column,omitempty"`
	ValueColumn string  `json:"value_column,omitempty" yaml:"value_column,omitempty"`
	Scale       float64 `json:"scale,omitempty" yaml:"scale,omitempty"`
	// EndAgo is how long before now the replayed trace ends. Must be ≥ 0.
	// Default: 0.
	EndAgo time.Duration `json:"end_ago,omitempty" yaml:"end_ago,omitempty"`
	// Repeat plays a CSV trace this many times back to back, each copy
	// starting one step (the trace's first interval) after the previous
	// one ends, so that a short real trace gives a longer history (the
	// detector's stop evidence needs 14 days). Must lie in [0, 100]; 0
	// and 1 play it once. Default: 1.
	Repeat int `json:"repeat,omitempty" yaml:"repeat,omitempty"`
	// Samples are inline samples, used when CSV is empty.
	Samples []provider.Sample `json:"samples,omitempty" yaml:"samples,omitempty"`
}

// FleetBackup is a backup taken Ago before now, or at Time when Ago is 0.
type FleetBackup struct {
	provider.Backup `yaml:",inline"`

	// Ago places the backup this long before now. Must be ≥ 0.
	Ago time.Duration `json:"ago,omitempty" yaml:"ago,omitempty"`
}

// FleetActivity is Count events of Kind, Ago before now.
type FleetActivity struct {
	Kind  provider.ActivityKind `json:"kind" yaml:"kind"`
	Ago   time.Duration         `json:"ago" yaml:"ago"`
	Count float64               `json:"count" yaml:"count"`
}

// MaxFleetBytes is the largest fleet file read, in bytes (32 MiB): a fleet
// names its long traces as CSV files rather than holding them inline.
const MaxFleetBytes = 32 << 20

// ParseFleet decodes a fleet from YAML or JSON. Unknown fields, a missing
// resources list, trailing documents, more than MaxFleetBytes and a nil r
// are errors.
func ParseFleet(r io.Reader) (f Fleet, err error) {
	defer redact.Errorp(&err)
	if r == nil {
		return Fleet{}, provider.Invalid("fleet.reader", nil, "must not be nil")
	}
	data, err := io.ReadAll(io.LimitReader(r, MaxFleetBytes+1))
	if err != nil {
		return Fleet{}, fmt.Errorf("memory: fleet: %w", err)
	}
	if len(data) > MaxFleetBytes {
		return Fleet{}, provider.Invalid("fleet", fmt.Sprintf("over %d bytes", MaxFleetBytes), "is larger than MaxFleetBytes")
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return Fleet{}, provider.Invalid("fleet", "", "is empty")
		}
		if err := yamlconf.Locate(data, reflect.TypeFor[Fleet](), err); errors.Is(err, provider.ErrInvalid) {
			return Fleet{}, fmt.Errorf("memory: fleet: %w", err) // a value refused by its type, located
		}
		return Fleet{}, fmt.Errorf("memory: fleet: %w: %w", provider.ErrInvalid, err)
	}
	if f.Resources == nil {
		return Fleet{}, provider.Invalid("fleet.resources", nil, "must be present")
	}
	var extra any
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return Fleet{}, provider.Invalid("fleet", "second document", "a fleet file holds one document")
	}
	return f, nil
}

// LoadFleetFile reads the fleet file at path and applies it to c. The file
// must be a regular file of at most MaxFleetBytes; its CSV paths are
// relative to its directory and may read nothing outside it (see Fleet).
// Errors name the path; an invalid fleet or a refused CSV path matches
// provider.ErrInvalid, and on error c is unchanged.
func (c *Cloud) LoadFleetFile(path string) (err error) {
	defer redact.Errorp(&err)
	f, err := safefile.Open(path, "fleet", MaxFleetBytes)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	defer f.Close()
	fl, err := ParseFleet(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := c.ApplyFleet(fl, filepath.Dir(path)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// LoadFleetFS reads the fleet file name (slash-separated) from fsys and
// applies it to c. Its CSV paths are relative to name's directory and may
// reach anywhere inside fsys, but not out of it: this is how a host lets
// a fleet file read traces kept beside its directory, by choosing the
// root:
//
//	repo, _ := os.OpenRoot(".") // CSV paths may reach the whole repository
//	defer repo.Close()
//	err := cloud.LoadFleetFS(repo.FS(), "examples/quickstart/fleet.yaml")
//
// An (*os.Root).FS also refuses symbolic links that leave the root; an
// os.DirFS follows them. Errors as for LoadFleetFile; a nil fsys is an
// error matching provider.ErrInvalid.
func (c *Cloud) LoadFleetFS(fsys fs.FS, name string) (err error) {
	defer redact.Errorp(&err)
	if fsys == nil {
		return provider.Invalid("fleet.fs", nil, "must not be nil")
	}
	f, err := safefile.OpenFS(fsys, name, "fleet", MaxFleetBytes)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	defer f.Close()
	fl, err := ParseFleet(f)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if err := c.applyFleet(fl, fsys, path.Dir(name)); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	return nil
}

// ApplyFleet adds the fleet's resources, capacities, metrics, backups and
// activity to c. CSV paths are relative to dir and may read nothing outside
// it (see Fleet); dir may be "" for a fleet without CSV files. Everything
// is validated before anything is added: on error c is unchanged. It is
// added at once: a read meanwhile sees the fleet's resources with all
// their data, or none of them.
func (c *Cloud) ApplyFleet(f Fleet, dir string) (err error) {
	defer redact.Errorp(&err)
	var fsys fs.FS
	if dir != "" && needsFiles(f) {
		root, err := os.OpenRoot(dir)
		if err != nil {
			return fmt.Errorf("memory: apply fleet: %w", err)
		}
		defer root.Close()
		fsys = root.FS()
	}
	return c.applyFleet(f, fsys, ".")
}

// maxRepeat bounds FleetMetric.Repeat.
const maxRepeat = 100

func needsFiles(f Fleet) bool {
	for _, r := range f.Resources {
		for _, m := range r.Metrics {
			if m.CSV != "" {
				return true
			}
		}
	}
	return false
}

// applyFleet applies f, reading its CSV paths relative to dir in fsys; a
// nil fsys refuses every CSV path. The steps stageFleet returns run with
// c.mu held.
func (c *Cloud) applyFleet(f Fleet, fsys fs.FS, dir string) error {
	now := c.clock.Now()
	launches := make([]time.Time, len(f.Resources))
	staged, err := c.stageFleet(f, fsys, dir, now, launches)
	if err != nil {
		return err
	}
	plain := make([]provider.Resource, len(f.Resources))
	for i, r := range f.Resources {
		plain[i] = r.Resource
		if plain[i].LaunchTime.IsZero() {
			plain[i].LaunchTime = launches[i]
		}
	}
	prepared, err := c.prepare(now, plain)
	if err != nil {
		return redact.Error(err)
	}
	// The resources and their data at once: no read sees a resource
	// without its capacity, metrics, backups or activity.
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.insertLocked(now, prepared, nil); err != nil {
		return redact.Error(err)
	}
	for _, s := range staged {
		if err := s(); err != nil {
			// Every value was validated while staging; a failure here is a
			// bug, not bad input, but it must not be lost.
			return redact.Error(fmt.Errorf("memory: apply fleet: %w", err))
		}
	}
	return nil
}

// readFleetCSV reads the trace fm.CSV names, relative to dir in fsys, and
// replays it so that it ends fm.EndAgo before now. field is the metric's
// field path.
func readFleetCSV(fsys fs.FS, dir string, fm FleetMetric, field string, now time.Time) ([]provider.Sample, error) {
	name := filepath.ToSlash(fm.CSV)
	switch {
	case path.IsAbs(name) || filepath.IsAbs(fm.CSV) || filepath.VolumeName(fm.CSV) != "":
		return nil, provider.Invalid(field+".csv", fm.CSV, "must be a path relative to the fleet file's directory, inside it")
	case fsys == nil:
		return nil, provider.Invalid(field+".csv", fm.CSV, "cannot be read: the fleet was applied without a directory")
	}
	name = path.Join(dir, name)
	if !fs.ValidPath(name) {
		return nil, provider.Invalid(field+".csv", fm.CSV, "climbs out of the directory the fleet may read (see memory.Fleet)")
	}
	s, err := trace.ReadCSVFS(fsys, name, trace.CSVOptions{TimeColumn: fm.TimeColumn, ValueColumn: fm.ValueColumn, Scale: fm.Scale})
	// A path that looks like a URL with a password loses the "//" that
	// marks it once cleaned: mask what it holds by value.
	err = redact.New(redact.URLSecrets(fm.CSV)...).Error(err)
	var ie *provider.InvalidError
	switch {
	case errors.As(err, &ie):
		return nil, provider.Within(field, err)
	case err != nil:
		// Not found, not permitted, or a symbolic link that leaves the
		// root: the path is wrong; the cause stays in the chain.
		return nil, fmt.Errorf("%w: %w", provider.Invalid(field+".csv", fm.CSV, "cannot be read"), err)
	case len(s) == 0:
		return nil, provider.Invalid(field+".csv", fm.CSV, "holds no samples")
	}
	s = repeatTrace(s, fm.Repeat)
	last := s[len(s)-1].Time
	end := now.Add(-fm.EndAgo)
	shift := end.Sub(last)
	if !last.Add(shift).Equal(end) {
		return nil, provider.Invalid(field+".csv", fm.CSV, fmt.Sprintf("ends at %s, too far from now to replay (more than 292 years)", last.Format(time.RFC3339)))
	}
	for k := range s {
		s[k].Time = s[k].Time.Add(shift)
	}
	return s, nil
}

// repeatTrace returns s played n times back to back: each copy starts one
// step (s's first interval) after the previous one ends. A trace of one
// sample, or n ≤ 1, is returned as it is.
func repeatTrace(s []provider.Sample, n int) []provider.Sample {
	if n <= 1 || len(s) < 2 {
		return s
	}
	span := s[len(s)-1].Time.Sub(s[0].Time) + s[1].Time.Sub(s[0].Time)
	out := make([]provider.Sample, 0, n*len(s))
	for k := range n {
		shift := time.Duration(k) * span
		for _, x := range s {
			out = append(out, provider.Sample{Time: x.Time.Add(shift), Value: x.Value})
		}
	}
	return out
}

// stageFleet validates the fleet's contents and returns the steps that
// apply them once the resources exist.
func (c *Cloud) stageFleet(f Fleet, fsys fs.FS, dir string, now time.Time, launches []time.Time) ([]func() error, error) {
	var steps []func() error
	for i, fr := range f.Resources {
		field := fmt.Sprintf("fleet.resources[%d]", i)
		id := fr.ID
		if fr.LaunchAgo < 0 {
			return nil, provider.Invalid(field+".launch_ago", fr.LaunchAgo, "must be ≥ 0")
		}
		if fr.LaunchAgo > 0 {
			launches[i] = now.Add(-fr.LaunchAgo)
		}
		switch {
		case fr.Kind == provider.KindGroup && fr.Capacity == nil:
			return nil, provider.Invalid(field+".capacity", nil, "a group needs a capacity")
		case fr.Kind != provider.KindGroup && fr.Capacity != nil:
			return nil, provider.Invalid(field+".capacity", *fr.Capacity, "only groups have a capacity")
		}
		if fr.Capacity != nil {
			spec := *fr.Capacity
			if err := spec.Validate(); err != nil {
				return nil, provider.Within(field+".capacity", err)
			}
			if err := checkGroupSize(field+".capacity.max", spec); err != nil {
				return nil, err
			}
			steps = append(steps, func() error {
				g := c.resources[id].group
				g.spec, g.ready = spec, spec.Desired
				return nil
			})
		}
		// The last sample of each metric staged so far: a metric listed
		// again must continue it, as AddSamples requires.
		lastOf := map[provider.Metric]time.Time{}
		for j, fm := range fr.Metrics {
			mfield := fmt.Sprintf("%s.metrics[%d]", field, j)
			if err := fm.Metric.Validate(); err != nil {
				return nil, provider.Within(mfield+".metric", err)
			}
			if fm.EndAgo < 0 {
				return nil, provider.Invalid(mfield+".end_ago", fm.EndAgo, "must be ≥ 0")
			}
			if fm.Repeat < 0 || fm.Repeat > maxRepeat {
				return nil, provider.Invalid(mfield+".repeat", fm.Repeat, "must lie in [0, 100]")
			}
			if fm.Repeat > 1 && fm.CSV == "" {
				return nil, provider.Invalid(mfield+".repeat", fm.Repeat, "repeats a csv trace; inline samples are played as given")
			}
			var samples []provider.Sample
			if fm.CSV != "" {
				s, err := readFleetCSV(fsys, dir, fm, mfield, now)
				if err != nil {
					return nil, err
				}
				samples = s
			} else {
				if err := provider.ValidateSamples(fm.Samples); err != nil {
					return nil, provider.Within(mfield, err)
				}
				samples = fm.Samples
			}
			if last, ok := lastOf[fm.Metric]; ok && len(samples) > 0 && !samples[0].Time.After(last) {
				first := mfield + ".samples[0].time"
				if fm.CSV != "" { // its samples are the trace's, placed by end_ago
					first = mfield + ".csv"
				}
				return nil, provider.Invalid(first, samples[0].Time.Format(time.RFC3339Nano),
					"must be after the last sample "+last.Format(time.RFC3339Nano)+" of the "+string(fm.Metric)+" listed before")
			}
			if len(samples) > 0 {
				lastOf[fm.Metric] = samples[len(samples)-1].Time
			}
			if fr.LaunchAgo == 0 && len(samples) > 0 && (launches[i].IsZero() || samples[0].Time.Before(launches[i])) {
				launches[i] = samples[0].Time
			}
			m := fm.Metric
			steps = append(steps, func() error { return c.addSamplesLocked(id, m, samples) })
		}
		backupIDs := map[string]bool{}
		for j, fb := range fr.Backups {
			if fb.Ago < 0 {
				return nil, provider.Invalid(fmt.Sprintf("%s.backups[%d].ago", field, j), fb.Ago, "must be ≥ 0")
			}
			b := fb.Backup
			b.ResourceID = id
			if fb.Ago != 0 {
				b.Time = now.Add(-fb.Ago)
			}
			if err := b.Validate(); err != nil {
				return nil, provider.Within(fmt.Sprintf("%s.backups[%d]", field, j), err)
			}
			if backupIDs[b.ID] {
				return nil, provider.Invalid(fmt.Sprintf("%s.backups[%d].id", field, j), b.ID, "is listed twice for the resource")
			}
			backupIDs[b.ID] = true
			steps = append(steps, func() error { return c.addBackupsLocked([]provider.Backup{b}) })
		}
		for j, fa := range fr.Activity {
			if err := (provider.ActivityCount{Kind: fa.Kind, Count: fa.Count}).Validate(); err != nil {
				return nil, provider.Within(fmt.Sprintf("%s.activity[%d]", field, j), err)
			}
			if fa.Ago < 0 {
				return nil, provider.Invalid(fmt.Sprintf("%s.activity[%d].ago", field, j), fa.Ago, "must be ≥ 0")
			}
			at := now.Add(-fa.Ago)
			steps = append(steps, func() error { return c.recordActivityLocked(id, fa.Kind, at, fa.Count) })
		}
		if len(fr.TrackActivity) > 0 {
			kinds := fr.TrackActivity
			for _, k := range kinds {
				if err := k.Validate(); err != nil {
					return nil, provider.Within(field+".track_activity", err)
				}
			}
			steps = append(steps, func() error { return c.trackActivityLocked(id, kinds) })
		}
	}
	return steps, nil
}

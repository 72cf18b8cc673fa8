package memory

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/trace"
)

// Fleet is the content of a fleet file: resources with their capacity,
// metric traces, backups and activity. It is read from YAML or JSON (JSON is
// YAML); unknown fields are errors. Relative times ("ago") count back from
// the Cloud's clock when the fleet is applied.
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
	// Metrics are the resource's metric traces.
	Metrics []FleetMetric `json:"metrics,omitempty" yaml:"metrics,omitempty"`
	// Backups are its backups.
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
	// CSV is a trace file, relative to the fleet file's directory.
	CSV string `json:"csv,omitempty" yaml:"csv,omitempty"`
	// TimeColumn, ValueColumn and Scale are as in trace.CSVOptions.
	TimeColumn  string  `json:"time_column,omitempty" yaml:"time_column,omitempty"`
	ValueColumn string  `json:"value_column,omitempty" yaml:"value_column,omitempty"`
	Scale       float64 `json:"scale,omitempty" yaml:"scale,omitempty"`
	// EndAgo is how long before now the replayed trace ends. Default: 0.
	EndAgo time.Duration `json:"end_ago,omitempty" yaml:"end_ago,omitempty"`
	// Samples are inline samples, used when CSV is empty.
	Samples []provider.Sample `json:"samples,omitempty" yaml:"samples,omitempty"`
}

// FleetBackup is a backup taken Ago before now, or at Time when Ago is 0.
type FleetBackup struct {
	provider.Backup `yaml:",inline"`

	// Ago places the backup this long before now.
	Ago time.Duration `json:"ago,omitempty" yaml:"ago,omitempty"`
}

// FleetActivity is Count events of Kind, Ago before now.
type FleetActivity struct {
	Kind  provider.ActivityKind `json:"kind" yaml:"kind"`
	Ago   time.Duration         `json:"ago" yaml:"ago"`
	Count float64               `json:"count" yaml:"count"`
}

// ParseFleet decodes a fleet from YAML or JSON. Unknown fields, a missing
// resources list, trailing documents and a nil r are errors.
func ParseFleet(r io.Reader) (Fleet, error) {
	if r == nil {
		return Fleet{}, provider.Invalid("fleet.reader", nil, "must not be nil")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return Fleet{}, fmt.Errorf("memory: fleet: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var f Fleet
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return Fleet{}, provider.Invalid("fleet", "", "is empty")
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

// LoadFleetFile reads the fleet file at path and applies it to c; CSV paths
// are relative to the file's directory.
func (c *Cloud) LoadFleetFile(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("memory: %w", err)
	}
	f, err := ParseFleet(bytes.NewReader(data))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := c.ApplyFleet(f, filepath.Dir(path)); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// ApplyFleet adds the fleet's resources, capacities, metrics, backups and
// activity to c. dir is the directory CSV paths are relative to. Everything
// is validated before anything is added: on error c is unchanged.
func (c *Cloud) ApplyFleet(f Fleet, dir string) error {
	now := c.clock.Now()
	launches := make([]time.Time, len(f.Resources))
	staged, err := c.stageFleet(f, dir, now, launches)
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
	if err := c.Add(plain...); err != nil {
		return err
	}
	for _, s := range staged {
		if err := s(); err != nil {
			// Every value was validated while staging; a failure here is a
			// bug, not bad input, but it must not be lost.
			return fmt.Errorf("memory: apply fleet: %w", err)
		}
	}
	return nil
}

// stageFleet validates the fleet's contents and returns the steps that
// apply them once the resources exist.
func (c *Cloud) stageFleet(f Fleet, dir string, now time.Time, launches []time.Time) ([]func() error, error) {
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
				c.mu.Lock()
				defer c.mu.Unlock()
				g := c.resources[id].group
				g.spec, g.ready = spec, spec.Desired
				return nil
			})
		}
		for j, fm := range fr.Metrics {
			mfield := fmt.Sprintf("%s.metrics[%d]", field, j)
			if err := fm.Metric.Validate(); err != nil {
				return nil, fmt.Errorf("%s: %w", mfield, err)
			}
			var samples []provider.Sample
			if fm.CSV != "" {
				path := fm.CSV
				if !filepath.IsAbs(path) {
					path = filepath.Join(dir, path)
				}
				s, err := trace.ReadCSVFile(path, trace.CSVOptions{TimeColumn: fm.TimeColumn, ValueColumn: fm.ValueColumn, Scale: fm.Scale})
				if err != nil {
					return nil, fmt.Errorf("%s: %w", mfield, err)
				}
				if len(s) == 0 {
					return nil, provider.Invalid(mfield+".csv", fm.CSV, "holds no samples")
				}
				shift := now.Add(-fm.EndAgo).Sub(s[len(s)-1].Time)
				for k := range s {
					s[k].Time = s[k].Time.Add(shift)
				}
				samples = s
			} else {
				if err := provider.ValidateSamples(fm.Samples); err != nil {
					return nil, provider.Within(mfield, err)
				}
				samples = fm.Samples
			}
			if fr.LaunchAgo == 0 && len(samples) > 0 && (launches[i].IsZero() || samples[0].Time.Before(launches[i])) {
				launches[i] = samples[0].Time
			}
			m := fm.Metric
			steps = append(steps, func() error { return c.AddSamples(id, m, samples...) })
		}
		for j, fb := range fr.Backups {
			b := fb.Backup
			b.ResourceID = id
			if fb.Ago != 0 {
				b.Time = now.Add(-fb.Ago)
			}
			if err := b.Validate(); err != nil {
				return nil, provider.Within(fmt.Sprintf("%s.backups[%d]", field, j), err)
			}
			steps = append(steps, func() error { return c.AddBackup(b) })
		}
		for j, fa := range fr.Activity {
			if err := (provider.ActivityCount{Kind: fa.Kind, Count: fa.Count}).Validate(); err != nil {
				return nil, provider.Within(fmt.Sprintf("%s.activity[%d]", field, j), err)
			}
			if fa.Ago < 0 {
				return nil, provider.Invalid(fmt.Sprintf("%s.activity[%d].ago", field, j), fa.Ago, "must be ≥ 0")
			}
			at := now.Add(-fa.Ago)
			steps = append(steps, func() error { return c.RecordActivity(id, fa.Kind, at, fa.Count) })
		}
		if len(fr.TrackActivity) > 0 {
			kinds := fr.TrackActivity
			for _, k := range kinds {
				if err := k.Validate(); err != nil {
					return nil, provider.Within(field+".track_activity", err)
				}
			}
			steps = append(steps, func() error { return c.TrackActivity(id, kinds...) })
		}
	}
	return steps, nil
}

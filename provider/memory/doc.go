// Package memory is an in-memory cloud: a complete, concurrent-safe provider
// for unit tests, dry runs and examples. It implements every capability of
// package provider (Inventory, MetricsSource, Actuator, Scaler, Resizer,
// BackupCatalog, ActivitySource, and the batch reads ResourceBatcher,
// CapacityBatcher, MetricsBatcher and ActivityBatcher, which answer a
// whole batch under one read lock) and passes the providertest
// conformance suite.
//
// # Seeding
//
// Seed a Cloud from code (Add, AddGroup, AddSamples, Replay, SetSeries,
// AddBackup, RecordActivity) or from a YAML/JSON fleet file (LoadFleetFile,
// LoadFleetFS, see Fleet). A fleet file reads only regular files inside its
// own directory unless the host hands over a wider root (LoadFleetFS), so
// a fleet file from elsewhere cannot read the machine. Real traces read
// with package trace (or named as CSV files in a fleet file) replay as
// metrics, shifted so that they end at the present:
//
//	c, _ := memory.New(memory.Config{}) // the zero Config means the defaults
//	_ = c.Add(provider.Resource{ID: "i-1", Kind: provider.KindInstance})
//	cpu, _ := trace.ReadCSVFile("testdata/nab/ec2_cpu_utilization_c6585a.csv",
//		trace.CSVOptions{Scale: 0.01}) // percent to fraction
//	_ = c.Replay("i-1", provider.MetricCPU, cpu, c.Now())
//
// # Time
//
// The Cloud reads its clock (WithClock; the wall clock by default) and
// starts no goroutines. Its name, delays and function limits are in Config,
// passed to New. A stopped instance is stopping until
// Config.StopDelay has passed, a started one pending for Config.StartDelay;
// a group's new instances become ready after Config.LaunchDelay and removed
// ones drain for Config.DrainDelay. A volume is running while attached
// to an instance and stopped while detached (provider.State); Update
// attaches and detaches it, and Terminate refuses an attached one, as
// the clouds do. Metric samples, backups and activity
// stamped after the clock's now stay invisible until the clock reaches them,
// so a trace plays out as a fake clock advances.
//
// # Faults and the mutation log
//
// InjectFault makes chosen operations fail with an error, throttling,
// latency (on the Cloud's clock) or a partial change, on every call, the
// Nth call or a number of times; the error reaches the caller with its chain
// intact. Mutations returns every change the Cloud applied, in order, so a
// test can assert exactly what a pipeline did.
//
// # Quotas and large fleets
//
// QuotaEmulator stands in front of any MetricsSource (a Cloud, or a
// lazily generated fleet from package synth) and answers reads as
// CloudWatch's GetMetricData does under an account's quotas, on the
// source's clock: calls and data points per second (recent and older than
// 3 hours, each a bucket of one second that refills continuously), 500
// metrics and 100,800 points a call. A call over a rate limit fails with
// an error matching provider.ErrThrottled, one over a per-call limit with
// an error matching provider.ErrInvalid that names the limit; Usage
// reports what was admitted and refused. Like the AWS driver it is a
// provider.MetricsBatcher (one QueryMetrics call is one GetMetricData
// call), so a quota.Source reads through it as it reads the AWS driver:
//
//	cw, _ := memory.NewQuotaEmulator(fleet, clk, quota.CloudWatch())
//	budget, _ := quota.NewBudget(quota.Config{}, quota.WithClock(clk))
//	src, _ := quota.NewSource(cw, budget) // 10 %: never throttled
//
// A Cloud stores what it serves; package synth generates a fleet of any
// size that stores nothing per resource.
//
// Errors and log lines mask credentials that reach them (a URL with a
// password used as an ID, a token in a fleet file).
package memory

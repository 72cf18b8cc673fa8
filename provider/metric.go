package provider

import (
	"strconv"
	"strings"

	"github.com/idlescale/idlescale/internal/enumtext"
)

// Metric names a measured quantity of a resource. The built-in names below
// have fixed units so that detectors and strategies can compare drivers;
// anything else must be a custom metric made with CustomMetric. The set is
// open: Validate accepts every well-formed custom name. The zero value ""
// means not set; Query.Validate refuses it.
type Metric string

// Built-in metrics. Utilizations are fractions in [0, 1] (a driver reading
// CloudWatch's percent divides by 100); rates are per second.
const (
	MetricCPU                Metric = "cpu"                 // CPU utilization, fraction of allocated CPU
	MetricMemory             Metric = "memory"              // memory utilization, fraction
	MetricNetworkUtilization Metric = "network_utilization" // network utilization, fraction of the link
	MetricDiskUtilization    Metric = "disk_utilization"    // disk I/O utilization, fraction (busy time)
	MetricNetworkIn          Metric = "network_in"          // bytes received per second
	MetricNetworkOut         Metric = "network_out"         // bytes sent per second
	MetricDiskRead           Metric = "disk_read"           // bytes read per second
	MetricDiskWrite          Metric = "disk_write"          // bytes written per second
	MetricRequests           Metric = "requests"            // requests served per second
	MetricConnections        Metric = "connections"         // open connections (database, load balancer), count
	MetricInvocations        Metric = "invocations"         // function invocations per second
	MetricDuration           Metric = "duration"            // function run time, seconds
	MetricErrors             Metric = "errors"              // errors per second
	MetricThrottles          Metric = "throttles"           // throttled invocations per second
	MetricCPUCredits         Metric = "cpu_credits"         // burstable CPU credit balance, credits
	MetricReplicas           Metric = "replicas"            // in-service instances of a group, count
)

// CustomPrefix starts the name of every custom metric.
const CustomPrefix = "custom/"

// Unit is the unit of a metric's values. Its values are unit symbols
// ("bytes/s", "1/s"), as reasons print them after a value. The zero value
// UnitUnknown is the unit of custom metrics.
type Unit string

// The units of the built-in metrics.
const (
	UnitFraction       Unit = "fraction"
	UnitBytesPerSecond Unit = "bytes/s"
	UnitPerSecond      Unit = "1/s"
	UnitSeconds        Unit = "s"
	UnitCount          Unit = "count"
	UnitUnknown        Unit = ""
)

// Validate returns an *InvalidError unless u is one of the units above
// (UnitUnknown included).
func (u Unit) Validate() error {
	switch u {
	case UnitFraction, UnitBytesPerSecond, UnitPerSecond, UnitSeconds, UnitCount, UnitUnknown:
		return nil
	}
	return Invalid("unit", string(u), `must be empty or one of fraction, bytes/s, 1/s, s, count`)
}

// String returns the unit's symbol, such as "bytes/s" ("" when unknown).
func (u Unit) String() string { return string(u) }

// MarshalText returns the unit's symbol.
func (u Unit) MarshalText() ([]byte, error) { return []byte(u), nil }

// UnmarshalText sets u from text: a unit Validate accepts; any other value
// is an *InvalidError naming it.
func (u *Unit) UnmarshalText(text []byte) error { return enumtext.Unmarshal(u, text, Unit.Validate) }

var metricUnits = map[Metric]Unit{
	MetricCPU:                UnitFraction,
	MetricMemory:             UnitFraction,
	MetricNetworkUtilization: UnitFraction,
	MetricDiskUtilization:    UnitFraction,
	MetricNetworkIn:          UnitBytesPerSecond,
	MetricNetworkOut:         UnitBytesPerSecond,
	MetricDiskRead:           UnitBytesPerSecond,
	MetricDiskWrite:          UnitBytesPerSecond,
	MetricRequests:           UnitPerSecond,
	MetricConnections:        UnitCount,
	MetricInvocations:        UnitPerSecond,
	MetricDuration:           UnitSeconds,
	MetricErrors:             UnitPerSecond,
	MetricThrottles:          UnitPerSecond,
	MetricCPUCredits:         UnitCount,
	MetricReplicas:           UnitCount,
}

// Metrics lists the built-in metrics in a stable order.
func Metrics() []Metric {
	return []Metric{
		MetricCPU, MetricMemory, MetricNetworkUtilization, MetricDiskUtilization,
		MetricNetworkIn, MetricNetworkOut, MetricDiskRead, MetricDiskWrite,
		MetricRequests, MetricConnections, MetricInvocations, MetricDuration,
		MetricErrors, MetricThrottles, MetricCPUCredits, MetricReplicas,
	}
}

// CustomMetric returns the custom metric called name ("custom/" + name).
// Use it for anything the built-in names do not cover; Validate checks the
// name.
func CustomMetric(name string) Metric { return Metric(CustomPrefix + name) }

// IsCustom reports whether m is a custom metric.
func (m Metric) IsCustom() bool { return strings.HasPrefix(string(m), CustomPrefix) }

// Unit returns the unit of a built-in metric, or UnitUnknown for a custom
// one.
func (m Metric) Unit() Unit { return metricUnits[m] }

// IsUtilization reports whether m is a fraction in [0, 1].
func (m Metric) IsUtilization() bool { return metricUnits[m] == UnitFraction }

// Validate returns an error matching ErrUnknownMetric unless m is a built-in
// metric or a custom metric whose name is 1–200 characters of letters,
// digits and "_.:-/". The error is an *InvalidError without a Field, for
// the caller to name with Within ("thresholds[gpu]").
func (m Metric) Validate() error {
	if _, ok := metricUnits[m]; ok {
		return nil
	}
	if name, ok := strings.CutPrefix(string(m), CustomPrefix); ok && validCustomName(name) {
		return nil
	}
	e := Invalid("", string(m), "unknown metric: want a built-in name (cpu, memory, network_in, ...) or custom/NAME")
	e.kind = ErrUnknownMetric
	return e
}

// String returns the metric's name, such as "cpu" or "custom/queue_depth".
func (m Metric) String() string { return string(m) }

// MarshalText returns the metric's name.
func (m Metric) MarshalText() ([]byte, error) { return []byte(m), nil }

// UnmarshalText sets m from text: "" (not set), a built-in name or a
// well-formed custom name (see Validate); anything else is an error
// matching ErrUnknownMetric that names the value.
func (m *Metric) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(m, text, Metric.Validate)
}

func validCustomName(name string) bool {
	if name == "" || len(name) > 200 {
		return false
	}
	for _, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_.:-/", r)
		if !ok {
			return false
		}
	}
	return true
}

// Statistic says how raw samples inside one step are reduced to one value.
// The zero value means StatMean. Besides the named statistics the set holds
// every percentile "pNN" with 0 < NN < 100.
type Statistic string

// The statistics. Percentiles are written "p" followed by a number in
// (0, 100), such as "p95" or "p99.9".
const (
	StatMean  Statistic = "mean"
	StatMax   Statistic = "max"
	StatMin   Statistic = "min"
	StatSum   Statistic = "sum"
	StatCount Statistic = "count"
	StatLast  Statistic = "last"
)

// Percentile returns the statistic for the p-th percentile, such as
// Percentile(95) = "p95".
func Percentile(p float64) Statistic {
	return Statistic("p" + strconv.FormatFloat(p, 'f', -1, 64))
}

// Percentile returns p for a percentile statistic "pNN" and ok = true, or
// ok = false for any other statistic.
func (s Statistic) Percentile() (p float64, ok bool) {
	rest, found := strings.CutPrefix(string(s), "p")
	if !found || !plainDecimal(rest) {
		return 0, false // not "p1e1", "p+50" or "p0x1p4", which ParseFloat reads
	}
	v, err := strconv.ParseFloat(rest, 64)
	if err != nil || !(v > 0 && v < 100) {
		return 0, false
	}
	return v, true
}

// Validate returns an *InvalidError unless s is empty, a named statistic or
// a percentile in (0, 100).
func (s Statistic) Validate() error {
	switch s {
	case "", StatMean, StatMax, StatMin, StatSum, StatCount, StatLast:
		return nil
	}
	if _, ok := s.Percentile(); ok {
		return nil
	}
	return Invalid("statistic", string(s), "must be mean, max, min, sum, count, last or pNN with 0 < NN < 100")
}

// String returns the statistic's value, such as "mean" or "p95" ("" for
// the default, mean).
func (s Statistic) String() string { return string(s) }

// MarshalText returns the statistic's value.
func (s Statistic) MarshalText() ([]byte, error) { return []byte(s), nil }

// UnmarshalText sets s from text: a value Validate accepts ("" means
// mean); any other value is an *InvalidError naming it.
func (s *Statistic) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(s, text, Statistic.Validate)
}

// plainDecimal reports whether s is digits with at most one decimal point
// between digits ("99", "99.9").
func plainDecimal(s string) bool {
	whole, frac, dot := strings.Cut(s, ".")
	digits := func(x string) bool {
		for i := 0; i < len(x); i++ {
			if x[i] < '0' || x[i] > '9' {
				return false
			}
		}
		return x != ""
	}
	return digits(whole) && (!dot || digits(frac))
}

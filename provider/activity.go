package provider

import (
	"math"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
)

// ActivityKind is a kind of human or workload activity on a resource. The
// set is closed. The zero value "" means not set; ActivityCount.Validate
// refuses it.
type ActivityKind string

// The activity kinds the detector understands.
const (
	ActivityLogins    ActivityKind = "logins"      // interactive logins (SSH, RDP, console)
	ActivityAPICalls  ActivityKind = "api_calls"   // API or HTTP calls served
	ActivityDBQueries ActivityKind = "db_queries"  // database queries executed
	ActivityFiles     ActivityKind = "file_access" // file reads and writes by users or jobs
	ActivityProcesses ActivityKind = "processes"   // user processes started
)

// ActivityKinds lists every ActivityKind.
func ActivityKinds() []ActivityKind {
	return []ActivityKind{ActivityLogins, ActivityAPICalls, ActivityDBQueries, ActivityFiles, ActivityProcesses}
}

// Validate returns an *InvalidError unless k is a known ActivityKind.
func (k ActivityKind) Validate() error {
	switch k {
	case ActivityLogins, ActivityAPICalls, ActivityDBQueries, ActivityFiles, ActivityProcesses:
		return nil
	}
	return Invalid("activity.kind", string(k), "must be one of logins, api_calls, db_queries, file_access, processes")
}

// String returns the kind's value, such as "logins".
func (k ActivityKind) String() string { return string(k) }

// MarshalText returns the kind's value.
func (k ActivityKind) MarshalText() ([]byte, error) { return []byte(k), nil }

// UnmarshalText sets k from text: "" (not set) or a known kind; any other
// value is an *InvalidError naming it.
func (k *ActivityKind) UnmarshalText(text []byte) error {
	return enumtext.Unmarshal(k, text, ActivityKind.Validate)
}

// ActivityCount is how much of one kind of activity a resource saw in a
// window.
type ActivityCount struct {
	// Kind is the kind of activity.
	Kind ActivityKind `json:"kind"`
	// Count is the number of events in the window (≥ 0).
	Count float64 `json:"count"`
	// Last is the time of the latest event, if the source knows it; zero
	// when there was none in the window or the source cannot tell.
	Last time.Time `json:"last,omitzero"`
	// Since is when the count begins, set when that is after the query's
	// Start: the source keeps less than the window (a retention shorter
	// than it) or began observing this kind on the resource later. Count
	// and Last then cover [Since, End) only, and nothing before Since is
	// known: no event is not the same as no data. Zero means the count
	// covers the whole window, as does a Since at or before Start. A
	// source that cannot tell leaves it zero and says so in its docs. It
	// must not be after the query's End.
	Since time.Time `json:"since,omitzero"`
}

// Covers returns how much of the window [start, end) the count covers:
// end − max(start, Since), and 0 when Since is at or after end.
func (a ActivityCount) Covers(start, end time.Time) time.Duration {
	from := start
	if a.Since.After(from) {
		from = a.Since
	}
	if !end.After(from) {
		return 0
	}
	return end.Sub(from)
}

// Validate checks Kind and that Count is finite and ≥ 0.
func (a ActivityCount) Validate() error {
	if err := a.Kind.Validate(); err != nil {
		return err
	}
	if math.IsNaN(a.Count) || math.IsInf(a.Count, 0) || a.Count < 0 {
		return Invalid("activity."+string(a.Kind)+".count", a.Count, "must be a finite number ≥ 0")
	}
	return nil
}

// ActivityQuery asks an ActivitySource about one resource over [Start, End).
type ActivityQuery struct {
	// ResourceID is the resource. Required.
	ResourceID string `json:"resource_id"`
	// Start is the beginning of the window (inclusive).
	Start time.Time `json:"start"`
	// End is the end of the window (exclusive); must be after Start.
	End time.Time `json:"end"`
}

// Validate checks the query.
func (q ActivityQuery) Validate() error {
	if err := ValidateID(q.ResourceID); err != nil {
		return within("activity_query.resource", err)
	}
	if q.Start.IsZero() {
		return Invalid("activity_query.start", q.Start, "must be set")
	}
	if !q.End.After(q.Start) {
		return Invalid("activity_query.end", q.End.Format(time.RFC3339), "must be after start "+q.Start.Format(time.RFC3339))
	}
	return nil
}

package detector

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"time"

	"github.com/idlescale/idlescale/internal/enumtext"
	"github.com/idlescale/idlescale/provider"
)

// ReasonCode says what a Reason reports. The constants below are the
// codes of the built-in strategies; the set is open: a custom signal may
// report its own codes, which must be snake_case words (lower-case ASCII
// letters, digits and underscores, starting with a letter, at most 64
// bytes). The zero value "" is unset.
type ReasonCode string

// String returns the code itself.
func (c ReasonCode) String() string { return string(c) }

// Validate returns an error matching provider.ErrInvalid unless c is a
// snake_case word of at most 64 bytes (see ReasonCode).
func (c ReasonCode) Validate() error {
	if c == "" || len(c) > 64 || c[0] < 'a' || c[0] > 'z' {
		return invalid("reason.code", string(c), "must be a snake_case word of at most 64 bytes")
	}
	for i := 1; i < len(c); i++ {
		if b := c[i]; (b < 'a' || b > 'z') && (b < '0' || b > '9') && b != '_' {
			return invalid("reason.code", string(c), "must be a snake_case word of at most 64 bytes")
		}
	}
	return nil
}

// MarshalText encodes c; empty for the zero value, an error for a
// malformed code.
func (c ReasonCode) MarshalText() ([]byte, error) { return enumtext.Marshal(c, ReasonCode.Validate) }

// UnmarshalText decodes a code (empty text is the zero value); a malformed
// code is an error naming it.
func (c *ReasonCode) UnmarshalText(b []byte) error {
	return enumtext.Unmarshal(c, b, ReasonCode.Validate)
}

// The reason codes. Each Reason.String explains which fields it uses.
const (
	ReasonBelow        ReasonCode = "below"         // Metric's Statistic Value < Limit over Duration
	ReasonAbove        ReasonCode = "above"         // Metric's Statistic Value ≥ Limit over Duration
	ReasonNotHeld      ReasonCode = "not_held"      // Metric was ≥ Limit within the last Duration (hold period)
	ReasonMissing      ReasonCode = "missing"       // no series for Metric
	ReasonGaps         ReasonCode = "gaps"          // coverage Value < Limit over Duration
	ReasonStale        ReasonCode = "stale"         // last sample of Metric is Duration old, older than the limit
	ReasonSuspectZeros ReasonCode = "suspect_zeros" // Metric dropped from Value straight to exact zeros for Duration: treated as missing data
	ReasonSourceError  ReasonCode = "source_error"  // reading Metric or activity failed with Err
	ReasonYoung        ReasonCode = "young"         // resource age Duration is inside the grace period Limit (hours)
	ReasonQuiet        ReasonCode = "quiet"         // no activity for Duration
	ReasonActive       ReasonCode = "active"        // Value activity events of Kind in the window
	ReasonNoActivity   ReasonCode = "no_activity"   // no activity data
	ReasonIdleHours    ReasonCode = "idle_hours"    // this hour of the week was idle Value of the time (≥ Limit)
	ReasonBusyHours    ReasonCode = "busy_hours"    // this hour of the week was idle only Value of the time (< Limit)
	ReasonPeakHour     ReasonCode = "peak_hour"     // this hour of the week held a peak (Metric at or above Limit) in Value of its weeks in the last Duration: never idle
	ReasonUnseenHour   ReasonCode = "unseen_hour"   // this hour of the week (Hours) had no Metric data in the last Duration, though the history is long enough: unknown
	ReasonShortHistory ReasonCode = "short_history" // only Duration of history of Metric (or of Kind's activity, or of the activity), Limit (nanoseconds) needed, by Action when set
	ReasonModel        ReasonCode = "model"         // the model's idle probability is Value (cut-off Limit)
	ReasonVote         ReasonCode = "vote"          // Value of Limit available signals vote idle
	ReasonRule         ReasonCode = "rule"          // a preset rule held on Value of Limit days or share of time
	ReasonBelowConf    ReasonCode = "below_confidence"
	ReasonReadFailed   ReasonCode = "read_failed" // reading Metric (or, without one, activity) failed with Err: no action, the data it hid could show use

	// The evidence reasons: why an action was or was not recommended
	// (see EvidenceConfig). Action names the action they are about.
	ReasonEvidence      ReasonCode = "evidence"       // Metric's Stats over the last Duration, Value of its steps with data
	ReasonShortEvidence ReasonCode = "short_evidence" // Metric has data for Value of the last Duration; Action needs Limit
	ReasonPeak          ReasonCode = "peak"           // Metric's Statistic Value over the last Duration reaches Action's bound Limit
	ReasonBelowBound    ReasonCode = "below_bound"    // Metric's Statistic Value over the last Duration is below Action's bound Limit
	ReasonWeek          ReasonCode = "week"           // Value of the week's hours idle (Action needs Limit); Hours are the busy ones
	ReasonVeto          ReasonCode = "veto"           // Signal voted not idle (its idle score Value): Action needs no signal voting not idle
	ReasonAbstained     ReasonCode = "abstained"      // Signal could not tell (unknown): Action needs every signal to vote idle
	ReasonThinHours     ReasonCode = "thin_hours"     // Value hours of the week (Hours), idle where Metric has data, lacked it for more than Limit of their steps every week: not known idle for Action
	ReasonUnseenHours   ReasonCode = "unseen_hours"   // Value hours of the week (Hours), idle where Metric has data, had none in Limit weeks or more: not known idle for Action
	ReasonNoProfile     ReasonCode = "no_profile"     // no week of Metric learned yet (the schedule needs Limit of history): Action cannot check the week
	ReasonIrregular     ReasonCode = "irregular"      // only Value of the week's hours are regular; an off-hours schedule needs Limit
	ReasonNoPattern     ReasonCode = "no_pattern"     // no hour of the week is busy every week: an off-hours schedule has nothing to follow
	ReasonSmallSaving   ReasonCode = "small_saving"   // an off-hours schedule would stop the resource Value of the week; it needs Limit (or all of it: then stop)
	ReasonNoUse         ReasonCode = "no_use"         // activity data covers Duration with no use; Action needs Limit (hours) of it
	ReasonUsed          ReasonCode = "used"           // Value activity events of Kind in the activity window: Action needs none
	ReasonInUse         ReasonCode = "in_use"         // Kind was used within the last Duration (the activity's quiet period): Action needs none
	ReasonCoarse        ReasonCode = "coarse"         // Metric was read at steps of Duration, whose means hide shorter peaks: Action needs steps of Limit (nanoseconds) or less
	ReasonFits          ReasonCode = "fits"           // Metric's Statistic over the last Duration would be Value on the smaller size, within Limit
	ReasonTooBig        ReasonCode = "too_big"        // Metric's Statistic over the last Duration would be Value on the smaller size, above Limit
	ReasonAttached      ReasonCode = "attached"       // the volume is attached to an instance or held by a claim, or on its way to or from it (state running, pending, stopping): Action needs it detached or released (stopped)
)

// Reason is one structured, human-readable explanation. Only the fields
// the Code uses are set; String renders it as a sentence. Reasons are values
// so that a verdict can carry them without formatting strings.
//
// A NaN in Value, Limit or a field of Stats means the figure is not known
// (a Tracker's incremental path does not keep percentiles, see Tracker).
// String never prints it as a number: the sentences of the codes that may
// carry one (ReasonEvidence, ReasonPeak, ReasonBelowBound, ReasonFits,
// ReasonTooBig) leave it out, the others say "unknown". JSON encodes it as
// null, which decodes back to NaN. The outcome of a comparison is never
// read from the figures but from the Code (ReasonPeak or ReasonBelowBound,
// ReasonFits or ReasonTooBig, ...).
type Reason struct {
	// Signal is the signal that gave the reason ("utilization", ...), or
	// "ensemble".
	Signal string `json:"signal"`
	// Code says what the reason reports.
	Code ReasonCode `json:"code"`
	// Metric is the metric concerned, if any.
	Metric provider.Metric `json:"metric,omitempty"`
	// Statistic is how Value was computed from the series, if it was.
	Statistic provider.Statistic `json:"statistic,omitempty"`
	// Kind is the activity kind concerned, if any.
	Kind provider.ActivityKind `json:"kind,omitempty"`
	// Value is the observed quantity; NaN when it is not known (JSON
	// null).
	Value float64 `json:"value"`
	// Limit is the threshold it was compared with; NaN when it is not
	// known (JSON null).
	Limit float64 `json:"limit"`
	// Duration is the window or age concerned.
	Duration time.Duration `json:"duration,omitempty"`
	// Action is the action an evidence reason is about, if any.
	Action Action `json:"action,omitempty"`
	// Stats are the window statistics of a ReasonEvidence.
	Stats Stats `json:"stats,omitzero"`
	// Hours are the busy hours of the week of a ReasonWeek, the hours
	// seen only in part of a ReasonThinHours, those without data of a
	// ReasonUnseenHours, now's hour of a ReasonUnseenHour.
	Hours WeekHours `json:"hours,omitzero"`
	// Err is the source error for ReasonSourceError.
	Err error `json:"-"`
}

// Stats are a metric's statistics over an evidence window, in the
// metric's unit. Percentiles are nearest-rank: the smallest value with at
// least that share of the window's values at or below it. A NaN field is
// not known (a Tracker's incremental path does not keep percentiles): it is
// left out of Reason.String and encoded as JSON null, which decodes back
// to NaN.
type Stats struct {
	// Mean is the mean over the steps with data; NaN when not known.
	Mean float64 `json:"mean"`
	// P95 is the 95th percentile; NaN when not known.
	P95 float64 `json:"p95"`
	// P99 is the 99th percentile; NaN when not known.
	P99 float64 `json:"p99"`
	// Max is the largest value; NaN when not known.
	Max float64 `json:"max"`
}

// statsJSON is the wire form of Stats: NaN is null.
type statsJSON struct {
	Mean jsonFloat `json:"mean"`
	P95  jsonFloat `json:"p95"`
	P99  jsonFloat `json:"p99"`
	Max  jsonFloat `json:"max"`
}

// MarshalJSON encodes the statistics, a NaN (not known) as null.
func (s Stats) MarshalJSON() ([]byte, error) {
	return json.Marshal(statsJSON{jsonFloat(s.Mean), jsonFloat(s.P95), jsonFloat(s.P99), jsonFloat(s.Max)})
}

// UnmarshalJSON decodes the statistics: null is NaN (not known), an
// absent field keeps its value and a null object changes nothing.
func (s *Stats) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	w := statsJSON{jsonFloat(s.Mean), jsonFloat(s.P95), jsonFloat(s.P99), jsonFloat(s.Max)}
	if err := json.Unmarshal(b, &w); err != nil {
		return tidyTypeError(err, reflect.TypeOf(w), reflect.TypeFor[Stats]())
	}
	*s = Stats{float64(w.Mean), float64(w.P95), float64(w.P99), float64(w.Max)}
	return nil
}

// jsonFloat is a float64 whose JSON is null when it is NaN (not known).
type jsonFloat float64

// MarshalJSON encodes f as a JSON number, or null for NaN. An infinity
// stays an error, as for a float64.
func (f jsonFloat) MarshalJSON() ([]byte, error) {
	if math.IsNaN(float64(f)) {
		return []byte("null"), nil
	}
	return json.Marshal(float64(f))
}

// UnmarshalJSON decodes a JSON number, or null as NaN.
func (f *jsonFloat) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*f = jsonFloat(math.NaN())
		return nil
	}
	var v float64
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = jsonFloat(v)
	return nil
}

// encodable returns an error naming the field of r that MarshalJSON
// cannot encode: a Code that is set but not a snake_case word, an
// infinite Value, Limit or field of Stats (NaN is null: not known).
func (r Reason) encodable() error {
	if r.Code != "" {
		if err := r.Code.Validate(); err != nil {
			return err
		}
	}
	for _, f := range [...]struct {
		name string
		v    float64
	}{{"value", r.Value}, {"limit", r.Limit}, {"stats.mean", r.Stats.Mean}, {"stats.p95", r.Stats.P95}, {"stats.p99", r.Stats.P99}, {"stats.max", r.Stats.Max}} {
		if math.IsInf(f.v, 0) {
			return invalid("reason."+f.name, f.v, "must be finite, or NaN when not known")
		}
	}
	return nil
}

// String renders the reason as a sentence.
func (r Reason) String() string {
	stat := r.Statistic
	if stat == "" {
		stat = provider.StatMean
	}
	switch r.Code {
	case ReasonBelow:
		return fmt.Sprintf("%s: %s %s %s below %s over %s", r.Signal, r.Metric, stat, fmtValue(r.Metric, r.Value), fmtValue(r.Metric, r.Limit), fmtDur(r.Duration))
	case ReasonAbove:
		return fmt.Sprintf("%s: %s %s %s at or above %s over %s", r.Signal, r.Metric, stat, fmtValue(r.Metric, r.Value), fmtValue(r.Metric, r.Limit), fmtDur(r.Duration))
	case ReasonNotHeld:
		return fmt.Sprintf("%s: %s %s %s at or above %s within the last %s", r.Signal, r.Metric, stat, fmtValue(r.Metric, r.Value), fmtValue(r.Metric, r.Limit), fmtDur(r.Duration))
	case ReasonMissing:
		return fmt.Sprintf("%s: no data for %s", r.Signal, r.Metric)
	case ReasonGaps:
		return fmt.Sprintf("%s: %s has data for only %s of the last %s (need %s)", r.Signal, r.Metric, pct(r.Value), fmtDur(r.Duration), pct(r.Limit))
	case ReasonStale:
		return fmt.Sprintf("%s: last %s sample is %s old (limit %s)", r.Signal, r.Metric, fmtDur(r.Duration), limitDur(r.Limit))
	case ReasonSuspectZeros:
		return fmt.Sprintf("%s: %s fell from %s straight to exact zeros for %s: treated as missing data, not idleness", r.Signal, r.Metric, num("%.4g", r.Value), fmtDur(r.Duration))
	case ReasonSourceError:
		what := string(r.Metric)
		if what == "" {
			what = "activity"
		}
		return fmt.Sprintf("%s: reading %s failed: %v", r.Signal, what, r.Err)
	case ReasonYoung:
		return fmt.Sprintf("%s: resource is %s old, inside the %s grace period", r.Signal, fmtDur(r.Duration), limitDur(r.Limit))
	case ReasonQuiet:
		return fmt.Sprintf("%s: no activity for at least %s", r.Signal, fmtDur(r.Duration))
	case ReasonActive:
		return fmt.Sprintf("%s: %s %s events in the last %s", r.Signal, num("%.0f", r.Value), r.Kind, fmtDur(r.Duration))
	case ReasonNoActivity:
		return fmt.Sprintf("%s: no activity data", r.Signal)
	case ReasonIdleHours:
		return fmt.Sprintf("%s: this hour of the week was idle %s of the time in the last %s (≥ %s)", r.Signal, pct(r.Value), fmtDur(r.Duration), pct(r.Limit))
	case ReasonBusyHours:
		return fmt.Sprintf("%s: this hour of the week was idle only %s of the time in the last %s (< %s)", r.Signal, pct(r.Value), fmtDur(r.Duration), pct(r.Limit))
	case ReasonPeakHour:
		return fmt.Sprintf("%s: this hour of the week held a peak (%s at or above %s) in %s of its weeks in the last %s: never idle", r.Signal, r.Metric, fmtValue(r.Metric, r.Limit), num("%.0f", r.Value), fmtDur(r.Duration))
	case ReasonUnseenHour:
		return fmt.Sprintf("%s: this hour of the week (%s) had no %s data in the last %s: missing data is never idleness", r.Signal, r.Hours, r.Metric, fmtDur(r.Duration))
	case ReasonShortHistory:
		of := string(r.Metric)
		switch {
		case of != "":
		case r.Kind != "":
			of = string(r.Kind) + " activity"
		default:
			of = "activity"
		}
		if r.Action != "" {
			return fmt.Sprintf("%s: only %s of %s history: %s needs %s", r.Signal, fmtDur(r.Duration), of, r.Action, limitDur(r.Limit))
		}
		return fmt.Sprintf("%s: only %s of %s history (need %s)", r.Signal, fmtDur(r.Duration), of, limitDur(r.Limit))
	case ReasonModel:
		return fmt.Sprintf("%s: idle probability %s (cut-off %s)", r.Signal, num("%.2f", r.Value), num("%.2f", r.Limit))
	case ReasonVote:
		return fmt.Sprintf("%s: %s of %s available signals vote idle", r.Signal, num("%.0f", r.Value), num("%.0f", r.Limit))
	case ReasonRule:
		return fmt.Sprintf("%s: rule held on %s (needs %s) over %s", r.Signal, num("%.4g", r.Value), num("%.4g", r.Limit), fmtDur(r.Duration))
	case ReasonBelowConf:
		return fmt.Sprintf("%s: confidence %s does not exceed %s: no action", r.Signal, num("%.2f", r.Value), num("%.2f", r.Limit))
	case ReasonReadFailed:
		what := string(r.Metric)
		if what == "" {
			what = "activity"
		}
		return fmt.Sprintf("%s: reading %s failed (%v): no action, its data could show use", r.Signal, what, r.Err)
	case ReasonEvidence:
		return r.evidenceText()
	case ReasonShortEvidence:
		if math.IsNaN(r.Value) || math.IsNaN(r.Limit) {
			return fmt.Sprintf("%s: %s has data for %s of the last %s; %s needs %s", r.Signal, r.Metric, pct(r.Value), fmtDur(r.Duration), r.Action, pct(r.Limit))
		}
		more := time.Duration((r.Limit - r.Value) * float64(r.Duration))
		return fmt.Sprintf("%s: %s has data for %s of the last %s (%.0f%%); %s needs %.0f%%: %s more of data", r.Signal, r.Metric, fmtDays(time.Duration(r.Value*float64(r.Duration))), fmtDur(r.Duration), 100*r.Value, r.Action, 100*r.Limit, fmtDays(more))
	case ReasonPeak, ReasonBelowBound:
		// The code says the outcome, not Value against Limit: Value may
		// not be known.
		verb := "reaches"
		if r.Code == ReasonBelowBound {
			verb = "is below"
		}
		if math.IsNaN(r.Value) {
			return fmt.Sprintf("%s: %s %s over the last %s %s the %s bound %s", r.Signal, r.Metric, stat, fmtDur(r.Duration), verb, r.Action, fmtValue(r.Metric, r.Limit))
		}
		return fmt.Sprintf("%s: %s %s %s over the last %s %s the %s bound %s", r.Signal, r.Metric, stat, fmtValue(r.Metric, r.Value), fmtDur(r.Duration), verb, r.Action, fmtValue(r.Metric, r.Limit))
	case ReasonNoProfile:
		return fmt.Sprintf("%s: no week of %s learned yet (it needs %s of history): %s needs every hour of the week checked", r.Signal, r.Metric, limitDur(r.Limit), r.Action)
	case ReasonWeek:
		if n := r.Hours.Len(); n > 0 {
			return fmt.Sprintf("%s: %d of %d hours of the week are busy or held a peak (%s): the week is %s idle, %s needs %s", r.Signal, n, HoursPerWeek, r.Hours, pct(r.Value), r.Action, pct(r.Limit))
		}
		return fmt.Sprintf("%s: the week is %s idle (%s needs %s)", r.Signal, pct(r.Value), r.Action, pct(r.Limit))
	case ReasonVeto:
		return fmt.Sprintf("%s: votes not idle (idle score %s): %s needs no signal voting not idle", r.Signal, num("%.2f", r.Value), r.Action)
	case ReasonAbstained:
		return fmt.Sprintf("%s: could not tell (unknown): %s needs every signal to vote idle", r.Signal, r.Action)
	case ReasonUnseenHours:
		return fmt.Sprintf("%s: %s hours of the week had no %s data at all in %s weeks or more (%s): missing data is never idleness; %s needs every hour known idle",
			r.Signal, num("%.0f", r.Value), r.Metric, num("%.0f", r.Limit), r.Hours, r.Action)
	case ReasonThinHours:
		return fmt.Sprintf("%s: %s hours of the week lacked %s data for more than %s of their steps every week (%s): missing data is never idleness; %s needs every hour known idle",
			r.Signal, num("%.0f", r.Value), r.Metric, pct(r.Limit), r.Hours, r.Action)
	case ReasonIrregular:
		return fmt.Sprintf("%s: only %s of the week's hours are regularly idle or busy; an off-hours schedule needs %s", r.Signal, pct(r.Value), pct(r.Limit))
	case ReasonNoPattern:
		return fmt.Sprintf("%s: no hour of the week is busy every week: an off-hours schedule has nothing to follow", r.Signal)
	case ReasonSmallSaving:
		return fmt.Sprintf("%s: an off-hours schedule would stop it %s of the week; it needs at least %s", r.Signal, pct(r.Value), pct(r.Limit))
	case ReasonNoUse:
		if r.Duration == 0 {
			return fmt.Sprintf("%s: no activity data: %s needs %s of it showing no use", r.Signal, r.Action, limitDur(r.Limit))
		}
		return fmt.Sprintf("%s: activity data shows no use in the last %s; %s needs %s of it", r.Signal, fmtDur(r.Duration), r.Action, limitDur(r.Limit))
	case ReasonUsed:
		return fmt.Sprintf("%s: %s %s events in the activity window: %s needs none", r.Signal, num("%.0f", r.Value), r.Kind, r.Action)
	case ReasonCoarse:
		return fmt.Sprintf("%s: %s was read at %s steps, whose means hide shorter peaks: %s needs steps of %s or less", r.Signal, r.Metric, fmtDur(r.Duration), r.Action, fmtDur(time.Duration(r.Limit)))
	case ReasonInUse:
		return fmt.Sprintf("%s: %s activity within the last %s: %s needs none", r.Signal, r.Kind, fmtDur(r.Duration), r.Action)
	case ReasonFits:
		if math.IsNaN(r.Value) {
			return fmt.Sprintf("%s: %s %s over the last %s would stay below %s on the smaller size", r.Signal, r.Metric, stat, fmtDur(r.Duration), fmtValue(r.Metric, r.Limit))
		}
		return fmt.Sprintf("%s: %s %s over the last %s would be %s on the smaller size (limit %s)", r.Signal, r.Metric, stat, fmtDur(r.Duration), fmtValue(r.Metric, r.Value), fmtValue(r.Metric, r.Limit))
	case ReasonTooBig:
		if math.IsNaN(r.Value) {
			return fmt.Sprintf("%s: %s %s over the last %s would reach %s on the smaller size: no downsize", r.Signal, r.Metric, stat, fmtDur(r.Duration), fmtValue(r.Metric, r.Limit))
		}
		return fmt.Sprintf("%s: %s %s over the last %s would be %s on the smaller size, above %s: no downsize", r.Signal, r.Metric, stat, fmtDur(r.Duration), fmtValue(r.Metric, r.Value), fmtValue(r.Metric, r.Limit))
	case ReasonAttached:
		return fmt.Sprintf("%s: the volume is in use (attached to an instance, or held by a claim): %s needs it detached or released (judge what uses it)", r.Signal, r.Action)
	}
	return fmt.Sprintf("%s: %s %s value %s limit %s", r.Signal, r.Code, r.Metric, num("%g", r.Value), num("%g", r.Limit))
}

// evidenceText renders a ReasonEvidence: the coverage and the statistics
// that are known; the unknown ones (NaN) are left out.
func (r Reason) evidenceText() string {
	var b strings.Builder
	m := r.Metric
	fmt.Fprintf(&b, "%s: %s over the last %s", r.Signal, m, fmtDur(r.Duration))
	if !math.IsNaN(r.Value) {
		fmt.Fprintf(&b, " (%.0f%% covered)", 100*r.Value)
	}
	b.WriteString(":")
	known := 0
	for _, st := range [...]struct {
		name string
		v    float64
	}{{"mean", r.Stats.Mean}, {"p95", r.Stats.P95}, {"p99", r.Stats.P99}, {"max", r.Stats.Max}} {
		if math.IsNaN(st.v) {
			continue
		}
		if known > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, " %s %s", st.name, fmtValue(m, st.v))
		known++
	}
	if known == 0 {
		b.WriteString(" no statistics known")
	}
	return b.String()
}

// num renders v with the verb, or "unknown" for NaN.
func num(verb string, v float64) string {
	if math.IsNaN(v) {
		return unknown
	}
	return fmt.Sprintf(verb, v)
}

// pct renders the share v as a whole percentage, or "unknown" for NaN.
func pct(v float64) string {
	if math.IsNaN(v) {
		return unknown
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}

// limitDur renders a duration held in a float64 (a Limit), or "unknown"
// for NaN.
func limitDur(v float64) string {
	if math.IsNaN(v) {
		return unknown
	}
	return fmtDur(time.Duration(v))
}

// unknown stands for a figure that is not known (NaN) in the sentences
// that do not leave it out.
const unknown = "unknown"

// fmtValue renders v in m's unit, or "unknown" for NaN (the codes whose
// figures may be unknown leave them out of the sentence instead).
func fmtValue(m provider.Metric, v float64) string {
	if math.IsNaN(v) {
		return unknown
	}
	if m.IsUtilization() {
		return fmt.Sprintf("%.2f%%", 100*v)
	}
	return fmt.Sprintf("%.4g %s", v, m.Unit())
}

// fmtDays renders a duration in days with one decimal ("3.4 days"), in
// hours below a day and in whole minutes (rounded up) below an hour.
func fmtDays(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%.1f hours", d.Hours())
	}
	return fmt.Sprintf("%d minutes", int((d+time.Minute-1)/time.Minute))
}

func fmtDur(d time.Duration) string {
	switch {
	case d >= 48*time.Hour && d%(24*time.Hour) == 0:
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1fd", d.Hours()/24)
	case d >= time.Hour && d%time.Hour == 0:
		return fmt.Sprintf("%dh", d/time.Hour)
	}
	return d.Round(time.Second).String()
}

// MarshalJSON encodes the reason's fields plus "text" (String) and, for a
// source error, "error" (its message). A Value or Limit that is NaN (not
// known) is null, and so is a field of Stats.
func (r Reason) MarshalJSON() ([]byte, error) {
	type plain Reason
	out := struct {
		plain
		// These shadow plain's fields of the same JSON names.
		Value jsonFloat `json:"value"`
		Limit jsonFloat `json:"limit"`
		Text  string    `json:"text"`
		Error string    `json:"error,omitempty"`
	}{plain: plain(r), Value: jsonFloat(r.Value), Limit: jsonFloat(r.Limit), Text: r.String()}
	if r.Err != nil {
		out.Error = r.Err.Error()
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes what MarshalJSON encodes: a null Value, Limit or
// field of Stats is NaN (not known), an absent one keeps its value (an
// absent "stats" is the zero Stats on a new Reason). "text" and "error"
// are not read: Err is not decoded.
func (r *Reason) UnmarshalJSON(b []byte) error {
	type plain Reason
	in := struct {
		*plain
		// These shadow plain's fields of the same JSON names.
		Value jsonFloat `json:"value"`
		Limit jsonFloat `json:"limit"`
	}{plain: (*plain)(r), Value: jsonFloat(r.Value), Limit: jsonFloat(r.Limit)}
	if err := json.Unmarshal(b, &in); err != nil {
		return tidyTypeError(err, reflect.TypeOf(in), reflect.TypeFor[Reason]())
	}
	r.Value, r.Limit = float64(in.Value), float64(in.Limit)
	return nil
}

// tidyTypeError makes a type error met decoding into wire, the JSON form
// of target, name target rather than the wire: "Go struct field
// Reason.stats.p95", "Go value of type detector.Reason". (Decoding a
// Verdict puts its own field path in front.)
func tidyTypeError(err error, wire, target reflect.Type) error {
	var te *json.UnmarshalTypeError
	if !errors.As(err, &te) {
		return err
	}
	te.Field = strings.TrimPrefix(te.Field, "plain.")
	switch {
	case te.Field != "":
		te.Struct = target.Name()
	case te.Type == wire:
		te.Struct, te.Type = "", target
	}
	return err
}

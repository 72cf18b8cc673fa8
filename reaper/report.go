package reaper

import (
	"errors"
	"fmt"
	"time"

	"github.com/idlescale/idlescale/detector"
	"github.com/idlescale/idlescale/provider"
	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
)

// Record is the pipeline's account of one resource in one run. It is a
// plain value.
type Record struct {
	// ResourceID is the resource.
	ResourceID string `json:"resource_id"`
	// Resource is the resource as the inventory listed it at the start of
	// the run; a resource refused at StageInventory (listed invalid, see
	// RunOnce, or more than once) with an HourlyCost or Size.VCPU that is
	// not finite has 0 there, which JSON holds (the error of one listed
	// invalid names the value).
	Resource provider.Resource `json:"resource"`
	// Verdict is the detector's verdict; nil when detection failed or
	// the verdict was refused (a Confidence outside [0, 1], a
	// MonthlySavings that is not a finite number ≥ 0, a figure JSON
	// cannot hold: see RunOnce).
	Verdict *detector.Verdict `json:"verdict,omitempty"`
	// Action is the safety action taken or considered (stop, terminate,
	// resize); empty when the resource was skipped before one was chosen.
	Action safety.Action `json:"action,omitempty"`
	// TargetSize is the size of a resize; zero otherwise.
	TargetSize provider.Size `json:"target_size,omitzero"`
	// Outcome is what happened.
	Outcome Outcome `json:"outcome"`
	// Reason explains the outcome in words.
	Reason string `json:"reason,omitempty"`
	// DryRun reports whether the run was a dry run.
	DryRun bool `json:"dry_run"`
	// Decision is the Gate's decision; nil when the Gate was not
	// consulted.
	Decision *safety.Decision `json:"decision,omitempty"`
	// BlockedBy names the rules that blocked the action.
	BlockedBy []string `json:"blocked_by,omitempty"`
	// ApprovalID names the approval request: the pending one created or
	// found (the newest, when several for the proposal are waited for),
	// or the approved one executed.
	ApprovalID string `json:"approval_id,omitempty"`
	// RateLimit is the Reserver's reservation; nil when no Reserver is
	// wired (WithReserver) or it was not consulted.
	RateLimit *ratelimit.Reservation `json:"rate_limit,omitempty"`
	// ActedAt is the clock time the provider accepted the action, or
	// failed without saying that nothing changed (it may have acted);
	// zero when nothing was done.
	ActedAt time.Time `json:"acted_at,omitzero"`
	// Verified reports whether the resource reached its target state.
	Verified bool `json:"verified"`
	// VerifiedAt is the clock time verification succeeded.
	VerifiedAt time.Time `json:"verified_at,omitzero"`
	// FinalState is the last state read while verifying.
	FinalState provider.State `json:"final_state,omitempty"`
	// MonthlySavings is the verdict's estimated monthly saving, counted
	// for outcomes would_act, acted and unverified; 0 otherwise.
	MonthlySavings float64 `json:"monthly_savings"`
	// Errors are every error met for this resource, each a
	// *ResourceError; none is dropped.
	Errors []error `json:"-"`
	// ErrorMessages are Errors' messages, for JSON.
	ErrorMessages []string `json:"errors,omitempty"`
}

// Err returns the record's errors joined, or nil.
func (r Record) Err() error { return errors.Join(r.Errors...) }

// failedAt reports whether the record has an error of stage.
func (r *Record) failedAt(stage Stage) bool {
	for _, err := range r.Errors {
		var re *ResourceError
		if errors.As(err, &re) && re.Stage == stage {
			return true
		}
	}
	return false
}

func (r *Record) fail(stage Stage, err error) {
	e := &ResourceError{ResourceID: r.ResourceID, Stage: stage, Err: err}
	r.Errors = append(r.Errors, e)
	r.ErrorMessages = append(r.ErrorMessages, e.Error())
}

// String describes the record on one line.
func (r Record) String() string {
	s := fmt.Sprintf("%s: %s", r.ResourceID, r.Outcome)
	if r.Action != "" {
		s += " (" + string(r.Action) + ")"
	}
	if r.Reason != "" {
		s += ": " + r.Reason
	}
	return s
}

// Totals count the records of a report by outcome, with the savings.
type Totals struct {
	// Resources is the number of resources listed (each ID once).
	Resources int `json:"resources"`
	// Idle is the number whose verdict was idle.
	Idle int `json:"idle"`
	// Skipped, WouldAct, NeedsApproval, Blocked, RateLimited, Deferred,
	// Acted, Unverified and Failed count the records per Outcome.
	Skipped       int `json:"skipped"`
	WouldAct      int `json:"would_act"`
	NeedsApproval int `json:"needs_approval"`
	Blocked       int `json:"blocked"`
	RateLimited   int `json:"rate_limited"`
	Deferred      int `json:"deferred"`
	Acted         int `json:"acted"`
	Unverified    int `json:"unverified"`
	Failed        int `json:"failed"`
	// Errors is the number of errors over every record.
	Errors int `json:"errors"`
	// EstimatedMonthlySavings sums the savings of the actions that were
	// or would be carried out (would_act, acted, unverified), in the
	// currency of Resource.HourlyCost.
	EstimatedMonthlySavings float64 `json:"estimated_monthly_savings"`
	// RealisedMonthlySavings sums the savings of the verified actions.
	RealisedMonthlySavings float64 `json:"realised_monthly_savings"`
}

// Report is the outcome of one run.
type Report struct {
	// Now is the time the run decided for.
	Now time.Time `json:"now"`
	// DryRun reports whether the run was a dry run.
	DryRun bool `json:"dry_run"`
	// Records holds one record per listed resource ID, in the order the
	// inventory listed them.
	Records []Record `json:"records"`
	// Totals count the records.
	Totals Totals `json:"totals"`
	// Errors are failures of the run that belong to no single resource
	// (expiring stale approvals); the run went on without that step.
	Errors []error `json:"-"`
	// ErrorMessages are Errors' messages, for JSON.
	ErrorMessages []string `json:"errors,omitempty"`
}

// fail keeps err, a failure of the run that belongs to no single
// resource.
func (r *Report) fail(err error) {
	r.Errors = append(r.Errors, err)
	r.ErrorMessages = append(r.ErrorMessages, err.Error())
}

// Err returns the run's errors and every record's errors joined, or nil.
func (r Report) Err() error {
	errs := append([]error(nil), r.Errors...)
	for _, rec := range r.Records {
		errs = append(errs, rec.Errors...)
	}
	return errors.Join(errs...)
}

// Record returns the record of resource id and whether there is one.
func (r Report) Record(id string) (Record, bool) {
	for _, rec := range r.Records {
		if rec.ResourceID == id {
			return rec, true
		}
	}
	return Record{}, false
}

func (t *Totals) add(rec Record) {
	if rec.Verdict != nil && rec.Verdict.State == detector.Idle {
		t.Idle++
	}
	t.Errors += len(rec.Errors)
	switch rec.Outcome {
	case OutcomeSkipped:
		t.Skipped++
	case OutcomeWouldAct:
		t.WouldAct++
	case OutcomeNeedsApproval:
		t.NeedsApproval++
	case OutcomeBlocked:
		t.Blocked++
	case OutcomeRateLimited:
		t.RateLimited++
	case OutcomeDeferred:
		t.Deferred++
	case OutcomeActed:
		t.Acted++
	case OutcomeUnverified:
		t.Unverified++
	case OutcomeFailed:
		t.Failed++
	}
	t.EstimatedMonthlySavings += rec.MonthlySavings
	if rec.Verified {
		t.RealisedMonthlySavings += rec.MonthlySavings
	}
}

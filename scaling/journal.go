package scaling

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/idlescale/idlescale/ratelimit"
	"github.com/idlescale/idlescale/safety"
)

// Execution is the record of one plan's execution: the plan (as executed:
// a step clamped by the rate limiter re-splits the rest), where each step
// stands, and the outcome.
type Execution struct {
	// Plan is the plan.
	Plan Plan `json:"plan"`
	// Status is where the plan stands.
	Status PlanStatus `json:"status"`
	// Steps is each step's record, in order.
	Steps []StepRecord `json:"steps"`
	// Rollback records the rollback steps carried out, if any (one whose
	// write the context cut off stays executing until the resume reads
	// the target).
	Rollback []StepRecord `json:"rollback,omitempty"`
	// RollbackCause is set once the plan is being rolled back: the text of
	// the failure that started the rollback (a step that failed or was
	// not verified). A plan whose rollback was interrupted (its context
	// ended) has status interrupted with RollbackCause set; resuming it
	// finishes the rollback, from the target's real state, rather than
	// carrying out the plan's steps. Empty in a journal written before
	// it existed: such a plan was not rolling back.
	RollbackCause string `json:"rollback_cause,omitempty"`
	// Reason says why the plan stopped, failed or was rolled back.
	Reason string `json:"reason,omitempty"`
	// Gate is the safety gate's decision that stopped the plan (status
	// blocked), nil otherwise: the rules that blocked it and whether an
	// approval is required (with the fingerprint approval.Manager.Request
	// takes).
	Gate *safety.Decision `json:"gate,omitempty"`
	// RateLimit is the rate limiter's reservation that stopped the plan
	// (status rate_limited), nil otherwise: its Reason and Next, the
	// earliest time the step could go ahead.
	RateLimit *ratelimit.Reservation `json:"rate_limit,omitempty"`
	// UpdatedAt is when the record last changed.
	UpdatedAt time.Time `json:"updated_at"`
	// Err is the failure that ended the plan, nil when the plan completed
	// or stopped without failing: refused by the gate or denied by the
	// rate limiter (statuses blocked and rate_limited with a nil Err), or
	// too old to be resumed (unless it was rolling back: then ErrRollback).
	// It is a *StepError naming the step and stage; for an interrupted
	// plan, ctx's error, or the read's (StageRead) when a resumed write in
	// flight could not be settled, or a resumed step executed and not
	// verified could not be read. A journal that serializes does not
	// store it; Error keeps its text.
	Err error `json:"-"`
	// Error is Err's text as the engine last saved the execution, empty
	// when Err was nil: a journal that serializes keeps it, and Execute
	// of a plan that ended with an error returns one with this text when
	// the journal gave back no Err.
	Error string `json:"error,omitempty"`

	// rollbackErr is the rollback's cause (RollbackCause's error) while
	// the journal keeps it in memory (MemoryJournal), so that a rollback
	// resumed in the same process ends with the cause itself rather than
	// its text.
	rollbackErr error
	// unsettled is the number (from 1) of the step whose write failed
	// while the target's size read as unknown (being applied), until the
	// rollback reads the size, known, and records the step's change if
	// it took effect; 0 for none. Like rollbackErr, only a journal that
	// keeps executions in memory keeps it.
	unsettled int
}

// StepRecord is where one step stands.
type StepRecord struct {
	// Step is the step.
	Step PlanStep `json:"step"`
	// Status is its status.
	Status StepStatus `json:"status"`
	// At is when the status last changed.
	At time.Time `json:"at"`
	// Reason says what happened (a safety decision, a rate-limit reason,
	// a verification finding).
	Reason string `json:"reason,omitempty"`
	// Reservation is the rate limiter's reservation the step's write
	// spent (WithReserver), kept so that a write interrupted by its
	// context that turns out to have changed nothing is refunded when the
	// plan is resumed (or stopped). Zero without a rate limiter, before
	// the step reserved and once it was refunded.
	Reservation ratelimit.Reservation `json:"reservation,omitzero"`
	// DownReservation is the second reservation of a resize whose sizes
	// do not tell whether it goes up or down (a driver that reports the
	// instance type alone, or vCPUs and memory moving opposite ways),
	// made with a Reserver that is not a BothReserver: such a step spends
	// both budgets, Reservation the up one and this the down one. Zero
	// otherwise (a BothReserver's Reservation is one event of
	// ratelimit.Both); refunded with Reservation.
	DownReservation ratelimit.Reservation `json:"down_reservation,omitzero"`
}

// clone returns a copy of x that shares no slices with it.
func (x Execution) clone() Execution {
	x.Steps = slices.Clone(x.Steps)
	x.Rollback = slices.Clone(x.Rollback)
	x.Plan.Steps = slices.Clone(x.Plan.Steps)
	x.Plan.Rollback = slices.Clone(x.Plan.Rollback)
	x.Plan.Monitoring.Signals = slices.Clone(x.Plan.Monitoring.Signals)
	if x.Gate != nil {
		d := *x.Gate
		d.Factors, d.Recommendations = slices.Clone(d.Factors), slices.Clone(d.Recommendations)
		d.Blocking, d.Results = slices.Clone(d.Blocking), slices.Clone(d.Results)
		x.Gate = &d
	}
	if x.RateLimit != nil {
		r := *x.RateLimit
		x.RateLimit = &r
	}
	return x
}

// Journal keeps the records of plan executions, so that executing a plan
// twice changes the target once, and a plan interrupted between steps is
// resumed from the real capacity rather than lost or repeated.
//
// Load returns the execution of a plan ID and whether there is one. Save
// stores an execution (replacing the one of its plan ID). Unfinished
// returns a target's executions whose status is not final, oldest first.
// Implementations must be safe for concurrent use, honour ctx and return
// copies the caller may change. With several replicas the journal must be
// shared (the engine's writes are fenced, its journal is not).
type Journal interface {
	Load(ctx context.Context, planID string) (Execution, bool, error)
	Save(ctx context.Context, x Execution) error
	Unfinished(ctx context.Context, target string) ([]Execution, error)
}

// MemoryJournal is a Journal in process memory. It keeps the final
// executions of the last Retention (default 24h, measured from the newest
// record) and every unfinished one. It is safe for concurrent use.
type MemoryJournal struct {
	// Retention is how long final executions are kept; 0 means 24h.
	Retention time.Duration

	mu   sync.Mutex
	byID map[string]Execution
}

var _ Journal = (*MemoryJournal)(nil)

// NewMemoryJournal returns an empty MemoryJournal.
func NewMemoryJournal() *MemoryJournal { return &MemoryJournal{byID: map[string]Execution{}} }

// Load implements Journal.
func (j *MemoryJournal) Load(ctx context.Context, planID string) (Execution, bool, error) {
	if err := ctx.Err(); err != nil {
		return Execution{}, false, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	x, ok := j.byID[planID]
	return x.clone(), ok, nil
}

// Save implements Journal.
func (j *MemoryJournal) Save(ctx context.Context, x Execution) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.byID == nil {
		j.byID = map[string]Execution{}
	}
	j.byID[x.Plan.ID] = x.clone()
	keep := j.Retention
	if keep <= 0 {
		keep = 24 * time.Hour
	}
	for id, old := range j.byID {
		if old.Status.Final() && old.UpdatedAt.Before(x.UpdatedAt.Add(-keep)) {
			delete(j.byID, id)
		}
	}
	return nil
}

// Unfinished implements Journal.
func (j *MemoryJournal) Unfinished(ctx context.Context, target string) ([]Execution, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	var out []Execution
	for _, x := range j.byID {
		if x.Plan.Target.ID == target && !x.Status.Final() {
			out = append(out, x.clone())
		}
	}
	slices.SortFunc(out, func(a, b Execution) int { return a.Plan.CreatedAt.Compare(b.Plan.CreatedAt) })
	return out, nil
}

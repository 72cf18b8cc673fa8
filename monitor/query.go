package monitor

import (
	"errors"
	"slices"
	"strconv"
	"time"

	"github.com/idlescale/idlescale/provider"
)

// Query selects events. Every set field must match; the zero Query matches
// every event.
type Query struct {
	// ResourceID keeps only the events of this resource.
	ResourceID string `json:"resource_id,omitempty"`
	// Kinds keeps only events of these kinds.
	Kinds []Kind `json:"kinds,omitempty"`
	// Source keeps only events from this source.
	Source string `json:"source,omitempty"`
	// From keeps only events at or after this time; zero means no bound.
	From time.Time `json:"from,omitzero"`
	// To keeps only events before this time; zero means no bound.
	To time.Time `json:"to,omitzero"`
	// AfterSeq keeps only events recorded after this sequence number, for
	// a reader that polls; 0 means no bound.
	AfterSeq uint64 `json:"after_seq,omitempty"`
	// Limit keeps only the newest Limit matches; 0 keeps all. Must be ≥ 0.
	Limit int `json:"limit,omitempty"`
}

// Validate returns a *provider.InvalidError (matching provider.ErrInvalid)
// naming the first wrong field: an unknown kind, To not after From, or a
// negative limit.
func (q Query) Validate() error {
	for i, k := range q.Kinds {
		if err := k.Validate(); err != nil {
			return provider.Within("kinds["+strconv.Itoa(i)+"]", unfield(err))
		}
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.To.After(q.From) {
		return provider.Invalid("to", q.To, "must be after from "+q.From.Format(time.RFC3339))
	}
	if q.Limit < 0 {
		return provider.Invalid("limit", q.Limit, "must be ≥ 0")
	}
	return nil
}

// Match reports whether e passes q (ignoring Limit).
func (q Query) Match(e Event) bool {
	return (q.ResourceID == "" || e.ResourceID == q.ResourceID) &&
		(len(q.Kinds) == 0 || slices.Contains(q.Kinds, e.Kind)) &&
		(q.Source == "" || e.Source == q.Source) &&
		(q.From.IsZero() || !e.Time.Before(q.From)) &&
		(q.To.IsZero() || e.Time.Before(q.To)) &&
		(q.AfterSeq == 0 || e.Seq > q.AfterSeq)
}

// Filter returns the events of evs that match q, keeping the last Limit
// when q.Limit is set, in their order. It does not validate q.
func (q Query) Filter(evs []Event) []Event {
	var out []Event
	for _, e := range evs {
		if q.Match(e) {
			out = append(out, e.clone())
		}
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out
}

// unfield clears the field of the *provider.InvalidError an enum's Validate
// returns ("kind"), so that Within gives the path alone ("kinds[2]").
func unfield(err error) error {
	var ie *provider.InvalidError
	if errors.As(err, &ie) {
		ie.Field = ""
	}
	return err
}

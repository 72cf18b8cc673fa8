package alert_test

import (
	"context"
	"sync"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func event(k monitor.Kind, id, outcome string, offset time.Duration) monitor.Event {
	return monitor.Event{Time: t0.Add(offset), Kind: k, Source: monitor.SourceReaper, ResourceID: id,
		Outcome: outcome, Reason: string(k) + " " + outcome}
}

// recorder is a notifier that keeps what it was sent and fails while fail
// is set.
type recorder struct {
	mu   sync.Mutex
	fail error
	got  []alert.Alert
}

func (r *recorder) Notify(_ context.Context, a alert.Alert) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.got = append(r.got, a)
	return nil
}

func (r *recorder) sent() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.got))
	for i, a := range r.got {
		out[i] = string(a.State) + " " + a.ID
	}
	return out
}

func (r *recorder) setFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

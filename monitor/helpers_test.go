package monitor_test

import (
	"github.com/idlescale/idlescale/reaper"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
)

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// ev returns a valid event of kind k for resource id at t0 + offset.
func ev(k monitor.Kind, id string, offset time.Duration) monitor.Event {
	return monitor.Event{Time: t0.Add(offset), Kind: k, Source: monitor.SourceReaper, ResourceID: id,
		Action: safety.ActionStop, Outcome: "x"}
}

func reaperRecordFailed() reaper.Record {
	return reaper.Record{ResourceID: "i-1", Outcome: reaper.OutcomeFailed, Reason: "no verdict: detection failed"}
}

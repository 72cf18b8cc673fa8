package monitor_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/safety"
)

func ExampleNewLog() {
	dir, _ := os.MkdirTemp("", "events")
	defer os.RemoveAll(dir)
	file, err := monitor.NewFileSink(monitor.FileConfig{Path: filepath.Join(dir, "events.jsonl")})
	if err != nil {
		panic(err)
	}
	defer file.Close()
	log, err := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("file", file))
	if err != nil {
		panic(err)
	}
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	_ = log.Record(context.Background(),
		monitor.Event{Time: at, Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: "i-1", Outcome: "idle", Confidence: 0.97},
		monitor.Event{Time: at, Kind: monitor.KindBlocked, Source: monitor.SourceReaper, ResourceID: "i-1",
			Action: safety.ActionStop, Outcome: "block", Rules: []string{"backup"}})
	blocked, _ := log.Query(monitor.Query{Kinds: []monitor.Kind{monitor.KindBlocked}})
	for _, e := range blocked {
		fmt.Println(e.Seq, e.ResourceID, e.Action, e.Rules)
	}
	// Output: 2 i-1 stop [backup]
}

func ExampleReaperEvents() {
	// See TestReaperEventsByOutcome for every outcome; a failed detection
	// becomes one failure event at the fallback time.
	evs := monitor.ReaperEvents(reaperRecordFailed(), time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC))
	for _, e := range evs {
		fmt.Println(e.Kind, e.ResourceID, e.Outcome)
	}
	// Output: failure i-1 failed
}

func ExampleFromAudit() {
	e := monitor.FromAudit(safety.AuditEvent{Time: time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC),
		Kind: safety.AuditApprovalApproved, Actor: "alice", ResourceID: "i-1", Action: safety.ActionStop,
		ApprovalID: "a-1", From: "pending", To: "approved"})
	fmt.Println(e.Kind, e.Source, e.Outcome, e.Actor)
	// Output: approval approval approved alice
}

package reaper

// Observer receives what the reaper did, for a host's metrics, alerts and
// audit trail. A Record carries every step for its resource: the verdict,
// the action chosen or why it was skipped, the Gate's decision, the
// approval requested, found or consumed, the reservation, the action and
// its verification.
//
// RunOnce calls ObserveRecord in the goroutine that called it, once per
// record and one record at a time; Run calls ObserveReport after each run.
// Runs of one Reaper should not overlap, and then neither do the calls.
// Keep them fast: the run waits for them. The values share their slices
// and pointers with the Report RunOnce returns; an Observer must not
// modify them.
type Observer interface {
	// ObserveRecord receives each Record of a run once it is final
	// (after verification), in the order of Report.Records (the
	// inventory's listing order).
	ObserveRecord(rec Record)
	// ObserveReport receives the report of each run of Run, with the
	// error RunOnce returned, before Run waits for the next run.
	ObserveReport(rep Report, err error)
}

// ObserverFuncs adapts functions to an Observer. A nil field ignores its
// events; the zero ObserverFuncs ignores everything.
type ObserverFuncs struct {
	// Record receives what ObserveRecord receives.
	Record func(rec Record)
	// Report receives what ObserveReport receives.
	Report func(rep Report, err error)
}

var _ Observer = ObserverFuncs{}

// ObserveRecord calls f.Record(rec) when f.Record is set.
func (f ObserverFuncs) ObserveRecord(rec Record) {
	if f.Record != nil {
		f.Record(rec)
	}
}

// ObserveReport calls f.Report(rep, err) when f.Report is set.
func (f ObserverFuncs) ObserveReport(rep Report, err error) {
	if f.Report != nil {
		f.Report(rep, err)
	}
}

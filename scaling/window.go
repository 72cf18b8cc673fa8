package scaling

import "time"

// The built-in strategies but the HPA read no History (the HPA's window
// is its stabilization window and policy periods): a target scaled only
// by them keeps the newest recommendation of each strategy and the
// newest change.

// HistoryWindow implements HistoryWindower: the threshold strategy reads
// no History.
func (s *Threshold) HistoryWindow() time.Duration { return 0 }

// HistoryWindow implements HistoryWindower: the target-value strategy
// reads no History.
func (s *TargetValue) HistoryWindow() time.Duration { return 0 }

// HistoryWindow implements HistoryWindower: the step strategy reads no
// History.
func (s *Step) HistoryWindow() time.Duration { return 0 }

// HistoryWindow implements HistoryWindower: the vertical strategy reads
// no History (its half-life weighs the metric series).
func (s *Vertical) HistoryWindow() time.Duration { return 0 }

// HistoryWindow implements HistoryWindower: the scheduled strategy reads
// no History.
func (s *Scheduled) HistoryWindow() time.Duration { return 0 }

// HistoryWindow implements HistoryWindower: the predictive strategy
// reads no History (it keeps its own model and error per target).
func (p *Predictive) HistoryWindow() time.Duration { return 0 }

// The built-in strategies say how much History they read.
var (
	_ HistoryWindower = (*HPA)(nil)
	_ HistoryWindower = (*Threshold)(nil)
	_ HistoryWindower = (*TargetValue)(nil)
	_ HistoryWindower = (*Step)(nil)
	_ HistoryWindower = (*Vertical)(nil)
	_ HistoryWindower = (*Scheduled)(nil)
	_ HistoryWindower = (*Predictive)(nil)
)

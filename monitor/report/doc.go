// Package report turns the event log into what a person reads: idle
// resources with confidence and reasons, actions taken, proposed and
// refused and why, estimated and realised savings, a scaling summary and
// alerts, as text, JSON or one self-contained HTML page; and charts, as
// Chart.js-style JSON data or SVG drawn with gonum.org/v1/plot.
//
//	evs, _ := log.Query(monitor.Query{})
//	evs, _, _ = monitor.WithChanges(log, evs) // and the changes from before them
//	rep, _ := report.Build(report.Input{Now: now, From: weekAgo, Events: evs, Resources: fleet, Alerts: alerts.Alerts()})
//	_ = rep.WriteText(os.Stdout)
//	_ = rep.WriteHTML(file, report.UtilizationChart(cpu, names), report.SavingsChart(evs, fleet, weekAgo, now, time.Hour))
//
// # Realised savings
//
// An estimate says what an action would save; a realised saving is
// measured. Every executed action (a stop, terminate or resize) carries
// the resource's hourly cost before and after it (monitor.CostChange). Per resource, from its first change to now, the
// realised saving is what it would have cost at its cost before (running
// hours × hourly cost) less what it did cost: each period at the cost
// after the change in force, and the full cost again from its launch time
// when the inventory shows a stopped resource running (restarted). A
// stop after a stop, or a change that says since when its resource ran
// (monitor.CostChange.RunningSince), shows a restart outside the recorded
// changes: the full cost again from that time, or from the earlier
// change when it is not known, so that no saving is claimed for hours
// the resource may have run. A
// change whose verification failed did not change the cost. Scaling is
// not counted as savings (a scale-out costs more by design): the scaling
// summary gives each target's instance-hours and their cost.
//
// Savings and capacity are measured from the changes among the events a
// report is given. A log keeps its newest events in memory, and a stop a
// week old has left them; it keeps the changes apart for longer
// (monitor.LogConfig.ChangeCapacity), and monitor.WithChanges puts them
// before the events, as the dashboard does. A Ledger measures the same
// savings as changes arrive, in memory that grows with the resources
// changed rather than with time, for a gauge read on every scrape.
//
// Building a report reads no clock: Input.Now is the time it is made for.
package report

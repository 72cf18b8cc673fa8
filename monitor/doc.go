// Package monitor records what happened: audit events, alerts, savings
// reports, chart data and a small web dashboard.
//
// This package is being built; it will hold the event log, alerts,
// reports and the dashboard handler.
package monitor

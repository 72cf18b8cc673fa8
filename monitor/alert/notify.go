package alert

import (
	"context"
	"log/slog"
)

// LogNotifier writes notifications to a slog.Logger: critical alerts at
// level Error, warnings at Warn, the rest (and every resolution) at Info.
// It never fails. Make one with NewLogNotifier.
type LogNotifier struct {
	log *slog.Logger
}

var _ Notifier = (*LogNotifier)(nil)

// NewLogNotifier returns a LogNotifier writing to l; a nil l writes to
// slog.Default().
func NewLogNotifier(l *slog.Logger) *LogNotifier {
	if l == nil {
		l = slog.Default()
	}
	return &LogNotifier{log: l}
}

// Notify logs a with its ID, state, severity, resource, summary, reason,
// count and times.
func (n *LogNotifier) Notify(ctx context.Context, a Alert) error {
	level := slog.LevelInfo
	if a.State == StateFiring {
		switch a.Severity {
		case SeverityCritical:
			level = slog.LevelError
		case SeverityWarning:
			level = slog.LevelWarn
		}
	}
	attrs := []slog.Attr{slog.String("alert", a.ID), slog.String("state", string(a.State)),
		slog.String("severity", string(a.Severity)), slog.String("summary", a.Summary),
		slog.Int("count", a.Count), slog.Time("starts_at", a.StartsAt)}
	if a.ResourceID != "" {
		attrs = append(attrs, slog.String("resource", a.ResourceID))
	}
	if a.Reason != "" {
		attrs = append(attrs, slog.String("reason", a.Reason))
	}
	if !a.EndsAt.IsZero() {
		attrs = append(attrs, slog.Time("ends_at", a.EndsAt))
	}
	n.log.LogAttrs(ctx, level, "alert "+string(a.State), attrs...)
	return nil
}

package alert_test

import (
	"bytes"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/alert"
)

// The LogNotifier logs a firing critical alert at Error, a warning at
// Warn, info and every resolution at Info, with the alert's attributes
// (resource, reason and end only when set).
func TestLogNotifier(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	n := alert.NewLogNotifier(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // the record's own time varies
			}
			return a
		},
	})))
	critical := alert.Alert{ID: "scaling_failure/asg", Severity: alert.SeverityCritical, State: alert.StateFiring,
		ResourceID: "asg", Summary: "scaling step failed", Reason: "throttled", Count: 2, StartsAt: t0}
	warning := alert.Alert{ID: "runs", Severity: alert.SeverityWarning, State: alert.StateFiring, Summary: "runs", Count: 1, StartsAt: t0}
	info := alert.Alert{ID: "idle_found/i-1", Severity: alert.SeverityInfo, State: alert.StateFiring, ResourceID: "i-1",
		Summary: "idle resource found", Count: 1, StartsAt: t0}
	resolved := critical
	resolved.State, resolved.EndsAt = alert.StateResolved, t0.Add(time.Hour)
	for _, a := range []alert.Alert{critical, warning, info, resolved} {
		require.NoError(t, n.Notify(t.Context(), a))
	}
	assert.Equal(t, `level=ERROR msg="alert firing" alert=scaling_failure/asg state=firing severity=critical summary="scaling step failed" count=2 starts_at=2026-03-02T10:00:00.000Z resource=asg reason=throttled
level=WARN msg="alert firing" alert=runs state=firing severity=warning summary=runs count=1 starts_at=2026-03-02T10:00:00.000Z
level=INFO msg="alert firing" alert=idle_found/i-1 state=firing severity=info summary="idle resource found" count=1 starts_at=2026-03-02T10:00:00.000Z resource=i-1
level=INFO msg="alert resolved" alert=scaling_failure/asg state=resolved severity=critical summary="scaling step failed" count=2 starts_at=2026-03-02T10:00:00.000Z resource=asg reason=throttled ends_at=2026-03-02T11:00:00.000Z
`, buf.String())
	assert.NotNil(t, alert.NewLogNotifier(nil), "nil writes to slog.Default")
}

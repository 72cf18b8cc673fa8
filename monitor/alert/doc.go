// Package alert raises alerts from the event log and from metrics:
// rules with a severity, deduplicated per rule and resource (per rule
// and reaper for a run: monitor.WithObserverActor), resolved by a
// later event, a quiet period, a metric back under its threshold or a
// resource the metric rule's filter no longer lists, and
// delivered to pluggable notifiers (a webhook with timeouts, retries and
// backoff; a slog logger; a host's own).
//
// The seed's alerts are DefaultRules: CPU above 0.9, idle resources found,
// scaling failures, plus safety blocks, failed verifications, rollbacks,
// forecast fallbacks, scaling targets without data to scale on,
// pipeline failures and failed runs.
//
//	hook, _ := alert.NewWebhook(alert.WebhookConfig{URL: "https://chat.example/hooks/ops"})
//	alerts, _ := alert.New(alert.Config{},
//		alert.WithNotifier("ops", hook), alert.WithNotifier("log", alert.NewLogNotifier(logger)),
//		alert.WithFleet(alert.Fleet{Inventory: cloud, Metrics: cloud}))
//	log, _ := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("alerts", alerts))
//	go alerts.Run(ctx) // metric rules every minute, notifications as they happen
//
// The Alerter is a monitor.Sink: the log passes it every event, and its
// Write only updates alert states and queues notifications, so a slow or
// failing endpoint never slows the pipeline that records events. Deliver
// (called by Run, or by a host that runs no loop) sends what is queued; a
// notifier that fails keeps its notifications, in order, for the next
// Deliver, while the other notifiers receive theirs. A notification a
// notifier refuses for good (ErrRejected: a webhook's 4xx other than 408
// and 429, which are retried like a 5xx, or a redirect) is dropped and
// logged, not retried, and does not hold back the ones after it.
//
// Run is the host's loop: it evaluates on its own goroutine and delivers
// on one it starts and waits for before it returns, so that an evaluation
// reading a large fleet does not hold back an event's notification.
// Nothing else starts a goroutine: Webhook.Notify makes its attempts in
// the caller's goroutine. Everything is safe for concurrent use.
package alert

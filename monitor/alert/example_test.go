package alert_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/alert"
)

func ExampleNew() {
	printer := alert.NotifierFunc(func(_ context.Context, a alert.Alert) error {
		fmt.Println(a.State, a.ID, a.Count)
		return nil
	})
	alerts, err := alert.New(alert.Config{}, alert.WithNotifier("print", printer))
	if err != nil {
		panic(err)
	}
	log, _ := monitor.NewLog(monitor.LogConfig{}, monitor.WithSink("alerts", alerts))
	ctx := context.Background()
	at := time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC)
	blocked := monitor.Event{Time: at, Kind: monitor.KindBlocked, Source: monitor.SourceReaper, ResourceID: "i-1", Outcome: "block"}
	_ = log.Record(ctx, blocked)
	blocked.Time = at.Add(time.Hour)
	_ = log.Record(ctx, blocked) // the same alert: counted, not notified again
	_ = alerts.Deliver(ctx)
	_ = alerts.Evaluate(ctx, at.Add(9*24*time.Hour)) // quiet for eight days: resolved
	_ = alerts.Deliver(ctx)
	// Output:
	// firing safety_block/i-1 1
	// resolved safety_block/i-1 2
}

func ExampleNewWebhook() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	hook, err := alert.NewWebhook(alert.WebhookConfig{URL: srv.URL, Timeout: 2 * time.Second})
	if err != nil {
		panic(err)
	}
	err = hook.Notify(context.Background(), alert.Alert{ID: "high_cpu/i-1", State: alert.StateFiring, Severity: alert.SeverityWarning})
	fmt.Println(err)
	// Output: <nil>
}

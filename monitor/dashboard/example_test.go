package dashboard_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/idlescale/idlescale/monitor"
	"github.com/idlescale/idlescale/monitor/dashboard"
)

func ExampleNew() {
	log, _ := monitor.NewLog(monitor.LogConfig{})
	_ = log.Record(context.Background(), monitor.Event{Time: time.Date(2026, 3, 7, 3, 0, 0, 0, time.UTC),
		Kind: monitor.KindVerdict, Source: monitor.SourceReaper, ResourceID: "i-1", Outcome: "idle", Confidence: 0.97})
	d, err := dashboard.New(dashboard.Config{Title: "prod-eu"}, log) // read-only: no WithAuthorizer
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(d) // a host mounts it: http.Handle("/idlescale/", http.StripPrefix("/idlescale", d))
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/idle") //nolint:noctx // an example against a local server
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	fmt.Println(resp.StatusCode, strings.Contains(string(body), `"resource_id":"i-1"`), d.ReadOnly())
	// Output: 200 true true
}

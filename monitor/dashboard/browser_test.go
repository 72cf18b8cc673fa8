package dashboard_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/idlescale/idlescale/monitor/dashboard"
	"github.com/idlescale/idlescale/safety/approval"
)

// browserLog collects what would make a page broken: console errors,
// uncaught exceptions, failed requests and error responses, dialogs (an
// alert() that escaping failed to stop).
type browserLog struct {
	mu       sync.Mutex
	problems []string
	dialogs  []string
}

func (b *browserLog) listen(ev any) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch ev := ev.(type) {
	case *runtime.EventConsoleAPICalled:
		if ev.Type == runtime.ConsoleAPICalledTypeError {
			b.problems = append(b.problems, fmt.Sprintf("console.error: %v", ev.Args))
		}
	case *runtime.EventExceptionThrown:
		b.problems = append(b.problems, "exception: "+ev.ExceptionDetails.Text)
	case *log.EventEntryAdded:
		if ev.Entry.Level == log.EntryLevelError {
			b.problems = append(b.problems, "log: "+ev.Entry.Text+" "+ev.Entry.URL)
		}
	case *network.EventLoadingFailed:
		b.problems = append(b.problems, "request failed: "+ev.ErrorText)
	case *network.EventResponseReceived:
		if ev.Response.Status >= 400 {
			b.problems = append(b.problems, fmt.Sprintf("response %d: %s", ev.Response.Status, ev.Response.URL))
		}
	case *page.EventJavascriptDialogOpening:
		b.dialogs = append(b.dialogs, ev.Message)
	}
}

func (b *browserLog) take() (problems, dialogs []string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	problems, dialogs = b.problems, b.dialogs
	b.problems, b.dialogs = nil, nil
	return problems, dialogs
}

// browser starts a real headless Chromium (Debian's chromium, which make
// test installs) for the test, with a fresh profile, and returns a
// chromedp context whose events go to bl. A missing browser fails the
// test with the install hint; it is never skipped.
func browser(t *testing.T, bl *browserLog) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("chromium not found (%v): run `make deps` (apt-get install chromium fonts-liberation)", err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox, // the tests run as root
		chromedp.UserDataDir(t.TempDir()),
		// This machine's network is closed: Chromium's own background
		// connections must not even be tried.
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-first-run", true),
		chromedp.WindowSize(1280, 1700),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(allocCtx, chromedp.WithListener(bl.listen))
	t.Cleanup(cancel)
	// Start the browser without a deadline (a deadline on the first Run
	// would end the browser with it).
	require.NoError(t, chromedp.Do(ctx), "starting chromium")
	return ctx
}

// within runs f with a generous deadline, so that a hung page fails the
// test instead of hanging it.
func within[T any](ctx context.Context, t *testing.T, a chromedp.Action[T]) T {
	t.Helper()
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	v, err := chromedp.Run(tctx, a)
	require.NoError(t, err)
	return v
}

func do(ctx context.Context, t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	within(ctx, t, chromedp.Steps(steps...))
}

// The dashboard in a real browser: the page loads clean, the charts are
// drawn, the idle table lists the idle resources, hostile names stay text,
// an approval is granted through the page with an authorizer, and cannot
// be without one.
func TestBrowser(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	_, srv := f.serve(t, dashboard.WithAuthorizer(alice))
	_, ro := f.serve(t)
	bl := &browserLog{}
	ctx := browser(t, bl)

	do(ctx, t, chromedp.Navigate(srv.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	problems, dialogs := bl.take()
	assert.Empty(t, problems, "no console error, no failed request")
	assert.Empty(t, dialogs)

	// The charts are drawn: each has an SVG with paths (lines, bars) and
	// its title as text.
	paths := within(ctx, t, chromedp.Evaluate[map[string]int](`Object.fromEntries(
		[...document.querySelectorAll("figure.chart")].map(f => [f.dataset.chart, f.querySelectorAll("svg path").length]))`))
	assert.Equal(t, []string{"cost", "idle", "safety", "savings", "utilization"}, sortedKeys(paths))
	for name, n := range paths {
		assert.Greater(t, n, 10, "chart %s has drawn paths", name)
	}
	title := within(ctx, t, chromedp.TextContent(chromedp.CSS(`#chart-utilization svg`)))
	assert.Contains(t, title, "CPU utilization")
	assert.Contains(t, title, "reporting-batch", "the legend names the resources")
	lines := within(ctx, t, chromedp.Evaluate[int](`[...document.querySelectorAll("#chart-utilization svg path")].filter(p => (p.getAttribute("d")||"").split("L").length > 40).length`))
	assert.GreaterOrEqual(t, lines, 5, "five CPU series of 48 points each")

	// The idle table lists the idle resources, hostile ID included, as text.
	ids := within(ctx, t, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#idle td.resource")].map(td => td.textContent)`))
	assert.ElementsMatch(t, []string{"i-idle", "i-nobackup", hostileID, "i-prod"}, ids)
	names := within(ctx, t, chromedp.TextContent(chromedp.CSS(`#idle table`)))
	assert.Contains(t, names, hostileName, "the hostile name shows as text")
	imgs := within(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll("img").length`))
	assert.Zero(t, imgs, "no element made from a name")
	scripts := within(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll("script").length`))
	assert.Equal(t, 1, scripts, "only app.js")
	realised := within(ctx, t, chromedp.Text(chromedp.ID("total-realised")))
	assert.Equal(t, "$0.58", realised, "6 h of a stopped $0.096/h instance")

	// A screenshot under the test's temp dir (and, for the README, where
	// IDLESCALE_SCREENSHOT says).
	png := within(ctx, t, chromedp.FullScreenshot(100))
	require.True(t, strings.HasPrefix(string(png), "\x89PNG"), "a PNG")
	shot := filepath.Join(t.TempDir(), "dashboard.png")
	require.NoError(t, os.WriteFile(shot, png, 0o644))
	if out := os.Getenv("IDLESCALE_SCREENSHOT"); out != "" {
		require.NoError(t, os.WriteFile(out, png, 0o644))
	}

	// Approve the pending request through the page.
	sel := `button.approve[data-id="` + f.pending.ID + `"]`
	do(ctx, t, chromedp.Click(chromedp.CSS(sel)),
		chromedp.WaitVisible(chromedp.CSS(`tr[data-approval="`+f.pending.ID+`"][data-state="approved"]`)))
	status := within(ctx, t, chromedp.Text(chromedp.ID("status")))
	assert.Equal(t, "request "+f.pending.ID+" approved", status)
	got, err := f.approvals.Get(t.Context(), f.pending.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State)
	assert.Equal(t, "alice", got.DecidedBy)
	problems, dialogs = bl.take()
	assert.Empty(t, problems)
	assert.Empty(t, dialogs)

	// Read-only: no buttons, and a POST from the page is refused.
	do(ctx, t, chromedp.Navigate(ro.URL+"/"), chromedp.WaitVisible(chromedp.CSS(`body[data-ready="true"]`)))
	buttons := within(ctx, t, chromedp.Evaluate[int](`document.querySelectorAll("button").length`))
	assert.Zero(t, buttons)
	code := within(ctx, t, chromedp.Evaluate[int](`fetch("api/approvals/`+f.pending.ID+`/deny", {method: "POST",
		headers: {"Content-Type": "application/json", "X-CSRF-Token": "guess"}, body: "{}"}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	assert.Equal(t, 403, code)
	got, err = f.approvals.Get(t.Context(), f.pending.ID)
	require.NoError(t, err)
	assert.Equal(t, approval.Approved, got.State, "unchanged")
	_, dialogs = bl.take()
	assert.Empty(t, dialogs)
}

func sortedKeys(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

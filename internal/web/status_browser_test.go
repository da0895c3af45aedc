package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"layerindex/internal/db"
)

// TestBrowserIndexingStatus opens the indexing status page in Chromium
// while an update runs (held in its fetch): it shows the run with its log
// so far, and when the update is let go the page — never reloaded — moves
// it out of "Running" by itself (static/js/status.js), while the failing
// layer stays listed.
func TestBrowserIndexingStatus(t *testing.T) {
	bctx, shots := startBrowser(t, "status")
	s := newStatusScene(t, db.SQLite)
	shot := func(name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return v
	}
	ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
	defer cancel()
	run := `section.status-run[data-run="` + int64s(s.run.ID) + `"]`
	if err := chromedp.Do(ctx, chromedp.Navigate(s.e.ts.URL+"/layerindex/status/"), chromedp.WaitVisible(chromedp.CSS(run)),
		chromedp.WaitVisible(chromedp.CSS(".status-live-note"))); err != nil {
		t.Fatalf("the status page with the running update: %v", err)
	}
	if got := text(run); !strings.Contains(got, "meta-status on master") || !strings.Contains(got, "updating layer meta-status on branch master") {
		t.Errorf("running update: %q", got)
	}
	if got := text("table.status-waiting"); !strings.Contains(got, "meta-wait") {
		t.Errorf("waiting: %q", got)
	}
	shot("01-running")

	s.open()
	ctx2, cancel2 := context.WithTimeout(bctx, 60*time.Second)
	defer cancel2()
	if err := chromedp.Do(ctx2, chromedp.WaitVisible(chromedp.CSS(".status-none-running")), chromedp.WaitVisible(chromedp.CSS(".status-none-waiting"))); err != nil {
		t.Fatalf("the page did not follow the update's end: %v", err)
	}
	if got := text("table.status-failing"); !strings.Contains(got, "meta-broken") || strings.Contains(got, "meta-status") {
		t.Errorf("failing: %q", got)
	}
	shot("02-ended")
}

package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"layerindex/internal/db"
)

// TestBrowserIndexingStatus opens the indexing status page in Chromium
// while an update runs (held in its fetch): it shows the run with its log
// so far, and when the update is let go the page — never reloaded — moves
// it out of "Running" by itself (static/js/status.js), while the failing
// layer stays listed.
func TestBrowserIndexingStatus(t *testing.T) {
	b := startBrowser(t, "status")
	s := newStatusScene(t, db.SQLite)
	run := `section.status-run[data-run="` + int64s(s.run.ID) + `"]`
	b.do("the status page with the running update", chromedp.Navigate(s.e.ts.URL+"/layerindex/status/"), chromedp.WaitVisible(chromedp.CSS(run)),
		chromedp.WaitVisible(chromedp.CSS(".status-live-note")))
	if got := b.text(run); !strings.Contains(got, "meta-status on master") || !strings.Contains(got, "updating layer meta-status on branch master") {
		t.Errorf("running update: %q", got)
	}
	if got := b.text("table.status-waiting"); !strings.Contains(got, "meta-wait") {
		t.Errorf("waiting: %q", got)
	}
	b.shot("01-running")

	s.open()
	ctx2, cancel2 := context.WithTimeout(b.ctx, 2*browserStep)
	defer cancel2()
	if err := chromedp.Do(ctx2, chromedp.WaitVisible(chromedp.CSS(".status-none-running")), chromedp.WaitVisible(chromedp.CSS(".status-none-waiting"))); err != nil {
		t.Fatalf("the page did not follow the update's end: %v", err)
	}
	if got := b.text("table.status-failing"); !strings.Contains(got, "meta-broken") || strings.Contains(got, "meta-status") {
		t.Errorf("failing: %q", got)
	}
	b.shot("02-ended")
}

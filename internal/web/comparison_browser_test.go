package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"layerindex/internal/comparison"
	"layerindex/internal/db"
)

// TestComparisonBrowser walks the comparison pages in headless Chromium:
// from the header to a comparison, a cover filter, the statistics (the
// charts drawn by the server must be visible) and a package's page.
// Screenshots go in $LAYERINDEX_SCREENSHOTS/comparison.
func TestComparisonBrowser(t *testing.T) {
	bctx, shots := startBrowser(t, "comparison")
	f := loadBrowseFixture(t, db.SQLite)
	ps, _, err := comparison.ParseDeb(strings.NewReader(webPackages), "Packages")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := comparison.New(f.conn.Gorm).Import(context.Background(), comparison.CLI, comparison.ImportRequest{
		Branch: "debian", Description: "Debian test", Format: comparison.FormatDeb, Packages: ps}); err != nil {
		t.Fatal(err)
	}
	do := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
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

	do("open the layer list", chromedp.Navigate(f.ts.URL+"/layerindex/branch/master/layers/"), chromedp.WaitVisible(chromedp.CSS("table.layers")))
	do("follow Other distros", chromedp.Click(`//nav[contains(@class,"main-nav")]//a[.="Other distros"]`),
		chromedp.WaitVisible(`//h1[contains(., "other distributions")]`))
	if s := text("main"); !strings.Contains(s, "debian") || !strings.Contains(s, "Debian test") {
		t.Errorf("comparison list: %s", s)
	}
	shot("01-comparisons")
	do("open debian", chromedp.Click(`//a[.="debian"]`), chromedp.WaitVisible(chromedp.CSS("table.comparison")))
	s := text("table.comparison")
	for _, want := range []string{"zlib1g", "Direct match", "fortune-mod", "Unknown"} {
		if !strings.Contains(s, want) {
			t.Errorf("package list lacks %q", want)
		}
	}
	shot("02-packages")
	do("filter the unknown ones", chromedp.SetValue(chromedp.CSS("#cmp-status"), "unknown"),
		chromedp.Click(`//form[contains(@class,"filters")]//button[.="Filter"]`),
		// fortune-mod is on the unfiltered page too: wait for the filtered
		// page (the server marks its status selected) before reading it.
		chromedp.WaitReady(`//select[@id="cmp-status"]/option[@value="unknown" and @selected]`),
		chromedp.WaitVisible(`//td//a[.="fortune-mod"]`))
	if s := text("table.comparison"); strings.Contains(s, "zlib1g") || !strings.Contains(s, "cowsay") {
		t.Errorf("filtered list: %s", s)
	}
	shot("03-unknown")
	do("open the statistics", chromedp.Navigate(f.ts.URL+"/layerindex/comparison/stats/debian/"), chromedp.WaitVisible(chromedp.CSS("svg.barchart rect")))
	ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
	defer cancel()
	bars, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Array.from(document.querySelectorAll("svg.barchart rect")).filter(r => r.getBoundingClientRect().width > 0).length`))
	if err != nil || bars < 5 {
		t.Errorf("%d bars drawn (%v)", bars, err)
	}
	shot("04-stats")
	do("open zlib1g", chromedp.Navigate(f.ts.URL+"/layerindex/comparison/recipes/debian/?q=zlib1g"),
		chromedp.Click(`//td//a[.="zlib1g"]`), chromedp.WaitVisible(`//h1[contains(., "zlib1g")]`))
	if s := text("main"); !strings.Contains(s, "Zlib Compression Library") || !strings.Contains(s, "known alias zlib1g → zlib") {
		t.Errorf("package page: %s", s)
	}
	shot("05-package")
}

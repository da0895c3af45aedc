package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"layerindex/internal/comparison"
	"layerindex/internal/db"
)

// TestComparisonBrowser walks the comparison pages in headless Chromium:
// from the header to a comparison, a cover filter, the statistics (the
// charts drawn by the server must be visible) and a package's page.
// Screenshots go in $LAYERINDEX_SCREENSHOTS/comparison.
func TestComparisonBrowser(t *testing.T) {
	b := startBrowser(t, "comparison")
	f := loadBrowseFixture(t, db.SQLite)
	ps, _, err := comparison.ParseDeb(strings.NewReader(webPackages), "Packages")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := comparison.New(f.conn.Gorm).Import(context.Background(), comparison.CLI, comparison.ImportRequest{
		Branch: "debian", Description: "Debian test", Format: comparison.FormatDeb, Packages: ps}); err != nil {
		t.Fatal(err)
	}

	b.do("open the layer list", chromedp.Navigate(f.ts.URL+"/layerindex/branch/master/layers/"), chromedp.WaitVisible(chromedp.CSS("table.layers")))
	b.do("follow Other distros", chromedp.Click(`//nav[contains(@class,"main-nav")]//a[.="Other distros"]`),
		chromedp.WaitVisible(`//h1[contains(., "other distributions")]`))
	if s := b.text("main"); !strings.Contains(s, "debian") || !strings.Contains(s, "Debian test") {
		t.Errorf("comparison list: %s", s)
	}
	b.shot("01-comparisons")
	b.do("open debian", chromedp.Click(`//a[.="debian"]`), chromedp.WaitVisible(chromedp.CSS("table.comparison")))
	s := b.text("table.comparison")
	for _, want := range []string{"zlib1g", "Direct match", "fortune-mod", "Unknown"} {
		if !strings.Contains(s, want) {
			t.Errorf("package list lacks %q", want)
		}
	}
	b.shot("02-packages")
	b.do("filter the unknown ones", chromedp.SetValue(chromedp.CSS("#cmp-status"), "unknown"),
		chromedp.Click(`//form[contains(@class,"filters")]//button[.="Filter"]`),
		// fortune-mod is on the unfiltered page too: wait for the filtered
		// page (the server marks its status selected) before reading it.
		chromedp.WaitReady(`//select[@id="cmp-status"]/option[@value="unknown" and @selected]`),
		chromedp.WaitVisible(`//td//a[.="fortune-mod"]`))
	if s := b.text("table.comparison"); strings.Contains(s, "zlib1g") || !strings.Contains(s, "cowsay") {
		t.Errorf("filtered list: %s", s)
	}
	b.shot("03-unknown")
	b.do("open the statistics", chromedp.Navigate(f.ts.URL+"/layerindex/comparison/stats/debian/"), chromedp.WaitVisible(chromedp.CSS("svg.barchart rect")))
	if bars := browserRun(b, "counting the bars", chromedp.Evaluate[int](`Array.from(document.querySelectorAll("svg.barchart rect")).filter(r => r.getBoundingClientRect().width > 0).length`)); bars < 5 {
		t.Errorf("%d bars drawn", bars)
	}
	b.shot("04-stats")
	b.do("open zlib1g", chromedp.Navigate(f.ts.URL+"/layerindex/comparison/recipes/debian/?q=zlib1g"),
		chromedp.Click(`//td//a[.="zlib1g"]`), chromedp.WaitVisible(`//h1[contains(., "zlib1g")]`))
	if s := b.text("main"); !strings.Contains(s, "Zlib Compression Library") || !strings.Contains(s, "known alias zlib1g → zlib") {
		t.Errorf("package page: %s", s)
	}
	b.shot("05-package")
}

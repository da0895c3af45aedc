package web_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"layerindex/internal/db"
)

// TestBrowser walks the site in headless Chromium as a person would: layer
// list, release switch, type filter, searches, a recipe, a layer's machines
// tab. It asserts on what is visible and saves a screenshot of each page in
// $LAYERINDEX_SCREENSHOTS (default: a temporary directory, logged).
func TestBrowser(t *testing.T) {
	b := startBrowser(t, "")
	f := loadBrowseFixture(t, db.SQLite)
	refuse := func(where, text string, nots ...string) {
		t.Helper()
		for _, w := range nots {
			if strings.Contains(text, w) {
				t.Errorf("%s: %q visible but should not be", where, w)
			}
		}
	}

	// 1. The layer list, reached through upstream's front-page URL.
	b.do("open the index", chromedp.Navigate(f.ts.URL+"/layerindex/"), chromedp.WaitVisible(chromedp.CSS("table.layers")))
	if loc := b.location(f.ts.URL); loc != "/layerindex/branch/master/layers/" {
		t.Errorf("front page landed on %s", loc)
	}
	main := b.text("main")
	b.expect("layer list", main, "openembedded-core", "meta-raspberrypi", "meta-python", "Raspberry Pi BSP")
	refuse("layer list", main, "meta-submitted")
	b.shot("01-layers-master")

	// 2. Switch the release with the selector in the header.
	b.do("open the release selector", chromedp.Click(chromedp.CSS("details.branch-menu summary")),
		chromedp.WaitVisible(chromedp.CSS(`details.branch-menu a[href*="scarthgap"]`)))
	b.shot("02-release-selector")
	b.do("pick scarthgap", chromedp.Click(chromedp.CSS(`details.branch-menu a[href*="scarthgap"]`)),
		chromedp.WaitVisible(`//h1[contains(., "scarthgap")]`))
	main = b.text("main")
	b.expect("scarthgap layers", main, "openembedded-core", "meta-oe")
	refuse("scarthgap layers", main, "meta-raspberrypi")
	if loc := b.location(f.ts.URL); loc != "/layerindex/branch/scarthgap/layers/" {
		t.Errorf("release switch landed on %s", loc)
	}
	b.shot("03-layers-scarthgap")

	// 3. Filter by type on master.
	b.do("back to master", chromedp.Navigate(f.ts.URL+"/layerindex/branch/master/layers/"), chromedp.WaitVisible(chromedp.CSS("table.layers")))
	b.do("tick Machine (BSP) and filter", chromedp.Click(chromedp.CSS(`input[name=type][value=B]`)),
		chromedp.Click(`//form[contains(@class,"filters")]//button[.="Filter"]`),
		chromedp.WaitVisible(`//a[.="Clear filters"]`))
	if loc := b.location(f.ts.URL); !strings.Contains(loc, "type=B") {
		t.Errorf("type filter did not apply: %s", loc)
	}
	main = b.text("table.layers")
	b.expect("BSP layers", main, "meta-raspberrypi")
	refuse("BSP layers", main, "openembedded-core", "meta-python")
	b.shot("04-layers-type-bsp")

	// 4. Search pn:busybox from the header: one result opens the recipe.
	b.do("search pn:busybox", chromedp.SendKeys(chromedp.CSS("#header-q"), "pn:busybox\n"),
		chromedp.WaitVisible(`//h1[contains(., "busybox")]`))
	if loc := b.location(f.ts.URL); !strings.HasPrefix(loc, "/layerindex/recipe/") {
		t.Errorf("pn:busybox landed on %s", loc)
	}
	main = b.text("main")
	b.expect("busybox recipe", main, "1.38.0", "Tiny versions of many common UNIX utilities", "GPL-2.0-only & bzip2-1.0.4",
		"kernel-headers", "busybox_%.bbappend", "meta-raspberrypi", "scarthgap", "https://busybox.net/downloads/busybox-1.38.0.tar.bz2")
	b.shot("05-recipe-busybox")

	// 5. A free-text search, then open a result.
	b.do("search library", chromedp.Navigate(f.ts.URL+"/layerindex/branch/master/recipes/"),
		chromedp.WaitVisible(chromedp.CSS("#recipe-q")),
		chromedp.SendKeys(chromedp.CSS("#recipe-q"), "library\n"),
		chromedp.WaitVisible(`//p[contains(@class, "count") and contains(., "found")]`))
	main = b.text("table.recipes")
	b.expect("search results", main, "glib-2.0", "glibmm", "zlib", "C++ bindings for the glib library")
	refuse("search results", main, "busybox")
	b.shot("06-search-library")
	b.do("open glibmm", chromedp.Click(`//table[contains(@class,"recipes")]//a[.="glibmm"]`),
		chromedp.WaitVisible(`//h1[contains(., "glibmm")]`))
	main = b.text("main")
	b.expect("glibmm recipe", main, "C++ bindings for the glib library", "glib-2.0", "libsigc++-2.0", "no provider found", "meta-oe")
	b.shot("07-recipe-glibmm")

	// 6. A layer's machines tab.
	b.do("open meta-raspberrypi", chromedp.Navigate(f.ts.URL+"/layerindex/branch/master/layer/meta-raspberrypi/"),
		chromedp.WaitVisible(chromedp.CSS("nav.tabs")))
	main = b.text("main")
	b.expect("layer page", main, "Raspberry Pi BSP", "Use the kirkstone branch for the Pi 1.", "Maintainer of meta-raspberrypi", "openembedded-core", "linux-raspberrypi")
	b.shot("08-layer-raspberrypi")
	b.do("open the machines tab", chromedp.Click(`//nav[contains(@class,"tabs")]//a[contains(., "Machines")]`),
		chromedp.WaitVisible(`//nav[contains(@class,"tabs")]//a[@aria-current="page" and contains(., "Machines")]`))
	main = b.text("section.tab-panel")
	b.expect("machines tab", main, "raspberrypi4-64", "RaspberryPi 4 Development Board (64bit)", "raspberrypi5")
	refuse("machines tab", main, "linux-raspberrypi")
	b.shot("09-layer-machines")

	// The other pages, for the record and for a look at the design.
	for _, p := range []struct{ name, path, want string }{
		{"10-recipe-partial", "/layerindex/branch/master/recipes/?q=pn:linux-raspberrypi", "Partly evaluated"},
		{"11-machines", "/layerindex/branch/master/machines/", "raspberrypi5"},
		{"12-classes", "/layerindex/branch/master/classes/", "sdcard_image-rpi"},
		{"13-duplicates", "/layerindex/branch/master/duplicates/", "zlib 1.2 in meta-python"},
		{"14-stats", "/layerindex/stats/", "distinct recipes"},
		{"15-updates", "/layerindex/updates/", "succeeded"},
		{"16-update-log", "/layerindex/layerupdate/" + strconv.FormatInt(f.layerUpdateID, 10) + "/", "could not evaluate"},
		{"17-home", "/", "Find OpenEmbedded layers"},
		{"18-not-found", "/layerindex/branch/master/layer/meta-nowhere/", "no published layer"},
		{"19-bad-query", "/layerindex/branch/master/recipes/?q=%22unclosed", "unclosed quote"},
	} {
		b.do("open "+p.path, chromedp.Navigate(f.ts.URL+p.path), chromedp.WaitVisible(chromedp.CSS("main")))
		b.expect(p.name, b.text("main"), p.want)
		b.shot(p.name)
	}

	// A phone-sized screen: the layout must still read well.
	b.do("narrow window", chromedp.EmulateViewport(390, 844), chromedp.Navigate(f.ts.URL+"/layerindex/branch/master/layer/meta-raspberrypi/"),
		chromedp.WaitVisible(chromedp.CSS("nav.tabs")))
	b.shot("20-layer-phone")
}

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
	"layerindex/internal/store"
)

// TestBrowserCompatDepsSetup renders the releases matrix, the dependency
// graph and the build setup page in Chromium.
func TestBrowserCompatDepsSetup(t *testing.T) {
	bctx, shots := startBrowser(t, "")
	f := loadBrowseFixture(t, db.SQLite)
	for key, cols := range map[string]map[string]any{
		"openembedded-core/master":    {"series_corenames": "wrynose blacksail", "series_compat": "wrynose"},
		"openembedded-core/scarthgap": {"series_corenames": "scarthgap", "series_compat": "scarthgap"},
		"meta-oe/master":              {"series_compat": "whinlatter wrynose"},
		"meta-oe/scarthgap":           {"series_compat": "scarthgap"},
		"meta-raspberrypi/master":     {"declared_recommends": "meta-python qt5-layer"},
	} {
		if err := f.conn.Gorm.Model(&store.LayerBranch{}).Where("id = ?", f.LayerBranch[key].ID).Updates(cols).Error; err != nil {
			t.Fatal(err)
		}
	}
	visit := func(name, path, waitSel string, wants ...string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, chromedp.Navigate(f.ts.URL+path), chromedp.WaitVisible(chromedp.CSS(waitSel))); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, w := range wants {
			if !strings.Contains(text, w) {
				t.Errorf("%s: %q not visible in:\n%s", path, w, text)
			}
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	visit("compat-matrix", "/layerindex/branch/master/layer/meta-oe/?tab=releases", "table.compat-matrix td.compat-compatible",
		"✔ compatible", "✘ declared incompatible", "whinlatter wrynose")
	visit("dependency-graph", "/layerindex/branch/master/layer/meta-raspberrypi/?tab=dependencies", "svg.depgraph g.unresolved",
		"qt5-layer", "unresolvable", "meta-python")
	visit("setup", "/layerindex/branch/master/setup/?layer=meta-python", "section.setup-out table",
		"bitbake-setup init", "meta-openembedded/meta-python", "kas")
}

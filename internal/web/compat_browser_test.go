package web_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/chromedp/chromedp"

	"layerindex/internal/db"
	"layerindex/internal/store"
)

// TestBrowserCompatDepsSetup renders the releases matrix, the dependency
// graph, the build setup page, the layer sets, a recipe's layer sets and
// the layers compatible with a release from elsewhere in Chromium.
func TestBrowserCompatDepsSetup(t *testing.T) {
	b := startBrowser(t, "")
	f := loadBrowseFixture(t, db.SQLite)
	for key, cols := range map[string]map[string]any{
		"openembedded-core/master":    {"series_corenames": "wrynose blacksail", "series_compat": "wrynose"},
		"openembedded-core/scarthgap": {"series_corenames": "scarthgap", "series_compat": "scarthgap"},
		"meta-oe/master":              {"series_compat": "whinlatter wrynose"},
		"meta-oe/scarthgap":           {"series_compat": "scarthgap"},
		"meta-raspberrypi/master":     {"declared_recommends": "meta-python qt5-layer", "series_compat": "scarthgap"},
	} {
		if err := f.conn.Gorm.Model(&store.LayerBranch{}).Where("id = ?", f.LayerBranch[key].ID).Updates(cols).Error; err != nil {
			t.Fatal(err)
		}
	}
	ls := &store.LayerSet{Name: "python-set", Description: "Python on master", BranchID: f.LayerBranch["meta-python/master"].BranchID, Published: true}
	if err := store.New(f.conn.Gorm).SaveLayerSet(context.Background(), ls, []int64{f.LayerBranch["meta-python/master"].LayerID}); err != nil {
		t.Fatal(err)
	}
	visit := func(name, path, waitSel string, wants ...string) {
		t.Helper()
		b.do("open "+path, chromedp.Navigate(f.ts.URL+path), chromedp.WaitVisible(chromedp.CSS(waitSel)))
		b.expect(path, b.text("main"), wants...)
		b.shot(name)
	}
	visit("compat-matrix", "/layerindex/branch/master/layer/meta-oe/?tab=releases", "table.compat-matrix td.compat-compatible",
		"✔ compatible", "✘ declared incompatible", "whinlatter wrynose")
	visit("dependency-graph", "/layerindex/branch/master/layer/meta-raspberrypi/?tab=dependencies", "svg.depgraph g.unresolved",
		"qt5-layer", "unresolvable", "meta-python")
	visit("setup", "/layerindex/branch/master/setup/?layer=meta-python", "section.setup-out table",
		"bitbake-setup init", "meta-openembedded/meta-python", "kas")
	visit("layer-sets", "/layerindex/layersets/", "table.layersets td.name",
		"python-set", "Python on master", "python-set.conf.json", "bitbake-setup list")
	visit("recipe-layer-sets", "/layerindex/recipe/"+strconv.FormatInt(f.Recipes["meta-oe/master/glibmm"], 10)+"/", "#layersets li",
		"python-set", "as a dependency")
	visit("compatible-elsewhere", "/layerindex/branch/scarthgap/layers/", "#compatible-elsewhere table",
		"Also compatible with scarthgap", "meta-raspberrypi")
}

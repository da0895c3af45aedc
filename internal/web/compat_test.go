package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestCompatAndDependencyPages checks the layer list's "compatible with"
// filter, the releases matrix and the dependencies tab (SVG, list, reverse
// dependencies, unresolvable ones marked).
func TestCompatAndDependencyPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		f := loadBrowseFixture(t, d)
		set := func(key string, cols map[string]any) {
			t.Helper()
			if err := f.conn.Gorm.Model(&store.LayerBranch{}).Where("id = ?", f.LayerBranch[key].ID).Updates(cols).Error; err != nil {
				t.Fatal(err)
			}
		}
		set("openembedded-core/master", map[string]any{"series_corenames": "wrynose blacksail", "series_compat": "wrynose"})
		set("openembedded-core/scarthgap", map[string]any{"series_corenames": "scarthgap", "series_compat": "scarthgap"})
		set("meta-oe/master", map[string]any{"series_compat": "whinlatter wrynose", "declared_depends": "core"})
		set("meta-oe/scarthgap", map[string]any{"series_compat": "scarthgap"})
		set("meta-raspberrypi/master", map[string]any{"series_compat": "scarthgap", "declared_recommends": "meta-python qt5-layer"})

		ctx := context.Background()
		st := store.New(f.conn.Gorm)
		master, _ := st.BranchByName(ctx, "master")
		python := &store.LayerSet{Name: "python-set", Description: "Python things", BranchID: master.ID, Published: true}
		if err := st.SaveLayerSet(ctx, python, []int64{f.LayerBranch["meta-python/master"].LayerID}); err != nil {
			t.Fatal(err)
		}
		oe := &store.LayerSet{Name: "oe-set", BranchID: master.ID, Published: true}
		if err := st.SaveLayerSet(ctx, oe, []int64{f.LayerBranch["meta-oe/master"].LayerID}); err != nil {
			t.Fatal(err)
		}
		draft := &store.LayerSet{Name: "draft-set", BranchID: master.ID}
		if err := st.SaveLayerSet(ctx, draft, []int64{f.LayerBranch["meta-oe/master"].LayerID}); err != nil {
			t.Fatal(err)
		}
		recipe := func(key string) string { return "/layerindex/recipe/" + strconv.FormatInt(f.Recipes[key], 10) + "/" }

		cases := []struct {
			path   string
			status int
			want   []string
			not    []string
		}{
			{"/layerindex/branch/master/layers/?compatible=master", 200,
				[]string{">meta-oe<", ">openembedded-core<", "wrynose blacksail"}, []string{">meta-raspberrypi<", ">meta-python<"}},
			{"/layerindex/branch/master/layers/?compatible=scarthgap", 200,
				[]string{">meta-raspberrypi<"}, []string{">meta-oe<", ">meta-python<"}},
			// The branch page: layers indexed elsewhere that declare
			// compatibility with the release.
			{"/layerindex/branch/scarthgap/layers/", 200,
				[]string{"Also compatible with scarthgap", `href="/layerindex/branch/master/layer/meta-raspberrypi/"`}, []string{"meta-python"}},
			{"/layerindex/branch/master/layers/", 200, nil, []string{"Also compatible with"}},
			// The recipe page: the published layer sets whose build has it.
			{recipe("meta-oe/master/glibmm"), 200,
				[]string{"python-set", "Python things", "as a dependency", "oe-set", "picked"}, []string{"draft-set"}},
			{recipe("meta-raspberrypi/master/linux-raspberrypi"), 200, []string{"No published layer set on master includes meta-raspberrypi."}, []string{"python-set"}},
			{"/layerindex/branch/master/layers/?compatible=nowhere", 400, []string{"no release branch named"}, nil},
			{"/layerindex/branch/master/layer/meta-oe/?tab=releases", 200,
				[]string{"compat-matrix", "whinlatter wrynose", "✔ compatible", "✘ declared incompatible"}, nil},
			{"/layerindex/branch/master/layer/meta-python/?tab=releases", 200, []string{"? unknown", "declares nothing"}, nil},
			{"/layerindex/branch/master/layer/meta-raspberrypi/?tab=dependencies", 200,
				[]string{"<svg", "class=\"node root\"", "qt5-layer", "unresolvable", `href="/layerindex/branch/master/layer/meta-python/"`,
					"recommended", ">meta-oe<"}, nil},
			{"/layerindex/branch/master/layer/openembedded-core/?tab=dependencies", 200,
				[]string{"No dependencies.", "Layers that depend on openembedded-core", ">meta-raspberrypi</a>", ">meta-oe</a>"}, []string{"unresolvable"}},
		}
		for _, c := range cases {
			status, body, _ := get(t, f.ts.URL, c.path)
			if status != c.status {
				t.Errorf("%s: status %d, want %d", c.path, status, c.status)
			}
			for _, w := range c.want {
				if !strings.Contains(body, w) {
					t.Errorf("%s: missing %q", c.path, w)
				}
			}
			for _, n := range c.not {
				if strings.Contains(body, n) {
					t.Errorf("%s: should not contain %q", c.path, n)
				}
			}
		}
	})
}

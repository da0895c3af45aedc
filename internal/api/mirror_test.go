package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"layerindex/internal/api"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// snapshot reads every resource of the API at base and rewrites ids into
// natural keys (names), so two indexes holding the same data compare equal
// whatever their ids. Dates ("updated") are kept: an import keeps the other
// index's, which importers of this one compare.
func snapshot(t *testing.T, base string) map[string][]string {
	t.Helper()
	branch := map[float64]string{}
	for _, b := range list(t, base+"branches/") {
		branch[b["id"].(float64)] = b["name"].(string)
	}
	layer := map[float64]string{}
	for _, l := range list(t, base+"layerItems/") {
		layer[l["id"].(float64)] = l["name"].(string)
	}
	lb := map[float64]string{}
	for _, x := range list(t, base+"layerBranches/") {
		lb[x["id"].(float64)] = layer[x["layer"].(float64)] + "/" + branch[x["branch"].(float64)]
	}
	rename := func(o map[string]any) {
		delete(o, "id")
		for k, m := range map[string]map[float64]string{"branch": branch, "layer": layer, "dependency": layer, "layerbranch": lb} {
			if v, ok := o[k].(float64); ok {
				o[k] = m[v]
			}
		}
		if fds, ok := o["filedeps"].([]any); ok {
			for _, f := range fds {
				f.(map[string]any)["layerbranch"] = lb[f.(map[string]any)["layerbranch"].(float64)]
			}
		}
	}
	out := map[string][]string{}
	for _, name := range []string{"branches", "layerItems", "layerBranches", "layerDependencies", "layerMaintainers", "layerNotes",
		"recipes", "machines", "distros", "classes", "appends", "incFiles"} {
		for _, o := range list(t, base+name+"/") {
			rename(o)
			b, _ := json.Marshal(o)
			out[name] = append(out[name], string(b))
		}
	}
	for u := base + "recipesExtended/"; u != ""; {
		var p struct {
			Next    *string
			Results []map[string]any
		}
		if err := json.Unmarshal(get(t, u).body, &p); err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Results {
			rename(o)
			b, _ := json.Marshal(o)
			out["recipesExtended"] = append(out["recipesExtended"], string(b))
		}
		u = ""
		if p.Next != nil {
			u = *p.Next
		}
	}
	for _, v := range out {
		sort.Strings(v)
	}
	return out
}

func sameSnapshots(t *testing.T, what string, a, b map[string][]string) {
	t.Helper()
	for k := range a {
		if slices.Equal(a[k], b[k]) {
			continue
		}
		var onlyA, onlyB []string
		for _, x := range a[k] {
			if !slices.Contains(b[k], x) {
				onlyA = append(onlyA, x)
			}
		}
		for _, x := range b[k] {
			if !slices.Contains(a[k], x) {
				onlyB = append(onlyB, x)
			}
		}
		t.Errorf("%s: %s differ (%d vs %d rows):\n only at the source: %s\n only in the mirror: %s", what, k, len(a[k]), len(b[k]),
			strings.Join(onlyA, "\n   "), strings.Join(onlyB, "\n   "))
	}
}

// TestImport mirrors a second instance of this server (over its own
// database) into an empty index, checks that every resource reads the
// same on both, imports again to see that nothing is written, then
// follows changes made at the source.
func TestImport(t *testing.T) {
	ctx := context.Background()
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		testImport(t, d)
	})
	// Not a layer index, or not a URL: clear errors.
	src := newEnv(t, db.SQLite)
	s := store.New(dbtest.Migrated(t, db.SQLite).Gorm)
	for _, u := range []string{"ftp://example.org/", "not a url", src.ts.URL + "/static"} {
		if _, err := api.Import(ctx, s, u, api.ImportOptions{}); err == nil {
			t.Errorf("import from %s succeeded", u)
		}
	}
}

// testImport imports the fixture, served by a SQLite instance, into a
// database of dialect d.
func testImport(t *testing.T, d db.Dialect) {
	src := newEnv(t, db.SQLite)
	ctx := context.Background()
	zlib := src.fx.Recipes["openembedded-core/master/zlib"]
	src.db.Gorm.Exec(`INSERT INTO recipe_patches (recipe_id, path, src_path, status, apply_order, striplevel) VALUES (?, 'recipes-core/zlib/files/a.patch', 'files/a.patch', 'B', 1, 1), (?, 'recipes-core/zlib/files/b.patch', 'files/b.patch', 'P', 2, 0)`, zlib, zlib)
	// Enough recipes on one layer branch for recipesExtended to page.
	var many []store.RecipeData
	for i := 0; i < 230; i++ {
		many = append(many, storetest.Recipe("recipes-extra", fmt.Sprintf("extra%03d_1.0.bb", i), fmt.Sprintf("extra%03d", i), "1.0", "Extra", "MIT", []string{"zlib"}))
	}
	if _, err := src.store.ApplyIndex(ctx, src.fx.LayerBranch["meta-python/master"].ID, &store.IndexChange{Full: true, Upserts: many}); err != nil {
		t.Fatal(err)
	}
	// Dates well before the import: the mirror must show these, not its own.
	old := time.Date(2021, 3, 4, 5, 6, 7, 0, time.UTC)
	for _, table := range []string{"branches", "layers", "layer_branches", "recipes", "machines", "distros"} {
		if err := src.db.Gorm.Exec("UPDATE "+table+" SET updated_at = ?", old).Error; err != nil {
			t.Fatal(err)
		}
	}
	want := snapshot(t, src.api)
	{
		conn := dbtest.Migrated(t, d)
		dst := store.New(conn.Gorm)
		dstAPI := serve(t, conn).URL + "/layerindex/api/"

		res, err := api.Import(ctx, dst, src.ts.URL, api.ImportOptions{Recipes: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Branches.Created != 2 || res.Layers.Created != 4 || res.LayerBranches.Created != 6 || res.Indexed != 6 ||
			res.Recipes.Added != 9+230 || res.Notes.Created != 1 || res.Dependencies.Created != 6 {
			t.Errorf("first import: %+v", res)
		}
		sameSnapshots(t, "after the first import", want, snapshot(t, dstAPI))
		for _, name := range []string{"branches", "layerItems", "layerBranches", "recipes", "machines", "distros"} {
			for _, o := range list(t, dstAPI+name+"/") {
				if o["updated"] != "2021-03-04T05:06:07+00:00" {
					t.Errorf("%s %v: updated %v, want the source's", name, o["id"], o["updated"])
					break
				}
			}
		}
		v1, _ := dst.APIIndexVersion(ctx)

		// Again: nothing changed there, so nothing is written here.
		for _, reload := range []bool{false, true} {
			res, err = api.Import(ctx, dst, src.api, api.ImportOptions{Recipes: true, Reload: reload})
			if err != nil {
				t.Fatal(err)
			}
			zero := store.MirrorCounts{}
			if res.Branches.Created+res.Layers.Created+res.Layers.Updated+res.LayerBranches.Created+res.LayerBranches.Updated != 0 ||
				res.Maintainers.Created != 0 || res.Dependencies.Created != 0 || res.Notes.Created != 0 || res.LayerBranches.Deleted != 0 ||
				res.Recipes.Added+res.Recipes.Changed+res.Recipes.Removed != 0 || res.Layers == zero {
				t.Errorf("re-import (reload %v) changed something: %+v", reload, res)
			}
			if !reload && (res.Indexed != 0 || res.IndexSkipped != 6) {
				t.Errorf("re-import fetched current indexes again: %+v", res)
			}
			if reload && (res.Indexed != 6 || res.Recipes.Unchanged != 239) {
				t.Errorf("reload: %+v", res)
			}
			if v, _ := dst.APIIndexVersion(ctx); v.Version != v1.Version {
				t.Errorf("re-import (reload %v) wrote to the index: version %d -> %d", reload, v1.Version, v.Version)
			}
		}

		// Changes at the source arrive; a layer branch gone there goes here.
		oe := src.fx.LayerBranch["meta-oe/master"]
		if _, err := src.store.ApplyIndex(ctx, oe.ID, &store.IndexChange{Upserts: []store.RecipeData{
			storetest.Recipe("recipes-support/nano", "nano_8.0.bb", "nano", "8.0", "Small editor", "GPL-3.0-only", nil)},
			Deletes: []string{"recipes-support/zlib-ng/zlib-ng_2.2.5.bb"}}); err != nil {
			t.Fatal(err)
		}
		src.db.Gorm.Exec("UPDATE layer_branches SET vcs_last_rev = 'feedface' WHERE id = ?", oe.ID)
		src.db.Gorm.Exec("UPDATE layers SET summary = 'Changed', status = 'X' WHERE name = 'meta-raspberrypi'")
		src.db.Gorm.Exec("UPDATE layer_maintainers SET email = 'new@example.org' WHERE layer_branch_id = ?", oe.ID)
		src.db.Gorm.Exec("UPDATE layer_notes SET text = 'New note.'")
		src.db.Gorm.Exec("UPDATE layers SET updated_at = ? WHERE name = 'meta-raspberrypi'", old.Add(time.Hour))
		src.db.Gorm.Exec("UPDATE layer_branches SET updated_at = ? WHERE id = ?", old.Add(2*time.Hour), oe.ID)
		src.db.Gorm.Exec("DELETE FROM layer_branches WHERE id = ?", src.fx.LayerBranch["meta-oe/scarthgap"].ID)
		res, err = api.Import(ctx, dst, src.ts.URL+"/", api.ImportOptions{Recipes: true})
		if err != nil {
			t.Fatal(err)
		}
		if res.Layers.Updated != 1 || res.LayerBranches.Deleted != 1 || res.Indexed != 1 || res.Recipes.Added != 1 || res.Recipes.Removed != 1 {
			t.Errorf("import after changes: %+v", res)
		}
		sameSnapshots(t, "after changes at the source", snapshot(t, src.api), snapshot(t, dstAPI))

		// Restricted to one branch and some layers; other branches' layer
		// branches and dependencies on layers not imported are left out.
		conn2 := dbtest.Migrated(t, d)
		res, err = api.Import(ctx, store.New(conn2.Gorm), src.api, api.ImportOptions{Branches: []string{"master"},
			Layers: regexp.MustCompile("^meta-(oe|python)$")})
		if err != nil {
			t.Fatal(err)
		}
		if res.Branches.Created != 1 || res.Layers.Created != 2 || res.LayerBranches.Created != 2 || res.Dependencies.Created != 1 || res.Indexed != 0 {
			t.Errorf("restricted import: %+v", res)
		}
		var lb store.LayerBranch
		conn2.Gorm.Where("vcs_last_rev <> ''").Limit(1).Find(&lb)
		if lb.ID != 0 {
			t.Errorf("an import without --recipes recorded an indexed revision, so ingestion would skip the full parse")
		}
		if _, err := api.Import(ctx, store.New(conn2.Gorm), src.api, api.ImportOptions{Branches: []string{"nosuch"}}); err == nil ||
			!strings.Contains(err.Error(), `no branch "nosuch"`) {
			t.Errorf("unknown branch: %v", err)
		}
	}
}

// TestImportKeepsOnlyPackageConfigFeatures: upstream stores bitbake.conf's
// PACKAGECONFIG[vardepvalue] (and other BitBake flags) as if they were
// features; an import keeps only the features, as ingestion does.
func TestImportKeepsOnlyPackageConfigFeatures(t *testing.T) {
	ctx := context.Background()
	src := newEnv(t, db.SQLite)
	zlib := src.fx.Recipes["openembedded-core/master/zlib"]
	if err := src.db.Gorm.Exec(`INSERT INTO recipe_package_configs (recipe_id, feature, with_option, without_option, build_deps) VALUES
		(?, 'vardepvalue', '${PACKAGECONFIG}', '', ''), (?, 'doc', 'This variable provides a means of enabling or disabling features', '', ''),
		(?, 'vardeps', 'X', '', ''), (?, 'python', '--enable-python', '--disable-python', 'python3')`, zlib, zlib, zlib, zlib).Error; err != nil {
		t.Fatal(err)
	}
	var before []string
	src.db.Gorm.Table("recipe_package_configs").Where("recipe_id = ?", zlib).Order("feature").Pluck("feature", &before)
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		if _, err := api.Import(ctx, store.New(conn.Gorm), src.ts.URL, api.ImportOptions{Recipes: true}); err != nil {
			t.Fatal(err)
		}
		var got []string
		conn.Gorm.Raw(`SELECT c.feature FROM recipe_package_configs c JOIN recipes r ON r.id = c.recipe_id
			JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id JOIN branches b ON b.id = lb.branch_id
			WHERE r.pn = 'zlib' AND l.name = 'openembedded-core' AND b.name = 'master' ORDER BY c.feature`).Scan(&got)
		var want []string
		for _, f := range before {
			if f != "vardepvalue" && f != "doc" && f != "vardeps" {
				want = append(want, f)
			}
		}
		if !slices.Equal(got, want) || !slices.Contains(got, "python") {
			t.Errorf("imported features %v, want %v (the source has %v)", got, want, before)
		}
	})
}

package store_test

import (
	"context"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// fixtureLayerBranch creates a branch, a published layer and its layer
// branch, returning the layer branch id.
func fixtureLayerBranch(t *testing.T, s *store.Store) int64 {
	t.Helper()
	ctx := context.Background()
	b := &store.Branch{Name: "master", UpdatesEnabled: true}
	if err := s.CreateBranch(ctx, b); err != nil {
		t.Fatal(err)
	}
	l := &store.Layer{Name: "meta-test", Status: store.StatusPublished, LayerType: store.TypeSoftware, VCSURL: "https://example.org/meta-test.git"}
	if err := s.CreateLayer(ctx, l); err != nil {
		t.Fatal(err)
	}
	lb := &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, UpdatesEnabled: true}
	if err := s.CreateLayerBranch(ctx, lb); err != nil {
		t.Fatal(err)
	}
	return lb.ID
}

func recipe(dir, file, pn, pv string, deps ...string) store.RecipeData {
	return store.RecipeData{
		Recipe:    store.Recipe{Filepath: dir, Filename: file, PN: pn, PV: pv, Summary: pn + " summary", License: "MIT"},
		Sources:   []store.RecipeSource{{URL: "https://example.org/" + pn + "-" + pv + ".tar.gz"}},
		BuildDeps: deps,
		FileDeps:  []string{"meta-test/" + dir + "/" + pn + ".inc"},
		PackageConfigs: []store.RecipePackageConfig{
			{Feature: "ssl", WithOption: "--with-ssl", WithoutOption: "--without-ssl", BuildDeps: "openssl"},
		},
	}
}

func ids(t *testing.T, s *store.Store, lbID int64) map[string]int64 {
	t.Helper()
	var rs []store.Recipe
	if err := s.DB().Where("layer_branch_id = ?", lbID).Find(&rs).Error; err != nil {
		t.Fatal(err)
	}
	out := map[string]int64{}
	for _, r := range rs {
		out[r.Path()] = r.ID
	}
	return out
}

func TestApplyIndex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s := store.New(dbtest.Migrated(t, d).Gorm)
		lb := fixtureLayerBranch(t, s)

		full := &store.IndexChange{
			Full: true,
			Upserts: []store.RecipeData{
				recipe("recipes-a/a", "a_1.0.bb", "a", "1.0", "zlib"),
				recipe("recipes-b/b", "b_2.0.bb", "b", "2.0", "a", "zlib"),
				recipe("recipes-c/c", "c_git.bb", "c", "1.0+git"),
				recipe("recipes-d/d", "d_1.0.bb", "d", "1.0"),
			},
			Machines: []store.Machine{{Name: "qemuzz", Description: "QEMU zz"}},
			Distros:  []store.Distro{{Name: "poky", Description: "Poky"}},
			Classes:  []store.BBClass{{Name: "foo", BBClassType: "Recipe"}},
			Appends:  []store.BBAppend{{Filepath: "recipes-x", Filename: "x_%.bbappend"}},
			IncFiles: []store.IncFile{{Path: "recipes-a/a/a.inc"}},
		}
		st, err := s.ApplyIndex(ctx, lb, full)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Events) != 4 || st.Events[0].Kind != store.RecipeAdded {
			t.Errorf("first index's recipe changes: %+v", st.Events)
		}
		if st.Added != 4 || st.Changed+st.Removed+st.Unchanged != 0 {
			t.Fatalf("first index: %+v", st)
		}
		first := ids(t, s, lb)

		// The same index again writes nothing.
		again := *full
		again.Upserts = []store.RecipeData{
			recipe("recipes-a/a", "a_1.0.bb", "a", "1.0", "zlib"),
			recipe("recipes-b/b", "b_2.0.bb", "b", "2.0", "a", "zlib"),
			recipe("recipes-c/c", "c_git.bb", "c", "1.0+git"),
			recipe("recipes-d/d", "d_1.0.bb", "d", "1.0"),
		}
		again.Machines = []store.Machine{{Name: "qemuzz", Description: "QEMU zz"}}
		if st, err := s.ApplyIndex(ctx, lb, &again); err != nil || st.Events != nil || st.Unchanged != 4 || st.Added+st.Changed+st.Removed != 0 {
			t.Fatalf("unchanged re-index: %+v %v", st, err)
		}
		var machineID int64
		s.DB().Table("machines").Select("id").Where("name = ?", "qemuzz").Scan(&machineID)

		// Incremental: b changes, c is renamed (and re-parsed), d is deleted,
		// a is upgraded to 1.1 (delete + add of the same PN), e is new.
		inc := &store.IndexChange{
			Upserts: []store.RecipeData{
				recipe("recipes-b/b", "b_2.0.bb", "b", "2.0", "a", "zlib", "openssl"),
				recipe("recipes-c2/c", "c_git.bb", "c", "1.0+git"),
				recipe("recipes-a/a", "a_1.1.bb", "a", "1.1", "zlib"),
				recipe("recipes-e/e", "e_1.0.bb", "e", "1.0"),
			},
			Deletes:  []string{"recipes-d/d/d_1.0.bb", "recipes-a/a/a_1.0.bb"},
			Renames:  map[string]string{"recipes-c/c/c_git.bb": "recipes-c2/c/c_git.bb"},
			Machines: []store.Machine{{Name: "qemuzz", Description: "QEMU zz, renamed"}, {Name: "new"}},
		}
		st, err = s.ApplyIndex(ctx, lb, inc)
		if err != nil {
			t.Fatal(err)
		}
		if st.Added != 1 || st.Removed != 1 || st.Changed != 3 {
			t.Fatalf("incremental stats: %+v", st)
		}
		now := ids(t, s, lb)
		if now["recipes-c2/c/c_git.bb"] != first["recipes-c/c/c_git.bb"] {
			t.Error("renamed recipe lost its id")
		}
		if now["recipes-a/a/a_1.1.bb"] != first["recipes-a/a/a_1.0.bb"] {
			t.Error("upgraded recipe (same PN) lost its id")
		}
		if now["recipes-b/b/b_2.0.bb"] != first["recipes-b/b/b_2.0.bb"] {
			t.Error("changed recipe lost its id")
		}
		if _, ok := now["recipes-d/d/d_1.0.bb"]; ok || len(now) != 4 {
			t.Errorf("recipes after increment: %v", now)
		}
		var deps []string
		s.DB().Table("recipe_build_deps").Select("name").Where("recipe_id = ?", now["recipes-b/b/b_2.0.bb"]).Order("id").Scan(&deps)
		if len(deps) != 3 || deps[2] != "openssl" {
			t.Errorf("b's DEPENDS after change: %v", deps)
		}
		var orphans int64
		s.DB().Table("recipe_sources").Where("recipe_id NOT IN (SELECT id FROM recipes)").Count(&orphans)
		if orphans != 0 {
			t.Errorf("%d sources of deleted recipes remain", orphans)
		}
		var newMachineID int64
		s.DB().Table("machines").Select("id").Where("name = ?", "qemuzz").Scan(&newMachineID)
		if newMachineID != machineID {
			t.Error("updated machine lost its id")
		}
		var classes int64
		s.DB().Table("bbclasses").Where("layer_branch_id = ?", lb).Count(&classes)
		if classes != 1 {
			t.Errorf("classes untouched by a nil list: %d", classes)
		}
	})
}

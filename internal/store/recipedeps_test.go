package store_test

import (
	"context"
	"reflect"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// TestDependentsIndexMatchesReference: every recipe's dependents, from the
// index read per branch, are those of the query it replaced, on the
// synthetic index, with a dependency named twice by one recipe in DEPENDS
// and twice in its PACKAGECONFIG options.
func TestDependentsIndexMatchesReference(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		if err := storetest.Synthetic(ctx, s, storetest.SyntheticSize{Branches: 2, Layers: 3, RecipesPerLayer: 40}); err != nil {
			t.Fatal(err)
		}
		var some, dep store.Recipe
		if err := conn.Gorm.Order("id").Take(&some).Error; err != nil {
			t.Fatal(err)
		}
		if err := conn.Gorm.Where("layer_branch_id = ? AND id <> ?", some.LayerBranchID, some.ID).Order("id").Take(&dep).Error; err != nil {
			t.Fatal(err)
		}
		for _, row := range []any{&store.RecipeBuildDep{RecipeID: some.ID, Name: dep.PN}, &store.RecipeBuildDep{RecipeID: some.ID, Name: dep.PN},
			&store.RecipePackageConfigDep{RecipeID: some.ID, Name: dep.PN}, &store.RecipePackageConfigDep{RecipeID: some.ID, Name: dep.PN}} {
			if err := conn.Gorm.Create(row).Error; err != nil {
				t.Fatal(err)
			}
		}
		var branches []store.Branch
		if err := conn.Gorm.Find(&branches).Error; err != nil {
			t.Fatal(err)
		}
		compared, listed := 0, 0
		for _, b := range branches {
			got, err := s.LoadDependentsIndex(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			want, err := s.LoadDependentsIndexReference(ctx, b.ID)
			if err != nil {
				t.Fatal(err)
			}
			var recipes []store.Recipe
			if err := conn.Gorm.Where("layer_branch_id IN (SELECT id FROM layer_branches WHERE branch_id = ?)", b.ID).Find(&recipes).Error; err != nil {
				t.Fatal(err)
			}
			for i := range recipes {
				g, gn := got.Dependents(&recipes[i])
				w, wn := want.Dependents(&recipes[i])
				if gn != wn || !reflect.DeepEqual(g, w) {
					t.Errorf("%s on %s: %d dependents %+v, want %d %+v", recipes[i].PN, b.Name, gn, g, wn, w)
				}
				compared++
				listed += gn
				if recipes[i].ID == dep.ID && !containsDependent(g, some.ID) {
					t.Errorf("%s does not list %s, which names it four times", dep.PN, some.PN)
				}
			}
		}
		if compared < 200 || listed == 0 {
			t.Fatalf("compared %d recipes with %d dependents in all: the data has too little to compare", compared, listed)
		}
	})
}

func containsDependent(ds []store.Dependent, id int64) bool {
	for _, d := range ds {
		if d.ID == id {
			return true
		}
	}
	return false
}

package storetest_test

import (
	"context"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

func TestFixtureLoads(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		s := store.New(dbtest.Migrated(t, d).Gorm)
		f := storetest.Load(t, s)
		if f.Recipes["openembedded-core/master/busybox"] == 0 || len(f.LayerBranch) != 7 {
			t.Fatalf("fixture: %+v", f.Recipes)
		}
		var n int64
		s.DB().Table("recipes").Count(&n)
		if n != 9 {
			t.Errorf("%d recipes", n)
		}
	})
}

func TestSyntheticLoads(t *testing.T) {
	s := store.New(dbtest.Migrated(t, db.SQLite).Gorm)
	if err := storetest.Synthetic(context.Background(), s, storetest.SyntheticSize{Branches: 2, Layers: 3, RecipesPerLayer: 20}); err != nil {
		t.Fatal(err)
	}
	var n int64
	s.DB().Table("recipes").Count(&n)
	if n != 2*3*20 {
		t.Errorf("%d recipes", n)
	}
}

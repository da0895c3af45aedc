package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestRecipeDumpStoredObjects: the recipes list copies the objects the
// store keeps beside each row (recipes.api_json); it must be byte for byte
// what the encoder writes for the same rows — the single-recipe endpoint,
// which encodes the row's columns — after an update changes a recipe,
// with some rows without a stored object (written before migration 00027,
// or cleared), and with none stored at all.
func TestRecipeDumpStoredObjects(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		ctx := context.Background()
		dump := func() []byte {
			t.Helper()
			r := get(t, e.api+"recipes/", "Cache-Control", "no-cache")
			if r.code != 200 {
				t.Fatalf("recipes: %d %s", r.code, r.body)
			}
			return r.body
		}
		// What the encoder writes: each recipe from its columns.
		encoded := func() []byte {
			t.Helper()
			var ids []int64
			if err := e.db.Gorm.Raw(`SELECT id FROM recipes ORDER BY id`).Scan(&ids).Error; err != nil {
				t.Fatal(err)
			}
			b := []byte{'['}
			for i, id := range ids {
				r := get(t, e.api+"recipes/"+itoa(id)+"/")
				if r.code != 200 {
					t.Fatalf("recipe %d: %d %s", id, r.code, r.body)
				}
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, r.body...)
			}
			return append(b, ']')
		}
		same := func(what string) {
			t.Helper()
			got, want := dump(), encoded()
			if !bytes.Equal(got, want) {
				t.Fatalf("%s: the dump differs from the encoder's output\n got: %.400s\nwant: %.400s", what, got, want)
			}
			var v []map[string]any
			if err := json.Unmarshal(got, &v); err != nil || len(v) < 5 {
				t.Fatalf("%s: %d recipes, %v", what, len(v), err)
			}
		}
		same("as indexed")

		// An update that changes a recipe.
		lb := e.fx.LayerBranch["meta-oe/master"]
		if _, err := e.store.ApplyIndex(ctx, lb.ID, &store.IndexChange{Upserts: []store.RecipeData{{Recipe: store.Recipe{
			Filename: "dumptest_1.0.bb", Filepath: "recipes-test", PN: "dumptest", PV: "1.0",
			Summary: "a \"quoted\" summary", Description: "line\nbreak \u2028 and caf\u00e9"}}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.store.ApplyIndex(ctx, lb.ID, &store.IndexChange{Upserts: []store.RecipeData{{Recipe: store.Recipe{
			Filename: "dumptest_1.0.bb", Filepath: "recipes-test", PN: "dumptest", PV: "1.0",
			Summary: "changed", Description: "tab\there", License: "MIT"}}}}); err != nil {
			t.Fatal(err)
		}
		same("after an update changed a recipe")

		// Rows without a stored object, among rows with one: first, in the
		// middle, last.
		if err := e.db.Gorm.Exec(`UPDATE recipes SET api_json = NULL WHERE id IN
			((SELECT min(id) FROM recipes), (SELECT max(id) FROM recipes), (SELECT min(id) + 3 FROM recipes))`).Error; err != nil {
			t.Fatal(err)
		}
		same("three rows without a stored object")
		// A filter and an order other than by id.
		for _, q := range []string{"?filter=pn:dumptest", "?filter=layerbranch__branch__name:master", "?orderby=-pn"} {
			r := get(t, e.api+"recipes/"+q, "Cache-Control", "no-cache")
			var v []map[string]any
			if r.code != 200 || json.Unmarshal(r.body, &v) != nil || len(v) == 0 {
				t.Fatalf("recipes/%s: %d %.200s", q, r.code, r.body)
			}
		}
		// None stored: every row encoded.
		if err := e.db.Gorm.Exec(`UPDATE recipes SET api_json = NULL`).Error; err != nil {
			t.Fatal(err)
		}
		same("no stored objects")
		if _, err := e.store.FillRecipeJSON(ctx); err != nil {
			t.Fatal(err)
		}
		same("filled in again")
	})
}

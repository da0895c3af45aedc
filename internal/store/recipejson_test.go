package store_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// storedJSON checks that every recipe's stored API object is what the
// encoder writes for its row as the database now holds it, and returns how
// many recipes have none.
func storedJSON(t *testing.T, conn *db.DB) (missing int) {
	t.Helper()
	rows, err := conn.SQL.Query(`SELECT id, layer_branch_id, filename, filepath, pn, pv, pr, pe, summary, description,
		section, license, homepage, bugtracker, provides, bbclassextend, inherits, blacklisted, configopts, srcrev,
		updated_at, api_json FROM recipes ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var x store.Recipe
		var obj *string
		if err := rows.Scan(&x.ID, &x.LayerBranchID, &x.Filename, &x.Filepath, &x.PN, &x.PV, &x.PR, &x.PE, &x.Summary,
			&x.Description, &x.Section, &x.License, &x.Homepage, &x.Bugtracker, &x.Provides, &x.BBClassExtend,
			&x.Inherits, &x.Blacklisted, &x.ConfigOpts, &x.SrcRev, &x.UpdatedAt, &obj); err != nil {
			t.Fatal(err)
		}
		n++
		if obj == nil {
			missing++
			continue
		}
		if want := string(store.AppendRecipeJSON(nil, &x)); *obj != want {
			t.Errorf("recipe %d (%s): stored object\n  %s\nbut its row encodes as\n  %s", x.ID, x.PN, *obj, want)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("no recipes")
	}
	return missing
}

// TestRecipeJSONFollowsWrites: whatever ApplyIndex writes to a recipe row
// (insert, re-parse, rename, an imported date, a reclaimed row), the
// object stored beside it is the encoder's output for the row; a
// hand-written UPDATE that changes a column of the object clears it
// (migration 00027's trigger), one that changes another column does not;
// FillRecipeJSON fills what is missing.
func TestRecipeJSONFollowsWrites(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		fx := storetest.Load(t, s)
		if m := storedJSON(t, conn); m != 0 {
			t.Fatalf("%d recipes of the fixture have no stored object", m)
		}
		lb := fx.LayerBranch["meta-oe/master"].ID
		apply := func(ch *store.IndexChange) {
			t.Helper()
			if _, err := s.ApplyIndex(ctx, lb, ch); err != nil {
				t.Fatal(err)
			}
			if m := storedJSON(t, conn); m != 0 {
				t.Fatalf("%d recipes have no stored object after ApplyIndex", m)
			}
		}
		odd := "quotes \" back\\slash\ttab\nline \u2028 sep caf\u00e9 \U0001F600 end"
		apply(&store.IndexChange{Upserts: []store.RecipeData{
			{Recipe: store.Recipe{Filename: "jsontest_1.0.bb", Filepath: "recipes-test/jsontest", PN: "jsontest", PV: "1.0",
				Summary: "first", Description: odd, License: "MIT"}},
		}})
		// A re-parse that changes fields.
		apply(&store.IndexChange{Upserts: []store.RecipeData{
			{Recipe: store.Recipe{Filename: "jsontest_1.0.bb", Filepath: "recipes-test/jsontest", PN: "jsontest", PV: "1.0",
				Summary: "second \x01", Description: odd + " more", License: "GPL-2.0-only", Inherits: "autotools pkgconfig"}},
		}})
		// A rename alone (the row moves; no re-parse in the change).
		apply(&store.IndexChange{Renames: map[string]string{
			"recipes-test/jsontest/jsontest_1.0.bb": "recipes-other/jsontest_1.0.bb"}})
		// An upgrade that reclaims the row, and an imported date.
		apply(&store.IndexChange{KeepUpdated: true, Deletes: []string{"recipes-other/jsontest_1.0.bb"},
			Upserts: []store.RecipeData{{Recipe: store.Recipe{Filename: "jsontest_2.0.bb", Filepath: "recipes-other",
				PN: "jsontest", PV: "2.0", Summary: "third", UpdatedAt: time.Date(2019, 3, 4, 5, 6, 7, 999999999, time.UTC)}}}})

		// A write that does not know the column: the object is cleared, not
		// left stale; one that touches no column of the object keeps it.
		var id int64
		if err := conn.SQL.QueryRow(`SELECT id FROM recipes WHERE pn = 'jsontest'`).Scan(&id); err != nil {
			t.Fatal(err)
		}
		if err := conn.Gorm.Exec(`UPDATE recipes SET skip_reason = 'x' WHERE id = ?`, id).Error; err != nil {
			t.Fatal(err)
		}
		if m := storedJSON(t, conn); m != 0 {
			t.Fatalf("an UPDATE of a column outside the object cleared %d objects", m)
		}
		if err := conn.Gorm.Exec(`UPDATE recipes SET pv = '2.1' WHERE id = ?`, id).Error; err != nil {
			t.Fatal(err)
		}
		if m := storedJSON(t, conn); m != 1 {
			t.Fatalf("after an UPDATE of pv alone, %d recipes have no object, want 1 (the stale one cleared)", m)
		}
		if err := conn.Gorm.Exec(`UPDATE recipes SET api_json = NULL WHERE id IN (SELECT id FROM recipes ORDER BY id LIMIT 3)`).Error; err != nil {
			t.Fatal(err)
		}
		// The dump serves the same recipes whether it merges the rows
		// without an object into the stored ones or, past
		// recipesUnstoredMax, encodes every row.
		ids := func() (out []int64) {
			t.Helper()
			err := s.APIEachRecipe(ctx, &store.APIQuery{}, func(x *store.Recipe, obj string) error {
				if obj == "" && x.PN == "" {
					t.Errorf("recipe %d served with neither its object nor its columns", x.ID)
				}
				out = append(out, x.ID)
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			return out
		}
		merged := ids()
		restore := store.SetRecipesUnstoredMax(1)
		encoded := ids()
		restore()
		if fmt.Sprint(merged) != fmt.Sprint(encoded) || len(merged) < 5 {
			t.Fatalf("merged %v, encoded %v", merged, encoded)
		}
		n, err := s.FillRecipeJSON(ctx)
		if err != nil || n != 4 {
			t.Fatalf("FillRecipeJSON filled %d (%v), want 4", n, err)
		}
		if m := storedJSON(t, conn); m != 0 {
			t.Fatalf("%d recipes still without an object", m)
		}
	})
}

// TestRecipeJSONEncoderUnchanged holds a digest of the encoder's output
// for one recipe. Recipe rows keep the encoder's output (recipes.api_json),
// so when it changes on purpose, the stored objects are stale: add a
// migration that sets recipes.api_json to NULL (servers then fill them
// in again, store.FillRecipeJSON), and update the digest here.
func TestRecipeJSONEncoderUnchanged(t *testing.T) {
	x := store.Recipe{ID: 42, LayerBranchID: 7, Filename: "a_1.0.bb", Filepath: "recipes-a/a", PN: "a", PV: "1.0", PR: "r0",
		PE: "1", Summary: "s \"q\"", Description: "d\n\u2028\xff", Section: "libs", License: "MIT", Homepage: "https://h",
		Bugtracker: "https://b", Provides: "a-dev", BBClassExtend: "native", Inherits: "autotools", Blacklisted: "no",
		ConfigOpts: "--x", SrcRev: "abc", UpdatedAt: time.Date(2026, 12, 5, 9, 30, 1, 500, time.FixedZone("x", 3600))}
	got := store.AppendRecipeJSON(nil, &x)
	const want = "dc127ca23c88f63f20ac14bf1f02f38ab877e7ca96743796a86d08d607bd5c69"
	if sum := fmt.Sprintf("%x", sha256.Sum256(got)); sum != want {
		t.Fatalf("the recipe encoder's output changed (sha256 %s):\n%s\nstored objects (recipes.api_json) are now stale: "+
			"add a migration setting them to NULL, then update the digest", sum, got)
	}
}

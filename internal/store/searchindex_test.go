package store_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// TestSearchIndexSameAsSQL compares the in-memory search with the SQL one
// on both databases: every page of every query and order must hold the same
// rows (every field), the same total and the same "more". The fixture gets
// recipes whose text tries the full-text rules: punctuation, digits, case,
// phrases within and across summary and description, LIKE's special
// characters in names, a description shown for want of a summary.
func TestSearchIndexSameAsSQL(t *testing.T) {
	old := store.SearchCountCap
	store.SearchCountCap = 60 // small, so the bound is reached on the synthetic index
	t.Cleanup(func() { store.SearchCountCap = old })
	sorts := []string{"", "-name", "layer", "-layer", "version", "-version", "bogus"}
	pages := []store.Page{{Number: 1, Size: 50}, {Number: 2, Size: 50}, {Number: 3, Size: 7}, {Number: 40, Size: 50}}
	compare := func(t *testing.T, s *store.Store, b *store.Branch, queries []string) {
		t.Helper()
		ctx := context.Background()
		x, err := s.LoadSearchIndex(ctx, b.ID)
		if err != nil {
			t.Fatal(err)
		}
		if x.Len() == 0 {
			t.Fatal("empty search index")
		}
		found := 0
		for _, qs := range queries {
			q, err := store.ParseRecipeQuery(qs)
			if err != nil {
				t.Fatal(err)
			}
			for _, sort := range sorts {
				for _, p := range pages {
					what := fmt.Sprintf("%q sort %q page %d×%d", qs, sort, p.Number, p.Size)
					want, werr := s.SearchRecipes(ctx, b, q, sort, p)
					got, gerr := x.Search(q, sort, p)
					if fmt.Sprint(werr) != fmt.Sprint(gerr) {
						t.Fatalf("%s: error %v, want %v", what, gerr, werr)
					}
					if len(want.Items) == 0 {
						want.Items = nil
					}
					if len(got.Items) == 0 {
						got.Items = nil
					}
					found += len(got.Items)
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s:\n  got  %v total %d more %v\n  want %v total %d more %v", what,
							rowNames(got.Items), got.Total, got.More, rowNames(want.Items), want.Total, want.More)
					}
				}
			}
		}
		if found == 0 {
			t.Error("no query found anything")
		}
	}
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		t.Run("fixture", func(t *testing.T) {
			s := store.New(dbtest.Migrated(t, d).Gorm)
			f := storetest.Load(t, s)
			tricky := []struct{ pn, summary, description string }{
				{"Mixed-Case_Name", "Cross-compiler: GCC/Clang (v12.3) wrapper", "Supports x86_64, ARMv8 & RISC-V targets."},
				{"percent%lib", "A 100% compatible library", "Handles ratio 3:4 and e-mail addresses like a@b.org"},
				{"under_score", "The first words", "second words follow here"},
				{"libdigits3d", "3D rendering for 2x speed", "Uses OpenGL ES 3.0; see https://example.org/x?y=1"},
				{"nosummary", "", "Only described: no summary, so the results show this"},
			}
			var ch store.IndexChange
			for _, r := range tricky {
				rd := storetest.Recipe("recipes-x/"+r.pn, r.pn+"_1.0.bb", r.pn, "1.0", r.summary, "MIT", []string{"zlib"})
				rd.Recipe.Description = r.description
				ch.Upserts = append(ch.Upserts, rd)
			}
			if _, err := s.ApplyIndex(ctx, f.LayerBranch["meta-oe/master"].ID, &ch); err != nil {
				t.Fatal(err)
			}
			var queries []string
			for _, c := range searchCases {
				queries = append(queries, c.q)
			}
			queries = append(queries, "layer:meta-nowhere", "layer:meta-submitted", "mixed", "MIXED-case", "case_name", "%", "_",
				"percent%", "gcc", `"gcc clang"`, `"clang v12"`, "v12", "x86", "x86 64", `"x86 64"`, "riscv", "risc", `"risc v"`,
				"100", `"compatible lib"`, `"words second"`, `"first words"`, `"words follow"`, "3d", "3", "gl", `"opengl es 3"`,
				"https", `"example org"`, "nosummary", "described", `"only described"`, `"no summary so"`, "a@b", "pn:Mixed-Case_Name", "pn:mixed-case_name", "depends:openssl", "depends:zlib library",
				"inherits:autotools", "inherits:autotools layer:meta-oe", "layer:oe-core", "layer:openembedded-core zlib", "l", "i")
			compare(t, s, f.Branches["master"], queries)
			// The description comes with a result only where it is shown
			// (no summary), on both paths (compared above).
			res, err := s.SearchRecipes(ctx, f.Branches["master"], store.RecipeQuery{Terms: []string{"nosummary"}}, "", store.Page{Number: 1, Size: 50})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != 1 || res.Items[0].ShortDesc() != tricky[4].description {
				t.Errorf("nosummary: %+v, want its description", res.Items)
			}
			res, err = s.SearchRecipes(ctx, f.Branches["master"], store.RecipeQuery{Terms: []string{"gcc"}}, "", store.Page{Number: 1, Size: 50})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Items) != 1 || res.Items[0].ShortDesc() != tricky[0].summary || res.Items[0].Description != "" {
				t.Errorf("gcc: %+v, want its summary and no description", res.Items)
			}
		})
		t.Run("synthetic", func(t *testing.T) {
			s := store.New(dbtest.Migrated(t, d).Gorm)
			if err := storetest.Synthetic(ctx, s, storetest.SyntheticSize{Branches: 2, Layers: 5, RecipesPerLayer: 160}); err != nil {
				t.Fatal(err)
			}
			b, err := s.BrowseBranch(ctx, "master")
			if err != nil {
				t.Fatal(err)
			}
			compare(t, s, b, []string{"", "syn", "syn001", "syn01", "syn00", "syn001-1", "library", "lib", "tool", "for", "net", "zlib",
				"kernel module", `"utility for"`, "syn0 for", "depends:zlib", "depends:syn003-0", "inherits:autotools",
				"layer:meta-syn-2 syn", "layer:meta-syn-1", "da", "d", "1", "-", "syn1 library", "nothing-like-this", "%", "_",
				"depends:zlib depends:syn003-0", "inherits:autotools depends:zlib for"})
		})
	})
}

package store_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"reflect"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
	"layerindex/migrations"

	"layerindex/internal/prereq"
)

func TestParseRecipeQuery(t *testing.T) {
	q, err := store.ParseRecipeQuery(`glib "utility library" pn:BusyBox depends:zlib inherits:image layer:oe-core foo:bar`)
	if err != nil {
		t.Fatal(err)
	}
	want := store.RecipeQuery{PN: []string{"busybox"}, Depends: []string{"zlib"}, Inherits: []string{"image"},
		Layer: "oe-core", Terms: []string{"glib", "utility library", "foo:bar"}}
	if !reflect.DeepEqual(q, want) {
		t.Fatalf("parsed %+v\nwant   %+v", q, want)
	}
	for _, bad := range []string{`"unclosed`, `it's`, "pn:", "layer: x", strings.Repeat("a ", 200), "a\x00b",
		strings.Repeat("w ", 17), "layer:a layer:b"} {
		var qe *store.QueryError
		if _, err := store.ParseRecipeQuery(bad); !errors.As(err, &qe) || qe.Msg == "" {
			t.Errorf("%q: got %v, want a QueryError", bad, err)
		}
	}
	if q, err := store.ParseRecipeQuery("  "); err != nil || !q.Empty() {
		t.Errorf("blank query: %+v %v", q, err)
	}
}

// searchCase is a query and the results it must give on the fixture, as
// "pn@layer" in order.
var searchCases = []struct {
	q    string
	want []string
}{
	{"glib", []string{"glib-2.0@openembedded-core", "glibmm@meta-oe"}},
	{"zlib", []string{"zlib@openembedded-core", "zlib-ng@meta-oe"}},
	{"library", []string{"glib-2.0@openembedded-core", "glibmm@meta-oe", "zlib@openembedded-core"}},
	{"util", []string{"busybox@openembedded-core", "glib-2.0@openembedded-core"}},
	{`"utility library"`, []string{"glib-2.0@openembedded-core"}},
	{"GLIB bindings", []string{"glibmm@meta-oe"}},
	{"pn:busybox", []string{"busybox@openembedded-core"}},
	{"depends:zlib", []string{"glib-2.0@openembedded-core"}},
	{"depends:virtual/crypt", []string{"busybox@openembedded-core"}},
	{"inherits:image", []string{"core-image-minimal@openembedded-core"}},
	{"layer:oe-core glib", []string{"glib-2.0@openembedded-core"}},
	{"layer:meta-oe", []string{"glibmm@meta-oe", "zlib-ng@meta-oe"}},
	{"kernel", []string{"linux-raspberrypi@meta-raspberrypi"}},
	{"nothing-like-this", nil},
	{"%", nil},
	{"_", nil},
	{"+++", nil},
}

func TestSearchRecipes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s := store.New(dbtest.Migrated(t, d).Gorm)
		f := storetest.Load(t, s)
		master := f.Branches["master"]
		for _, c := range searchCases {
			q, err := store.ParseRecipeQuery(c.q)
			if err != nil {
				t.Fatalf("%q: %v", c.q, err)
			}
			res, err := s.SearchRecipes(ctx, master, q, "", store.Page{Number: 1, Size: 50})
			if err != nil {
				t.Fatalf("%q: %v", c.q, err)
			}
			got := rowNames(res.Items)
			if !reflect.DeepEqual(got, c.want) || res.Total != int64(len(c.want)) {
				t.Errorf("%q: got %v (total %d), want %v", c.q, got, res.Total, c.want)
			}
		}
		q, _ := store.ParseRecipeQuery("layer:meta-nowhere")
		if _, err := s.SearchRecipes(ctx, master, q, "", store.Page{}); !errors.Is(err, store.ErrUnknownLayer) {
			t.Errorf("unknown layer: %v", err)
		}
		// Unpublished layers never show.
		q, _ = store.ParseRecipeQuery("layer:meta-submitted")
		if _, err := s.SearchRecipes(ctx, master, q, "", store.Page{}); !errors.Is(err, store.ErrUnknownLayer) {
			t.Errorf("unpublished layer: %v", err)
		}
		all, err := s.SearchRecipes(ctx, master, store.RecipeQuery{}, "", store.Page{Number: 2, Size: 3})
		if err != nil || all.Total != 7 || len(all.Items) != 3 || all.Pages() != 3 {
			t.Errorf("listing all, page 2 of 3: %+v %v", all, err)
		}
	})
}

// TestSearchSameOnBothDatabases runs many queries over a synthetic index on
// SQLite and PostgreSQL and compares the complete ordered results.
func TestSearchSameOnBothDatabases(t *testing.T) {
	queries := []string{"", "syn001", "syn01", "syn00", "library", "tool", "for", "net", "syn001-1", "zlib", "kernel module",
		`"utility for"`, "depends:zlib", "depends:syn003-0", "inherits:autotools", "layer:meta-syn-2 syn", "da", "d"}
	results := map[db.Dialect][]string{}
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s := store.New(dbtest.Migrated(t, d).Gorm)
		if err := storetest.Synthetic(ctx, s, storetest.SyntheticSize{Branches: 1, Layers: 4, RecipesPerLayer: 40}); err != nil {
			t.Fatal(err)
		}
		b, err := s.BrowseBranch(ctx, "master")
		if err != nil {
			t.Fatal(err)
		}
		for _, qs := range queries {
			q, err := store.ParseRecipeQuery(qs)
			if err != nil {
				t.Fatal(err)
			}
			for _, sort := range []string{"", "-name", "layer"} {
				res, err := s.SearchRecipes(ctx, b, q, sort, store.Page{Number: 1, Size: 1000})
				if err != nil {
					t.Fatalf("%q: %v", qs, err)
				}
				results[d] = append(results[d], fmt.Sprintf("%q sort %q: %v", qs, sort, rowNames(res.Items)))
			}
		}
	})
	lite, pg := results[db.SQLite], results[db.Postgres]
	if lite == nil || pg == nil {
		prereq.Missing(t, "needs both databases")
	}
	for i := range lite {
		if lite[i] != pg[i] {
			t.Errorf("results differ:\n  sqlite:   %s\n  postgres: %s", lite[i], pg[i])
		}
	}
	if !strings.Contains(strings.Join(lite, "\n"), "syn001-0@") {
		t.Error("the synthetic searches found nothing")
	}
}

func rowNames(rows []store.RecipeRow) []string {
	var out []string
	for _, r := range rows {
		out = append(out, r.PN+"@"+r.LayerName)
	}
	return out
}

// TestPostgresSearchUsesIndex checks that the query's document expression is
// the migration's, so PostgreSQL answers full-text searches from the GIN
// index instead of parsing every recipe.
func TestPostgresSearchUsesIndex(t *testing.T) {
	mig, err := fs.ReadFile(migrations.FS, "postgres/00003_search_and_page_cache.sql")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(mig), store.PGRecipeDocument) {
		t.Fatalf("the migration's index expression differs from the query's:\n%s", store.PGRecipeDocument)
	}
	conn := dbtest.Migrated(t, db.Postgres)
	s := store.New(conn.Gorm)
	ctx := context.Background()
	if err := storetest.Synthetic(ctx, s, storetest.SyntheticSize{Branches: 1, Layers: 2, RecipesPerLayer: 200}); err != nil {
		t.Fatal(err)
	}
	conn.Gorm.Exec("ANALYZE")
	var plan []string
	err = conn.Gorm.Raw("EXPLAIN SELECT id FROM recipes WHERE " + store.PGRecipeDocument + " @@ to_tsquery('simple', 'librar:*')").Scan(&plan).Error
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "recipes_search_idx") {
		t.Errorf("the full-text query does not use recipes_search_idx:\n%s", strings.Join(plan, "\n"))
	}
}

// TestSQLiteFullTextFollowsRecipes checks the FTS5 triggers: re-indexed,
// removed and cascaded recipes leave the full-text index consistent.
func TestSQLiteFullTextFollowsRecipes(t *testing.T) {
	conn := dbtest.Migrated(t, db.SQLite)
	s := store.New(conn.Gorm)
	ctx := context.Background()
	f := storetest.Load(t, s)
	master := f.Branches["master"]
	find := func(q string) []string {
		t.Helper()
		pq, _ := store.ParseRecipeQuery(q)
		res, err := s.SearchRecipes(ctx, master, pq, "", store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return rowNames(res.Items)
	}
	integrity := func() {
		t.Helper()
		if err := conn.Gorm.Exec("INSERT INTO recipes_fts (recipes_fts, rank) VALUES ('integrity-check', 1)").Error; err != nil {
			t.Fatalf("FTS index out of step with recipes: %v", err)
		}
	}
	integrity()
	lb := f.LayerBranch["meta-oe/master"]
	r := storetest.Recipe("recipes-support/glibmm", "glibmm_2.66.7.bb", "glibmm", "2.66.7", "Wrappers around quokka", "LGPL-2.1-only", nil)
	if _, err := s.ApplyIndex(ctx, lb.ID, &store.IndexChange{Upserts: []store.RecipeData{r}}); err != nil {
		t.Fatal(err)
	}
	integrity()
	if got := find("quokka"); len(got) != 1 {
		t.Errorf("new summary not searchable: %v", got)
	}
	if got := find("bindings"); len(got) != 0 {
		t.Errorf("old summary still found: %v", got)
	}
	if err := conn.Gorm.Exec("DELETE FROM layer_branches WHERE id = ?", lb.ID).Error; err != nil {
		t.Fatal(err)
	}
	integrity()
	if got := find("quokka"); len(got) != 0 {
		t.Errorf("recipe of a deleted layer branch still found: %v", got)
	}
}

// FuzzParseRecipeQuery: any input parses or gives a QueryError, and what
// parses holds no empty words or values.
func FuzzParseRecipeQuery(f *testing.F) {
	for _, s := range []string{"glib", `"a phrase" pn:zlib`, "depends:x inherits:y layer:oe-core", `'`, `"`, "a:b:c", "pn:", "\x00", "é ü"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := store.ParseRecipeQuery(s)
		if err != nil {
			var qe *store.QueryError
			if !errors.As(err, &qe) {
				t.Fatalf("%q: %v is not a QueryError", s, err)
			}
			return
		}
		for _, list := range [][]string{q.Terms, q.PN, q.Depends, q.Inherits} {
			for _, v := range list {
				if strings.TrimSpace(v) == "" {
					t.Fatalf("%q: empty word in %+v", s, q)
				}
			}
		}
	})
}

// TestSearchSameAsBefore compares the grouped, bounded search with the
// single query it replaced (SearchRecipesReference) on a realistic-size
// synthetic index, on both databases: every page of every query and order
// must hold the same rows in the same order, and the total must be the
// exact count, or the bound with More when there are more matches.
func TestSearchSameAsBefore(t *testing.T) {
	old := store.SearchCountCap
	store.SearchCountCap = 60 // small, so the bound is reached on this index
	t.Cleanup(func() { store.SearchCountCap = old })
	queries := []string{"", "syn", "syn001", "syn01", "syn00", "syn001-1", "library", "lib", "tool", "for", "net", "zlib",
		"kernel module", `"utility for"`, "syn0 for", "depends:zlib", "depends:syn003-0", "inherits:autotools",
		"layer:meta-syn-2 syn", "layer:meta-syn-1", "da", "d", "1", "-", "syn1 library", "nothing-like-this", "%", "_"}
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s := store.New(dbtest.Migrated(t, d).Gorm)
		if err := storetest.Synthetic(ctx, s, storetest.SyntheticSize{Branches: 2, Layers: 5, RecipesPerLayer: 160}); err != nil {
			t.Fatal(err)
		}
		b, err := s.BrowseBranch(ctx, "master")
		if err != nil {
			t.Fatal(err)
		}
		capped := 0
		for _, qs := range queries {
			q, err := store.ParseRecipeQuery(qs)
			if err != nil {
				t.Fatal(err)
			}
			for _, sort := range []string{"", "-name", "layer", "version"} {
				for _, p := range []store.Page{{Number: 1, Size: 50}, {Number: 2, Size: 50}, {Number: 3, Size: 7}, {Number: 9, Size: 7}, {Number: 40, Size: 50}} {
					want, err := s.SearchRecipesReference(ctx, b, q, sort, p)
					if err != nil {
						t.Fatalf("%q: %v", qs, err)
					}
					got, err := s.SearchRecipes(ctx, b, q, sort, p)
					if err != nil {
						t.Fatalf("%q: %v", qs, err)
					}
					what := fmt.Sprintf("%q sort %q page %d×%d", qs, sort, p.Number, p.Size)
					if g, w := rowNames(got.Items), rowNames(want.Items); !reflect.DeepEqual(g, w) {
						t.Errorf("%s: rows differ:\n  got  %v\n  want %v", what, g, w)
					}
					bound := int64(max(store.SearchCountCap, (p.Number-1)*p.Size+2*p.Size))
					switch {
					case q.Empty() || want.Total <= bound:
						if got.Total != want.Total || got.More {
							t.Errorf("%s: total %d (more %v), want %d", what, got.Total, got.More, want.Total)
						}
					default:
						capped++
						if got.Total != bound || !got.More {
							t.Errorf("%s: total %d (more %v), want %d and more (of %d)", what, got.Total, got.More, bound, want.Total)
						}
					}
				}
			}
		}
		if capped == 0 {
			t.Error("no search reached the bounded count")
		}
	})
}

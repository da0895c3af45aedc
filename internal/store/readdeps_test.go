package store_test

import (
	"context"
	"slices"
	"sort"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestRecipesUsingFiles: a changed file selects the recipes that depend
// on it (file dependencies, probed paths included) and those whose Python
// read or tested it or listed one of its directories; a re-parse that
// only changes what Python read is stored too.
func TestRecipesUsingFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s := store.New(dbtest.Migrated(t, d).Gorm)
		lb := fixtureLayerBranch(t, s)
		a := recipe("recipes-a/a", "a_1.0.bb", "a", "1.0")
		a.ReadDeps = []string{"meta-test/data/", "meta-test/conf/flag"}
		b := recipe("recipes-b/b", "b_1.0.bb", "b", "1.0")
		b.ReadDeps = []string{"meta-test/postinst-intercepts/"}
		c := recipe("recipes-c/c", "c_1.0.bb", "c", "1.0")
		if _, err := s.ApplyIndex(ctx, lb, &store.IndexChange{Full: true, Upserts: []store.RecipeData{a, b, c}}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			changed []string
			want    []string
		}{
			{[]string{"meta-test/recipes-c/c/c.inc"}, []string{"recipes-c/c/c_1.0.bb"}},
			{[]string{"meta-test/data/new.json"}, []string{"recipes-a/a/a_1.0.bb"}},
			{[]string{"meta-test/data/sub/deeper"}, []string{"recipes-a/a/a_1.0.bb"}},
			{[]string{"meta-test/conf/flag"}, []string{"recipes-a/a/a_1.0.bb"}},
			{[]string{"meta-test/conf/flag/x"}, []string{"recipes-a/a/a_1.0.bb"}}, // the flag became a directory
			{[]string{"meta-test/conf/other"}, nil},
			{[]string{"meta-test/postinst-intercepts/x86/hook", "meta-test/recipes-a/a/a.inc"}, []string{"recipes-a/a/a_1.0.bb", "recipes-b/b/b_1.0.bb"}},
			{[]string{"meta-test/README"}, nil},
		} {
			got, err := s.RecipesUsingFiles(ctx, lb, tc.changed)
			if err != nil {
				t.Fatal(err)
			}
			sort.Strings(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("%v: %v, want %v", tc.changed, got, tc.want)
			}
		}
		// Only the read paths changed: the re-parse is stored.
		c.ReadDeps = []string{"meta-test/site/common"}
		st, err := s.ApplyIndex(ctx, lb, &store.IndexChange{Upserts: []store.RecipeData{c}})
		if err != nil || st.Changed != 1 {
			t.Fatalf("%+v %v", st, err)
		}
		if got, _ := s.RecipesUsingFiles(ctx, lb, []string{"meta-test/site/common"}); !slices.Equal(got, []string{"recipes-c/c/c_1.0.bb"}) {
			t.Errorf("after the re-parse: %v", got)
		}
	})
}

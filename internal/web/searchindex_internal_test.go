package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// TestSearchFromMemory: the search page is the same whether SQL answers it
// (no index built yet for the version) or the branch's in-memory index, and
// a change to the index is searched at once (SQL) and then from a new
// in-memory index.
func TestSearchFromMemory(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s, _, st, f := fixtureServer(t, d)
		h := s.Handler()
		get := func(query string) string {
			t.Helper()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/layerindex/branch/master/recipes/?q="+url.QueryEscape(query), nil))
			if rec.Code != http.StatusOK && rec.Code != http.StatusFound && rec.Code != http.StatusBadRequest {
				t.Fatalf("%q: %d", query, rec.Code)
			}
			b, _ := io.ReadAll(rec.Body)
			return rec.Header().Get("Location") + string(b)
		}
		master := f.Branches["master"]
		waitIndex := func() *store.SearchIndex {
			t.Helper()
			deadline := time.Now().Add(30 * time.Second)
			for time.Now().Before(deadline) {
				if x := s.searchIndex(ctx, master.ID); x != nil {
					return x
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Fatal("no search index built in 30 s")
			return nil
		}
		queries := []string{"", "glib", "library", "depends:zlib", "inherits:image", "layer:meta-oe", "nothing-like-this", "layer:nowhere", `"unclosed`}
		// The first request finds no index: SQL answers and a build starts.
		if s.searchIndex(ctx, master.ID) != nil {
			t.Fatal("an index before any search")
		}
		fromSQL := map[string]string{}
		for _, qs := range queries {
			fromSQL[qs] = get(qs)
		}
		waitIndex()
		for _, qs := range queries {
			if got := get(qs); got != fromSQL[qs] {
				t.Errorf("%q: the in-memory page differs from SQL's:\n%s\n---\n%s", qs, got, fromSQL[qs])
			}
		}
		// A change: the next search sees it (SQL while the index is rebuilt).
		r := storetest.Recipe("recipes-x/quokka", "quokka_1.0.bb", "quokka", "1.0", "Marsupial library", "MIT", nil)
		if _, err := st.ApplyIndex(ctx, f.LayerBranch["meta-oe/master"].ID, &store.IndexChange{Upserts: []store.RecipeData{r}}); err != nil {
			t.Fatal(err)
		}
		before := get("marsupial")
		if x := waitIndex(); x.Len() == 0 {
			t.Fatal("empty index")
		}
		if after := get("marsupial"); after != before || !strings.HasPrefix(before, "/layerindex/recipe/") {
			t.Errorf("the new recipe: SQL gave %q, the index %q", before, after)
		}
	})
}

// fixtureServer is a server (no worker) on a migrated database of dialect d
// holding storetest's fixture.
func fixtureServer(t *testing.T, d db.Dialect) (*Server, *db.DB, *store.Store, *storetest.Fixture) {
	t.Helper()
	conn := dbtest.Migrated(t, d)
	st := store.New(conn.Gorm)
	f := storetest.Load(t, st)
	q, err := jobs.New(context.Background(), conn, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(conn, q, Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	return s, conn, st, f
}

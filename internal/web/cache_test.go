package web_test

import (
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/indexversion"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
	"layerindex/internal/web"
)

// TestPageCache checks that cached pages are served again, and that any
// committed change to the index — a new layer, a recipe whose only change
// is a source — is visible on the next request (PostgreSQL: once the
// commit's notification arrives, within moments).
func TestPageCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		f := storetest.Load(t, s)
		q, err := jobs.New(context.Background(), conn, jobs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		srv, err := web.New(conn, q, web.Options{Version: "test", PageCache: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(srv.Close)
		ts := httptest.NewServer(srv.Handler())
		t.Cleanup(ts.Close)

		fetch := func(path string, cookie bool) (string, string) {
			t.Helper()
			req, _ := http.NewRequest("GET", ts.URL+path, nil)
			if cookie {
				req.Header.Set("Cookie", "session=x")
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 {
				t.Fatalf("%s: %d", path, resp.StatusCode)
			}
			return string(b), resp.Header.Get("X-Cache")
		}
		// eventually waits for a page to show want (PostgreSQL notifies
		// asynchronously).
		eventually := func(path, want string) {
			t.Helper()
			deadline := time.Now().Add(5 * time.Second)
			for {
				body, _ := fetch(path, false)
				if strings.Contains(body, want) {
					return
				}
				if time.Now().After(deadline) {
					t.Fatalf("%s still does not show %q after the change", path, want)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
		const list = "/layerindex/branch/master/layers/"
		eventually(list, "openembedded-core")
		// The PostgreSQL listener connects in the background; until then
		// nothing is cached.
		deadline := time.Now().Add(5 * time.Second)
		for {
			first, _ := fetch(list, false)
			second, state := fetch(list, false)
			if state == "hit" {
				if first != second {
					t.Fatal("the cached page differs from the one rendered")
				}
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("pages are not cached: X-Cache %q", state)
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, state := fetch(list, true); state != "" {
			t.Errorf("a request with a cookie was served from the cache (%q)", state)
		}

		// A client that takes gzip gets the cached page compressed.
		req, _ := http.NewRequest("GET", ts.URL+list, nil)
		req.Header.Set("Accept-Encoding", "gzip, br;q=0.5")
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(resp.Body)
		if err != nil || resp.Header.Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Accept-Encoding") {
			t.Fatalf("gzip: %v %v", err, resp.Header)
		}
		unzipped, _ := io.ReadAll(zr)
		resp.Body.Close()
		if plain, _ := fetch(list, false); string(unzipped) != plain {
			t.Error("the gzipped page differs from the plain one")
		}

		ctx := context.Background()
		l := &store.Layer{Name: "meta-later", Status: store.StatusPublished, LayerType: store.TypeMisc, VCSURL: "https://example.org/later.git"}
		if err := s.CreateLayer(ctx, l); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateLayerBranch(ctx, &store.LayerBranch{LayerID: l.ID, BranchID: f.Branches["master"].ID}); err != nil {
			t.Fatal(err)
		}
		eventually(list, "meta-later")

		recipe := fmt.Sprintf("/layerindex/recipe/%d/", f.Recipes["openembedded-core/master/zlib"])
		eventually(recipe, "https://zlib.net/zlib-1.3.1.tar.xz")
		fetch(recipe, false)
		if _, state := fetch(recipe, false); state != "hit" {
			t.Fatalf("recipe page not cached: %q", state)
		}
		r := storetest.Recipe("recipes-core/zlib", "zlib_1.3.1.bb", "zlib", "1.3.1", "Zlib Compression Library", "Zlib", nil,
			"https://mirror.example.org/zlib-1.3.1.tar.xz")
		if _, err := s.ApplyIndex(ctx, f.LayerBranch["openembedded-core/master"].ID, &store.IndexChange{Upserts: []store.RecipeData{r}}); err != nil {
			t.Fatal(err)
		}
		eventually(recipe, "https://mirror.example.org/zlib-1.3.1.tar.xz")

		if d != db.Postgres {
			return
		}
		// A lost LISTEN connection: changes made while it is down must not
		// be hidden by cached pages, and caching resumes once it is back.
		if err := conn.Gorm.Exec("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?", indexversion.ApplicationName).Error; err != nil {
			t.Fatal(err)
		}
		fetch(list, false)
		l2 := &store.Layer{Name: "meta-during-outage", Status: store.StatusPublished, LayerType: store.TypeMisc, VCSURL: "https://example.org/o.git"}
		if err := s.CreateLayer(ctx, l2); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateLayerBranch(ctx, &store.LayerBranch{LayerID: l2.ID, BranchID: f.Branches["master"].ID}); err != nil {
			t.Fatal(err)
		}
		eventually(list, "meta-during-outage")
		deadline = time.Now().Add(10 * time.Second)
		for {
			fetch(list, false)
			if _, state := fetch(list, false); state == "hit" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("caching did not resume after the listener reconnected")
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

package api_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// TestConditionalRequests: an unchanged index answers 304 to the ETag (and,
// once settled, to the date); any committed change to indexed data, by any
// writer, gives a new ETag.
func TestConditionalRequests(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		u := e.api + "recipes/?filter=layerbranch__branch__name:master"
		first := get(t, u)
		etag := first.hdr.Get("ETag")
		if first.code != 200 || !strings.HasPrefix(etag, `W/"`) {
			t.Fatalf("first: %d ETag %q", first.code, etag)
		}
		if first.hdr.Get("Last-Modified") != "" {
			t.Errorf("Last-Modified sent for a change less than 2 s old: %s", first.hdr.Get("Last-Modified"))
		}
		for _, inm := range []string{etag, strings.TrimPrefix(etag, "W/"), `"other", ` + etag, "*"} {
			r := get(t, u, "If-None-Match", inm)
			if r.code != 304 || len(r.body) != 0 || r.hdr.Get("ETag") != etag {
				t.Errorf("If-None-Match %s: %d %q", inm, r.code, r.body)
			}
		}
		if r := get(t, u, "If-None-Match", `W/"1-0"`); r.code != 200 {
			t.Errorf("stale ETag: %d", r.code)
		}
		// Other URLs have their own validator (the host is part of it, not the query).
		if r := get(t, e.api, "If-None-Match", etag); r.code != 200 {
			t.Errorf("the root matched a list's ETag: %d", r.code)
		}

		// A change through the store (as ingestion makes it) and a raw SQL
		// change (as an administrator might) both change the ETag.
		ctx := context.Background()
		lb := e.fx.LayerBranch["meta-oe/master"]
		if _, err := e.store.ApplyIndex(ctx, lb.ID, &store.IndexChange{Upserts: []store.RecipeData{
			storetest.Recipe("recipes-support/nano", "nano_8.0.bb", "nano", "8.0", "Small editor", "GPL-3.0-only", nil)}}); err != nil {
			t.Fatal(err)
		}
		r := get(t, u, "If-None-Match", etag)
		if r.code != 200 || r.hdr.Get("ETag") == etag || !bytes.Contains(r.body, []byte(`"pn":"nano"`)) {
			t.Fatalf("after an index change: %d %s", r.code, r.hdr.Get("ETag"))
		}
		etag = r.hdr.Get("ETag")
		e.db.Gorm.Exec("UPDATE layer_maintainers SET status = 'I' WHERE id = 1")
		if r := get(t, u, "If-None-Match", etag); r.code != 200 {
			t.Errorf("after a maintainer change: %d", r.code)
		}
		etag = get(t, u).hdr.Get("ETag")
		e.db.Gorm.Exec("DELETE FROM inc_files")
		if r := get(t, u, "If-None-Match", etag); r.code != 200 {
			t.Errorf("after a delete: %d", r.code)
		}
		// Writes outside the index (accounts) leave it alone.
		etag = get(t, u).hdr.Get("ETag")
		if err := e.store.CreateUser(ctx, &store.User{Email: "ann@example.org"}); err != nil {
			t.Fatal(err)
		}
		if r := get(t, u, "If-None-Match", etag); r.code != 304 {
			t.Errorf("an account changed the index ETag: %d", r.code)
		}

		// Once the last change is settled, Last-Modified is sent and honoured.
		e.db.Gorm.Exec("UPDATE index_state SET changed_at = ?", time.Now().Add(-time.Hour).UTC())
		r = get(t, u)
		lm := r.hdr.Get("Last-Modified")
		if lm == "" {
			t.Fatalf("no Last-Modified an hour after the last change")
		}
		if r := get(t, u, "If-Modified-Since", lm); r.code != 304 {
			t.Errorf("If-Modified-Since %s: %d", lm, r.code)
		}
		lmTime, _ := http.ParseTime(lm)
		if r := get(t, u, "If-Modified-Since", lmTime.Add(-time.Second).Format(http.TimeFormat)); r.code != 200 {
			t.Errorf("If-Modified-Since before the change: %d", r.code)
		}
		if r := get(t, u, "If-Modified-Since", "yesterday"); r.code != 200 {
			t.Errorf("junk If-Modified-Since: %d", r.code)
		}
		// HEAD gives the headers alone.
		if r := do(t, http.MethodHead, u); r.code != 200 || len(r.body) != 0 || r.hdr.Get("ETag") == "" {
			t.Errorf("HEAD: %d %d bytes", r.code, len(r.body))
		}
	})
}

// TestGzipAndCORS: gzip when asked for (and only then), CORS * for browsers.
func TestGzipAndCORS(t *testing.T) {
	e := newEnv(t, db.SQLite)
	u := e.api + "recipes/"
	plain := get(t, u)
	zipped := get(t, u, "Accept-Encoding", "gzip")
	if plain.hdr.Get("Content-Encoding") != "" {
		t.Errorf("gzip without Accept-Encoding")
	}
	if zipped.hdr.Get("Content-Encoding") != "gzip" || !strings.Contains(strings.Join(zipped.hdr.Values("Vary"), ","), "Accept-Encoding") {
		t.Fatalf("no gzip: %v", zipped.hdr)
	}
	zr, err := gzip.NewReader(bytes.NewReader(zipped.body))
	if err != nil {
		t.Fatal(err)
	}
	unzipped, err := io.ReadAll(zr)
	if err != nil || !bytes.Equal(unzipped, plain.body) {
		t.Errorf("gunzipped body differs (%v)", err)
	}
	if len(zipped.body) >= len(plain.body) {
		t.Errorf("gzip did not shrink %d bytes", len(plain.body))
	}
	if r := get(t, u, "If-None-Match", zipped.hdr.Get("ETag"), "Accept-Encoding", "gzip"); r.code != 304 {
		t.Errorf("conditional gzip request: %d", r.code)
	}
	r := get(t, u, "Origin", "https://example.org")
	if r.hdr.Get("Access-Control-Allow-Origin") != "*" || !strings.Contains(r.hdr.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Errorf("CORS headers: %v", r.hdr)
	}
}

// TestPagination: recipesExtended pages by 200 with upstream's envelope and
// absolute next/previous links that keep the other parameters.
func TestPagination(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		if err := storetest.Synthetic(context.Background(), s, storetest.SyntheticSize{Branches: 2, Layers: 3, RecipesPerLayer: 90}); err != nil {
			t.Fatal(err)
		}
		ts := serve(t, conn)
		api := ts.URL + "/layerindex/api/"
		type page struct {
			Count    int               `json:"count"`
			Next     *string           `json:"next"`
			Previous *string           `json:"previous"`
			Results  []json.RawMessage `json:"results"`
		}
		read := func(u string) page {
			t.Helper()
			r := get(t, u)
			var p page
			if r.code != 200 || json.Unmarshal(r.body, &p) != nil {
				t.Fatalf("%s: %d %s", u, r.code, r.body)
			}
			return p
		}
		u := api + "recipesExtended/?filter=layerbranch__branch__name:master&orderby=pn:-"
		p1 := read(u)
		if p1.Count != 270 || len(p1.Results) != 200 || p1.Previous != nil || p1.Next == nil {
			t.Fatalf("page 1: count %d, %d results, next %v previous %v", p1.Count, len(p1.Results), p1.Next, p1.Previous)
		}
		wantNext := api + "recipesExtended/?filter=layerbranch__branch__name%3Amaster&orderby=pn%3A-&page=2"
		if *p1.Next != wantNext {
			t.Errorf("next = %s\n want %s", *p1.Next, wantNext)
		}
		p2 := read(*p1.Next)
		if p2.Count != 270 || len(p2.Results) != 70 || p2.Next != nil || p2.Previous == nil {
			t.Fatalf("page 2: %d results", len(p2.Results))
		}
		if want := api + "recipesExtended/?filter=layerbranch__branch__name%3Amaster&orderby=pn%3A-"; *p2.Previous != want {
			t.Errorf("previous = %s", *p2.Previous)
		}
		// Other parameters, page_size included (upstream ignores it too),
		// stay in both links, even when the list was cached without them.
		ps := read(u + "&page_size=50")
		if len(ps.Results) != 200 || ps.Next == nil || !strings.Contains(*ps.Next, "page_size=50") || !strings.Contains(*ps.Next, "page=2") {
			t.Errorf("with page_size: %d results, next %v", len(ps.Results), ps.Next)
		} else if ps2 := read(*ps.Next); ps2.Previous == nil || !strings.Contains(*ps2.Previous, "page_size=50") {
			t.Errorf("page 2 with page_size: previous %v", ps2.Previous)
		}
		// A parameter given twice counts once, with its last value.
		if p := read(api + "recipesExtended/?filter=pn:nosuch&filter=layerbranch__branch__name:master&page=2&page=1"); p.Count != 270 || len(p.Results) != 200 {
			t.Errorf("repeated filter and page: count %d, %d results", p.Count, len(p.Results))
		}
		// The pages partition the ordered list.
		var all []string
		for _, raw := range append(p1.Results, p2.Results...) {
			var r struct {
				ID int64
				PN string
			}
			json.Unmarshal(raw, &r)
			all = append(all, fmt.Sprintf("%s/%d", r.PN, r.ID))
		}
		seen := map[string]bool{}
		for i, k := range all {
			if seen[k] {
				t.Fatalf("%s twice", k)
			}
			seen[k] = true
			if i > 0 && strings.Split(all[i-1], "/")[0] < strings.Split(k, "/")[0] {
				t.Fatalf("not ordered by pn descending at %d: %s %s", i, all[i-1], k)
			}
		}
		if last := read(api + "recipesExtended/?page=last"); last.Count != 540 || len(last.Results) != 140 {
			t.Errorf("page=last: count %d, %d results", last.Count, len(last.Results))
		}
		if r := get(t, api+"recipesExtended/?page=4"); r.code != 404 {
			t.Errorf("page past the end: %d", r.code)
		}
		// The other lists are bare arrays of every row.
		if n := len(list(t, api+"recipes/")); n != 540 {
			t.Errorf("recipes: %d rows", n)
		}
		if empty := read(api + "recipesExtended/?filter=pn:nosuch"); empty.Count != 0 || len(empty.Results) != 0 {
			t.Errorf("empty page: %+v", empty)
		}
	})
}

// TestResponseCache: a list is kept per index version (plain and gzipped),
// served again from memory, bypassed by Cache-Control: no-cache, and never
// served for another version.
func TestResponseCache(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		u := e.api + "recipes/?filter=layerbranch__branch__name:master"
		plain := get(t, u)
		zipped := get(t, u, "Accept-Encoding", "gzip")
		var v0 int64
		e.db.Gorm.Raw("SELECT version FROM index_state").Scan(&v0)
		// Change a recipe and put the version back: only a cached copy
		// can still show the old summary.
		e.db.Gorm.Exec("UPDATE recipes SET summary = 'Changed behind the cache' WHERE pn = 'zlib'")
		e.db.Gorm.Exec("UPDATE index_state SET version = ?", v0)
		if r := get(t, u); !bytes.Equal(r.body, plain.body) {
			t.Errorf("the second request was not served from the cache")
		}
		if r := get(t, u, "Accept-Encoding", "gzip"); !bytes.Equal(r.body, zipped.body) || r.hdr.Get("Content-Encoding") != "gzip" {
			t.Errorf("the gzipped copy was not served from the cache")
		}
		if r := get(t, u, "Cache-Control", "no-cache"); !bytes.Contains(r.body, []byte("Changed behind the cache")) {
			t.Errorf("Cache-Control: no-cache was served from the cache")
		}
		// Many clients at once get identical bodies, cached or not.
		e.db.Gorm.Exec("UPDATE recipes SET summary = 'Changed again' WHERE pn = 'zlib'")
		want := get(t, u, "Cache-Control", "no-cache").body
		var wg sync.WaitGroup
		bodies := make([][]byte, 16)
		for i := range bodies {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Get(u) // the client unzips transparently
				if err != nil {
					t.Error(err)
					return
				}
				bodies[i], _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}()
		}
		wg.Wait()
		for i, b := range bodies {
			if !bytes.Equal(b, want) {
				t.Errorf("concurrent client %d got %d bytes, want %d", i, len(b), len(want))
			}
		}
		// A real change moves the version: the cache is not used.
		e.db.Gorm.Exec("UPDATE recipes SET summary = 'Changed for real' WHERE pn = 'zlib'")
		if r := get(t, u); !bytes.Contains(r.body, []byte("Changed for real")) {
			t.Errorf("a stale cached list was served after a change")
		}
	})
}

// TestDatabaseDown: a failing database is a logged 500 with a JSON detail,
// not a hang, a panic or a partial list.
func TestDatabaseDown(t *testing.T) {
	e := newEnv(t, db.SQLite)
	e.db.Close()
	for _, u := range []string{"", "recipes/", "recipes/1/"} {
		r := get(t, e.api+u)
		var body map[string]string
		if r.code != 500 || json.Unmarshal(r.body, &body) != nil || body["detail"] == "" || r.hdr.Get("ETag") != "" {
			t.Errorf("%s with the database closed: %d %v %s", u, r.code, r.hdr, r.body)
		}
	}
}

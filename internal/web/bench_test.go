package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
	"layerindex/internal/web"
)

// BenchmarkPages serves the main pages from the realistic-size synthetic
// index, in process (no network), one sub-benchmark per page and database.
// bench/web.sh measures the same pages over loopback HTTP with wrk.
func BenchmarkPages(b *testing.B) {
	for _, d := range dbtest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			conn := dbtest.Migrated(b, d)
			if err := storetest.Synthetic(context.Background(), store.New(conn.Gorm), storetest.RealisticSize); err != nil {
				b.Fatal(err)
			}
			if d == db.Postgres {
				conn.Gorm.Exec("ANALYZE")
			}
			q, err := jobs.New(context.Background(), conn, jobs.Options{})
			if err != nil {
				b.Fatal(err)
			}
			srv, err := web.New(conn, q, web.Options{Version: "bench"})
			if err != nil {
				b.Fatal(err)
			}
			h := srv.Handler()
			var recipe string
			{
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/layerindex/branch/master/recipes/?q=pn%3Asyn007-1+layer%3Ameta-syn-1", nil))
				recipe = rec.Header().Get("Location")
				if recipe == "" {
					b.Fatalf("no recipe to benchmark: %d", rec.Code)
				}
			}
			for _, p := range []struct{ name, path string }{
				{"layer-list", "/layerindex/branch/master/layers/"},
				{"layer-detail", "/layerindex/branch/master/layer/meta-syn-1/"},
				{"search-word", "/layerindex/branch/master/recipes/?q=library"},
				{"search-pn", "/layerindex/branch/master/recipes/?q=pn%3Asyn001-0"},
				{"search-depends", "/layerindex/branch/master/recipes/?q=depends%3Azlib"},
				{"recipe", recipe},
				// The layout with little else: what every page pays.
				{"about", "/layerindex/about/"},
			} {
				b.Run(p.name, func(b *testing.B) {
					for b.Loop() {
						rec := httptest.NewRecorder()
						h.ServeHTTP(rec, httptest.NewRequest("GET", p.path, nil))
						if rec.Code != http.StatusOK && rec.Code != http.StatusFound {
							b.Fatalf("%s: %d", p.path, rec.Code)
						}
						io.Copy(io.Discard, rec.Body)
					}
				})
			}
		})
	}
}

// BenchmarkCachedPage measures a page served from the page cache to 16
// concurrent clients: the version check (SQLite: a query shared by the
// requests waiting for it; PostgreSQL: none) and the copy.
func BenchmarkCachedPage(b *testing.B) {
	for _, d := range dbtest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			conn := dbtest.Migrated(b, d)
			storetest.Load(b, store.New(conn.Gorm))
			q, err := jobs.New(context.Background(), conn, jobs.Options{})
			if err != nil {
				b.Fatal(err)
			}
			srv, err := web.New(conn, q, web.Options{Version: "bench", PageCache: true})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(srv.Close)
			h := srv.Handler()
			serve := func() string {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/layerindex/branch/master/layers/", nil))
				return rec.Header().Get("X-Cache")
			}
			for range 500 {
				if serve() == "hit" {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			b.ResetTimer()
			// 16 clients at once, as bench/web.sh's wrk.
			b.SetParallelism(8)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if serve() != "hit" {
						b.Error("not served from the cache")
						return
					}
				}
			})
		})
	}
}

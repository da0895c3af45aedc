package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/web"
)

func newServer(t *testing.T, conn *db.DB) *httptest.Server {
	t.Helper()
	q, err := jobs.New(context.Background(), conn, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := web.New(conn, q, web.Options{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

func fetch(t *testing.T, url string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func TestHomeAndErrors(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		ts := newServer(t, conn)

		code, body, hdr := fetch(t, ts.URL+"/")
		if code != 200 || !strings.Contains(body, "The index is empty") {
			t.Fatalf("empty home: %d", code)
		}
		if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "object-src 'none'") || hdr.Get("X-Frame-Options") != "DENY" {
			t.Errorf("security headers missing: %v", hdr)
		}

		ctx := context.Background()
		prio := 1
		conn.Gorm.Create(&store.Branch{Name: "scarthgap", ShortDescription: "Yocto Project 5.0", SortPriority: &prio, UpdatesEnabled: true})
		conn.Gorm.Create(&store.Branch{Name: "hidden-one", Hidden: true})
		conn.Gorm.Create(&store.Layer{Name: "meta-oe", Status: store.StatusPublished, LayerType: store.TypeSoftware, VCSURL: "https://example.org/x.git"})
		conn.Gorm.Create(&store.Layer{Name: "meta-new", Status: store.StatusNew, LayerType: store.TypeBSP, VCSURL: "https://example.org/y.git"})
		if n, _ := store.New(conn.Gorm).PublishedLayerCount(ctx); n != 1 {
			t.Fatalf("published count %d", n)
		}
		_, body, _ = fetch(t, ts.URL+"/")
		if !strings.Contains(body, "1 published layer on 1 branch.") || !strings.Contains(body, "scarthgap (Yocto Project 5.0)") || strings.Contains(body, "hidden-one") {
			t.Errorf("home with data:\n%s", body)
		}

		code, body, hdr = fetch(t, ts.URL+"/nowhere")
		if code != 404 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || !strings.Contains(body, "404 Not Found") {
			t.Errorf("404 page: %d %s", code, hdr.Get("Content-Type"))
		}
		code, body, _ = fetch(t, ts.URL+"/layerindex/api/nowhere/")
		var detail map[string]string
		if code != 404 || json.Unmarshal([]byte(body), &detail) != nil || detail["detail"] == "" {
			t.Errorf("API 404: %d %s", code, body)
		}
	})
}

func TestReadiness(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		ts := newServer(t, conn)
		if code, body, _ := fetch(t, ts.URL+"/readyz"); code != 200 {
			t.Fatalf("readyz on a migrated database: %d %s", code, body)
		}
		conn.Gorm.Exec("DELETE FROM goose_db_version WHERE version_id > 0")
		if code, body, _ := fetch(t, ts.URL+"/readyz"); code != 503 || !strings.Contains(body, "migrations") {
			t.Fatalf("readyz with pending migrations: %d %s", code, body)
		}
		if code, _, _ := fetch(t, ts.URL+"/healthz"); code != 200 {
			t.Fatalf("healthz: %d", code)
		}
		conn.Close()
		if code, body, _ := fetch(t, ts.URL+"/readyz"); code != 503 || !strings.Contains(body, "database unreachable") {
			t.Fatalf("readyz with the database closed: %d %s", code, body)
		}
	})
}

package web

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestLayerListStaleWithoutNewVersion: the layer list's rows are kept per
// index version (layerListRows), but whether a layer is stale changes
// without a new version (the alerts table has no version trigger), so an
// uncached list shows a layer branch gone stale within staleMemoTTL.
func TestLayerListStaleWithoutNewVersion(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s, conn, _, f := fixtureServer(t, d)
		h := s.Handler()
		list := func(nocache string) string {
			t.Helper()
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", "/layerindex/branch/master/layers/?nocache="+nocache, nil))
			b, _ := io.ReadAll(rec.Body)
			if rec.Code != 200 {
				t.Fatalf("layer list: %d", rec.Code)
			}
			return string(b)
		}
		before, err := s.indexVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if page := list("1"); !strings.Contains(page, "meta-oe") || strings.Contains(page, `class="badge stale"`) {
			t.Fatalf("the list before: no meta-oe, or a stale layer:\n%s", page)
		}
		lb := f.LayerBranch["meta-oe/master"].ID
		if err := conn.Gorm.Exec(`INSERT INTO layer_branch_alerts (layer_branch_id, repo_gone) VALUES (?, ?)`, lb, true).Error; err != nil {
			t.Fatal(err)
		}
		if after, err := s.indexVersion(ctx); err != nil || after != before {
			t.Fatalf("the index version moved (%v → %v, %v): the test needs an unchanged version", before, after, err)
		}
		// Polled past the memo's second (a slow machine may take longer to
		// serve the requests themselves).
		var row string
		for i := 0; ; i++ {
			page := list(fmt.Sprint(i + 2))
			row, _, _ = strings.Cut(page[strings.Index(page, "/layer/meta-oe/")+1:], "</tr>")
			if strings.Contains(row, `class="badge stale"`) {
				break
			}
			if i == 100 {
				t.Fatalf("meta-oe is not marked stale in the list %v after its repository is gone:\n%s", 100*100*time.Millisecond, row)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// uncachedPage returns a function that gets path from s with a new dummy
// parameter each time (nocache=1, 2, …), so the page cache never answers.
func uncachedPage(t *testing.T, s *Server, path string) func() string {
	h := s.Handler()
	n := 0
	return func() string {
		t.Helper()
		n++
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", fmt.Sprintf("%s?nocache=%d", path, n), nil))
		if rec.Code != 200 {
			t.Fatalf("%s: %d", path, rec.Code)
		}
		return rec.Body.String()
	}
}

// TestLayerPageHead: a layer page's head (layer, notes, maintainers, counts,
// last run) is kept per index version (layerHead), so every change to it
// must move the version — a note, a maintainer, an update run — and show on
// the next uncached page; whether the layer is stale changes without a
// version and shows within staleMemoTTL, as on the list.
func TestLayerPageHead(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s, conn, st, f := fixtureServer(t, d)
		page := uncachedPage(t, s, "/layerindex/branch/master/layer/meta-oe/")
		head := func(p string) string { h, _, _ := strings.Cut(p, `class="tabs`); return h }
		before := page()
		if strings.Contains(head(before), `class="badge stale"`) || strings.Contains(before, "A note kept per version") {
			t.Fatalf("the page before: stale, or the note already there")
		}
		// A second uncached page of the same version is the same page.
		if again := page(); strings.ReplaceAll(again, "nocache=2", "nocache=1") != before {
			t.Fatalf("two uncached pages of one version differ")
		}
		lb := f.LayerBranch["meta-oe/master"]
		note := store.LayerNote{LayerID: lb.LayerID, Text: "A note kept per version"}
		if err := st.SaveLayerNote(ctx, &note); err != nil {
			t.Fatal(err)
		}
		if err := conn.Gorm.Exec(`INSERT INTO layer_maintainers (layer_branch_id, name, email, responsibility, status) VALUES (?, ?, ?, '', 'A')`,
			lb.ID, "Maintainer Kept Per-Version", "kept@example.com").Error; err != nil {
			t.Fatal(err)
		}
		p := page()
		for _, want := range []string{"A note kept per version", "Maintainer Kept Per-Version"} {
			if !strings.Contains(p, want) {
				t.Errorf("the page after the change lacks %q", want)
			}
		}
		// An update run moves the version too; the head shows the newest.
		u := store.Update{StartedAt: time.Now()}
		if err := st.CreateUpdate(ctx, &u); err != nil {
			t.Fatal(err)
		}
		lbID := lb.ID
		if _, _, err := st.QueueRun(ctx, &store.LayerUpdate{UpdateID: u.ID, LayerID: lb.LayerID, BranchID: lb.BranchID,
			LayerBranchID: &lbID, StartedAt: time.Now()}); err != nil {
			t.Fatal(err)
		}
		if p2 := page(); head(p2) == head(p) {
			t.Errorf("the page's head did not change after an update run was recorded")
		}
		v, err := s.indexVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := conn.Gorm.Exec(`INSERT INTO layer_branch_alerts (layer_branch_id, repo_gone) VALUES (?, ?)`, lb.ID, true).Error; err != nil {
			t.Fatal(err)
		}
		if after, err := s.indexVersion(ctx); err != nil || after != v {
			t.Fatalf("the index version moved (%v → %v, %v): the test needs an unchanged version", v, after, err)
		}
		for i := 0; !strings.Contains(head(page()), `class="badge stale"`); i++ {
			if i == 100 {
				t.Fatalf("meta-oe's page is not marked stale %v after its repository is gone", 100*100*time.Millisecond)
			}
			time.Sleep(100 * time.Millisecond)
		}
	})
}

// TestRecipePageCovers: a recipe page asks which comparison packages its
// recipe covers only when some package has a cover (anyCovers, kept per
// version), so the first cover ever set must show on the next uncached page:
// setting it moves the version (store.TouchBranch, as internal/comparison
// does).
func TestRecipePageCovers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		s, conn, st, f := fixtureServer(t, d)
		page := uncachedPage(t, s, fmt.Sprintf("/layerindex/recipe/%d/", f.Recipes["openembedded-core/master/zlib"]))
		if has, err := s.anyCovers(ctx); err != nil || has {
			t.Fatalf("covers in the fixture: %v %v", has, err)
		}
		if p := page(); strings.Contains(p, `id="comparison"`) {
			t.Fatal("the page lists covered packages before there are any")
		}
		cmp := store.Branch{Name: "debian", Comparison: true}
		if err := conn.Gorm.Create(&cmp).Error; err != nil {
			t.Fatal(err)
		}
		page() // the memo at the version of the new branch: no covers yet
		if err := conn.Gorm.Exec(`INSERT INTO comparison_packages (branch_id, name, version, cover_status, cover_pn, cover_layer_branch_id)
VALUES (?, 'zlib1g', '1:1.3', 'D', 'zlib', ?)`, cmp.ID, f.LayerBranch["openembedded-core/master"].ID).Error; err != nil {
			t.Fatal(err)
		}
		if err := st.TouchBranch(ctx, cmp.ID); err != nil {
			t.Fatal(err)
		}
		if p := page(); !strings.Contains(p, `id="comparison"`) || !strings.Contains(p, "zlib1g 1:1.3") {
			t.Error("the page does not list the package its recipe covers once a cover is set")
		}
	})
}

// TestStaleLayersOneReader: once a branch's stale layer branches are older
// than staleMemoTTL one request reads them again while the others keep the
// previous ones; a failed read leaves the next request to read them.
func TestStaleLayersOneReader(t *testing.T) {
	s, _, _, f := fixtureServer(t, db.SQLite)
	b := f.Branches["master"].ID
	old := map[int64]bool{42: true}
	s.stale.byBranch = map[int64]staleEntry{b: {read: time.Now().Add(-time.Hour), stale: old, reading: true}}
	// A cancelled context: any read of the database would fail.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, err := s.staleLayers(ctx, b, time.Now()); err != nil || !got[42] {
		t.Fatalf("while another request reads them: %v, %v; want the previous ones", got, err)
	}
	s.stale.byBranch[b] = staleEntry{read: time.Now().Add(-time.Hour), stale: old}
	if _, err := s.staleLayers(ctx, b, time.Now()); err == nil {
		t.Fatal("an expired entry was not read again")
	}
	if e := s.stale.byBranch[b]; e.reading || !e.stale[42] {
		t.Fatalf("after a failed read: %+v; want the previous entry, not marked as being read", e)
	}
	got, err := s.staleLayers(context.Background(), b, time.Now().Add(-time.Hour))
	if err != nil || got[42] || s.stale.byBranch[b].reading {
		t.Fatalf("read again: %v, %v, %+v", got, err, s.stale.byBranch[b])
	}
}

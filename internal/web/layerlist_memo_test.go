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

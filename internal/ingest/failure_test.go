package ingest_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/ingest"
	"layerindex/internal/store"
)

// TestFailuresKeepThePreviousIndex breaks a successfully indexed layer in
// the ways real layers break and checks each time that the update fails
// with a readable log and the previous index stays as it was.
func TestFailuresKeepThePreviousIndex(t *testing.T) {
	bare := corpus.Bare(t, "openembedded-core")
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		w := cloneWork(t, bare)
		e := newEnv(t, d)
		core := e.addLayer("openembedded-core", w.dir, "meta")
		e.update(core, false)
		good := e.recipes(core.ID)
		lbBefore, _ := e.st.LayerBranchByID(e.ctx, core.ID)

		intact := func(t *testing.T) {
			t.Helper()
			now := e.recipes(core.ID)
			if len(now) != len(good) {
				t.Fatalf("index changed: %d recipes, had %d", len(now), len(good))
			}
			for p, r := range good {
				if now[p].ID != r.ID || now[p].PV != r.PV {
					t.Fatalf("%s changed", p)
				}
			}
			lb, _ := e.st.LayerBranchByID(e.ctx, core.ID)
			if lb.VCSLastRev != lbBefore.VCSLastRev {
				t.Fatalf("last indexed commit moved to %s", lb.VCSLastRev)
			}
		}
		fail := func(t *testing.T, force bool, wantErr string, permanent bool) *ingest.Result {
			t.Helper()
			res, err := e.ix.UpdateLayerBranch(e.ctx, ingest.Request{LayerBranchID: core.ID, Force: force})
			if err == nil {
				t.Fatalf("update succeeded; want an error containing %q\n%s", wantErr, logOf(res))
			}
			if ingest.IsPermanent(err) != permanent {
				t.Errorf("permanent = %v for %v", !permanent, err)
			}
			if res == nil || res.Status != store.UpdateFailed || !strings.Contains(res.Log, "ERROR: ") || !strings.Contains(res.Log, wantErr) {
				t.Fatalf("result %+v; log should hold an ERROR line with %q:\n%s", res, wantErr, logOf(res))
			}
			intact(t)
			return res
		}

		t.Run("broken layer.conf", func(t *testing.T) {
			w.edit("meta/conf/layer.conf", func(string) string { return "this is not BitBake\n" })
			w.git("", "commit", "-qam", "break layer.conf")
			fail(t, false, "conf/layer.conf", true)
			w.git("", "reset", "-q", "--hard", "HEAD~1")
		})
		t.Run("missing subdirectory", func(t *testing.T) {
			w.git("", "mv", "meta", "meta-moved")
			w.git("", "commit", "-qm", "move")
			fail(t, false, `subdirectory not found: "meta"`, true)
			w.git("", "reset", "-q", "--hard", "HEAD~1")
		})
		t.Run("branch missing", func(t *testing.T) {
			e.conn.Gorm.Model(&store.LayerBranch{}).Where("id = ?", core.ID).Update("actual_branch", "no-such-branch")
			fail(t, false, `branch "no-such-branch" does not exist`, true)
			e.conn.Gorm.Model(&store.LayerBranch{}).Where("id = ?", core.ID).Update("actual_branch", "")
		})
		t.Run("repository gone", func(t *testing.T) {
			moved := w.dir + ".away"
			if err := os.Rename(w.dir, moved); err != nil {
				t.Fatal(err)
			}
			defer os.Rename(moved, w.dir)
			fail(t, false, "not found", true)
		})
		t.Run("cancelled mid-parse", func(t *testing.T) {
			ctx, cancel := context.WithCancel(e.ctx)
			defer cancel()
			res, err := e.ix.UpdateLayerBranch(ctx, ingest.Request{LayerBranchID: core.ID, Force: true,
				Sink: func(line string) {
					if strings.Contains(line, "full parse of") {
						cancel() // the worker is stopped while recipes are being parsed
					}
				}})
			if !errors.Is(err, context.Canceled) || ingest.IsPermanent(err) {
				t.Fatalf("cancelled update: %v", err)
			}
			if res.Status != store.UpdateCancelled || !strings.Contains(res.Log, "previous index is unchanged") {
				t.Errorf("cancelled update: %s\n%s", res.Status, res.Log)
			}
			intact(t)
		})
		t.Run("recovers", func(t *testing.T) {
			if r := e.update(core, false); r.Status != store.UpdateUnchanged {
				t.Errorf("after the failures, an update of the unchanged layer: %s\n%s", r.Status, r.Log)
			}
		})
	})
}

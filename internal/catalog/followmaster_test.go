package catalog_test

import (
	"errors"
	"testing"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestMasterUnderCompatibleReleases: a layer with only a master branch that
// opts in is indexed, from its master git branch, on the releases its
// LAYERSERIES_COMPAT names (real repository, real ingestion, both
// databases); when master's declaration changes, the next update moves it
// to the releases it now names; a git branch of a release's name found in
// the repository replaces master there; opting out removes only the layer
// branches indexed from master. A release it never declared gets nothing.
func TestMasterUnderCompatibleReleases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		// Three releases: the repository's master core provides walnascar,
		// its walnascar branch too, its styhead branch styhead.
		e.repo.git("branch", "walnascar")
		e.repo.git("checkout", "-q", "-b", "styhead")
		e.repo.write(map[string]string{"meta/conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "core"
BBFILE_PATTERN_core = "^${LAYERDIR}/"
LAYERVERSION_core = "15"
LAYERSERIES_CORENAMES = "styhead"
LAYERSERIES_COMPAT_core = "styhead"
`})
		e.repo.commit("styhead core")
		e.repo.git("checkout", "-q", "master")
		master, walnascar, styhead := e.branch("master"), e.branch("walnascar"), e.branch("styhead")
		core := e.layer("openembedded-core", "meta", master, walnascar, styhead)
		for _, b := range []*store.Branch{master, walnascar, styhead} {
			if got := e.workAll(e.runs(e.lb(core.ID, b.ID).ID)[0].ID); got[0].Status != store.UpdateSucceeded {
				t.Fatalf("core on %s: %s %s", b.Name, got[0].Status, got[0].Reason)
			}
		}
		layer := e.layer("meta-test", "meta-test", master)
		mlb := e.lb(layer.ID, master.ID)
		if got := e.workAll(e.runs(mlb.ID)[0].ID); got[0].Status != store.UpdateSucceeded {
			t.Fatalf("meta-test on master: %s %s", got[0].Status, got[0].Reason)
		}
		mlb = e.lb(layer.ID, master.ID)

		follower := func(b *store.Branch) *store.LayerBranch {
			t.Helper()
			lb, err := e.st.LayerBranch(e.ctx, layer.ID, b.ID)
			if errors.Is(err, store.ErrNotFound) {
				return nil
			} else if err != nil {
				t.Fatal(err)
			}
			return lb
		}
		workLast := func(lb *store.LayerBranch) {
			t.Helper()
			rs := e.runs(lb.ID)
			if len(rs) == 0 {
				t.Fatalf("no run queued for %s", lb.Branch.Name)
			}
			if got := e.workAll(rs[len(rs)-1].ID); got[0].Status != store.UpdateSucceeded {
				t.Fatalf("run on %s: %s %s", lb.Branch.Name, got[0].Status, got[0].Reason)
			}
		}
		recipes := func(lb *store.LayerBranch) int64 {
			var n int64
			e.conn.Gorm.Model(&store.Recipe{}).Where("layer_branch_id = ?", lb.ID).Count(&n)
			return n
		}

		if follower(walnascar) != nil {
			t.Fatal("a layer branch on walnascar before the opt-in")
		}
		if err := e.cat.SetMasterForCompatible(e.ctx, catalog.CLI, layer.ID, true); err != nil {
			t.Fatal(err)
		}
		w := follower(walnascar)
		if w == nil || !w.FollowsMaster || w.GitBranch() != "master" || w.VCSSubdir != "meta-test" {
			t.Fatalf("walnascar follower: %+v", w)
		}
		if follower(styhead) != nil {
			t.Error("a follower on styhead, which meta-test does not declare")
		}
		workLast(w)
		w = follower(walnascar)
		if w.VCSLastRev != mlb.VCSLastRev || recipes(w) != 1 || w.SeriesCompat != "walnascar" {
			t.Errorf("walnascar follower indexed %s (master %s), %d recipes, compat %q", w.VCSLastRev, mlb.VCSLastRev, recipes(w), w.SeriesCompat)
		}
		if ms, _ := e.st.LayerMaintainers(e.ctx, w.ID); len(ms) != 1 {
			t.Errorf("follower maintainers: %+v", ms)
		}

		// master now declares styhead only, and gains a recipe.
		e.repo.write(map[string]string{
			"meta-test/conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "test-layer"
BBFILE_PATTERN_test-layer = "^${LAYERDIR}/"
BBFILE_PRIORITY_test-layer = "6"
LAYERVERSION_test-layer = "1"
LAYERSERIES_COMPAT_test-layer = "styhead"
LAYERDEPENDS_test-layer = "core"
`,
			"meta-test/recipes-example/bye/bye_1.0.bb": "SUMMARY = \"Bye\"\nLICENSE = \"MIT\"\n",
		})
		e.repo.commit("styhead only")
		if _, err := e.cat.RequestUpdate(e.ctx, catalog.CLI, catalog.UpdateRequest{LayerID: layer.ID, Branch: "master"}); err != nil {
			t.Fatal(err)
		}
		workLast(mlb)
		mlb = e.lb(layer.ID, master.ID)
		if follower(walnascar) != nil {
			t.Error("the walnascar follower stays after master stopped declaring walnascar")
		}
		s := follower(styhead)
		if s == nil || !s.FollowsMaster {
			t.Fatalf("styhead follower: %+v", s)
		}
		workLast(s)
		if s = follower(styhead); s.VCSLastRev != mlb.VCSLastRev || recipes(s) != 2 {
			t.Errorf("styhead follower indexed %s (master %s), %d recipes", s.VCSLastRev, mlb.VCSLastRev, recipes(s))
		}
		// The layer's own layer branches are never touched.
		if e.lb(core.ID, styhead.ID).FollowsMaster {
			t.Error("core's styhead branch marked as a follower")
		}

		// The repository has a styhead git branch (and a walnascar one):
		// the search for release branches makes them the layer's own, the
		// styhead one in place of the layer branch indexed from master.
		if err := e.cat.DiscoverBranches(e.ctx, layer.ID, 0); err != nil {
			t.Fatal(err)
		}
		own := follower(styhead)
		if own == nil || own.ID != s.ID || own.FollowsMaster || own.GitBranch() != "styhead" {
			t.Errorf("styhead after discovery: %+v", own)
		}
		if w := follower(walnascar); w == nil || w.FollowsMaster || w.GitBranch() != "walnascar" {
			t.Errorf("walnascar after discovery: %+v", w)
		}
		// Opting out removes layer branches indexed from master only.
		if err := e.cat.SetMasterForCompatible(e.ctx, catalog.CLI, layer.ID, true); err != nil {
			t.Fatal(err)
		}
		if err := e.cat.SetMasterForCompatible(e.ctx, catalog.CLI, layer.ID, false); err != nil {
			t.Fatal(err)
		}
		if follower(styhead) == nil || follower(walnascar) == nil {
			t.Error("the opt-out removed the layer's own branches")
		}
		if e.lb(layer.ID, master.ID).ID != mlb.ID {
			t.Error("the master layer branch changed")
		}
	})
}

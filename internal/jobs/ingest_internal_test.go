package jobs

import (
	"context"
	"strings"
	"testing"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/store"
)

// TestUpdateLayerDiscoversReleaseBranches: a release branch the layer has
// no layer branch for, but whose name exists in the repository, gets one
// (with the subdirectory and maintainers copied) and is queued with the
// others; a release branch missing from the repository is left alone.
func TestUpdateLayerDiscoversReleaseBranches(t *testing.T) {
	bare := corpus.Bare(t, "openembedded-core")
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		st := store.New(conn.Gorm)
		repos := gitrepo.NewCache(t.TempDir(), gitrepo.Policy{AllowLocal: true}, gitrepo.DefaultLimits)
		q, err := New(ctx, conn, Options{Repos: repos})
		if err != nil {
			t.Fatal(err)
		}
		var branches []*store.Branch
		for _, n := range []string{"master", "scarthgap", "styhead"} {
			b := &store.Branch{Name: n, UpdatesEnabled: true}
			st.CreateBranch(ctx, b)
			branches = append(branches, b)
		}
		l := &store.Layer{Name: "openembedded-core", Status: store.StatusPublished, LayerType: store.TypeBase, VCSURL: bare}
		st.CreateLayer(ctx, l)
		lb := &store.LayerBranch{LayerID: l.ID, BranchID: branches[0].ID, VCSSubdir: "meta", UpdatesEnabled: true}
		st.CreateLayerBranch(ctx, lb)
		st.SetMaintainers(ctx, lb.ID, []store.LayerMaintainer{{Name: "M", Email: "m@example.org"}})

		w := &updateLayerWorker{q: q, repos: repos, log: q.log}
		if err := w.Work(ctx, &river.Job[UpdateLayerArgs]{JobRow: &rivertype.JobRow{ID: 1}, Args: UpdateLayerArgs{LayerID: l.ID}}); err != nil {
			t.Fatal(err)
		}
		lbs, _ := st.LayerBranchesOfLayer(ctx, l.ID)
		if len(lbs) != 2 || lbs[1].Branch.Name != "scarthgap" || lbs[1].VCSSubdir != "meta" {
			t.Fatalf("layer branches after discovery: %+v", lbs)
		}
		var ms []store.LayerMaintainer
		conn.Gorm.Where("layer_branch_id = ?", lbs[1].ID).Find(&ms)
		if len(ms) != 1 || ms[0].Email != "m@example.org" {
			t.Errorf("maintainers not copied: %+v", ms)
		}
		var kinds []string
		conn.Gorm.Table("river_job").Select("kind").Order("id").Scan(&kinds)
		if len(kinds) != 2 || kinds[0] != "update_layer_branch" {
			t.Errorf("queued jobs: %v", kinds)
		}
	})
}

func TestValidateRepository(t *testing.T) {
	bare := corpus.Bare(t, "openembedded-core")
	ctx := context.Background()
	repos := gitrepo.NewCache(t.TempDir(), gitrepo.Policy{AllowLocal: true}, gitrepo.DefaultLimits)
	l := &store.Layer{Name: "openembedded-core", VCSURL: bare}
	master := &store.Branch{Name: "master"}

	report, err := ValidateRepository(ctx, repos, l, []store.LayerBranch{{VCSSubdir: "meta", Branch: master}})
	if err != nil {
		t.Fatalf("valid layer: %v\n%s", err, report)
	}
	for _, want := range []string{"branches: kirkstone, master, scarthgap", `collection "core"`, "956 recipe(s)"} {
		if !strings.Contains(report, want) {
			t.Errorf("report lacks %q:\n%s", want, report)
		}
	}
	_, err = ValidateRepository(ctx, repos, l, []store.LayerBranch{{VCSSubdir: "meta-nope", Branch: master}})
	if err == nil || !strings.Contains(err.Error(), "meta-nope") {
		t.Errorf("wrong subdirectory: %v", err)
	}
	_, err = ValidateRepository(ctx, repos, &store.Layer{VCSURL: "https://127.0.0.1/x.git"}, nil)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Errorf("hostile URL: %v", err)
	}
}

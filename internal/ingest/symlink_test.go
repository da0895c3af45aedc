package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/store"
)

// TestLayerConfSymlink indexes a layer whose conf/layer.conf is a symbolic
// link to a file elsewhere in its repository, as layers sharing one
// layer.conf do, and checks that a link leaving the repository or to an
// absolute path is refused with the reason, both by the submission check
// and by an update.
func TestLayerConfSymlink(t *testing.T) {
	files := tinyCore("", map[string]string{"recipes-a/fine/fine_1.0.bb": "LICENSE = \"MIT\"\n"})
	conf := files["meta/conf/layer.conf"]
	delete(files, "meta/conf/layer.conf")
	files["shared/core-layer.conf"] = conf
	w := tinyRepo(t, files)
	for link, target := range map[string]string{
		"meta/conf/layer.conf":       "../../shared/core-layer.conf",
		"meta-up/conf/layer.conf":    "../../../etc/passwd",
		"meta-abs/conf/layer.conf":   "/etc/passwd",
		"meta-chain/conf/layer.conf": "../../meta/conf/layer.conf",
	} {
		p := filepath.Join(w.dir, link)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(target, p); err != nil {
			t.Fatal(err)
		}
	}
	w.git(w.dir, "add", "-A")
	w.git(w.dir, "commit", "-qm", "links")

	cache := gitrepo.NewCache(t.TempDir(), gitrepo.Policy{AllowLocal: true}, gitrepo.DefaultLimits)
	check := func(subdir string) (string, error) {
		return ingest.CheckRepository(context.Background(), cache, &store.Layer{Name: "l", VCSURL: w.dir},
			[]store.LayerBranch{{ActualBranch: "master", VCSSubdir: subdir}})
	}
	for _, subdir := range []string{"meta", "meta-chain"} {
		if report, err := check(subdir); err != nil || !strings.Contains(report, `collection "core"`) {
			t.Errorf("%s: check: %v\n%s", subdir, err, report)
		}
	}
	for subdir, want := range map[string]string{"meta-up": "leaves the repository", "meta-abs": "an absolute path"} {
		_, err := check(subdir)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "symbolic link") {
			t.Errorf("%s: check: %v, want the reason %q", subdir, err, want)
		}
	}

	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		r := e.update(e.addLayer("openembedded-core", w.dir, "meta"), false)
		if r.Status != store.UpdateSucceeded || !strings.Contains(r.Log, "recipes: 1 added") {
			t.Fatalf("through the link: %s\n%s", r.Status, r.Log)
		}
		_, err := e.ix.UpdateLayerBranch(e.ctx, ingest.Request{LayerBranchID: e.addLayer("meta-up", w.dir, "meta-up").ID})
		if err == nil || !strings.Contains(err.Error(), "leaves the repository") {
			t.Errorf("a link leaving the repository: %v", err)
		}
	})
}

package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"layerindex/internal/corpus"
	"layerindex/internal/db"
)

// TestAdminCLIIndexesCorpus adds a branch and two layers from the shared
// corpus (local mirrors) with the command line and indexes them with
// `update --wait`, then checks a second run is skipped.
func TestAdminCLIIndexesCorpus(t *testing.T) {
	oe := corpus.Bare(t, "openembedded-core")
	mo := corpus.Bare(t, "meta-openembedded")
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"LAYERINDEX_DATA_DIR=" + dataDir}
	local := append(env, "LAYERINDEX_ALLOW_LOCAL_REPOS=1")

	mustRun := func(env []string, args ...string) string {
		t.Helper()
		code, out, stderr := runCmd(t, env, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, stderr)
		}
		return out
	}
	mustRun(env, "branch", "add", "master", "--short-description", "Development")
	if code, _, stderr := runCmd(t, env, "", "branch", "add", "master"); code != 1 || !strings.Contains(stderr, "already exists") {
		t.Errorf("duplicate branch: %d %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, env, "", "layer", "add", "--name", "openembedded-core", "--vcs-url", oe); code != 1 || !strings.Contains(stderr, "local paths are not allowed") {
		t.Errorf("local mirror without --allow-local-repos: %d %s", code, stderr)
	}
	if code, _, stderr := runCmd(t, env, "", "layer", "add", "--name", "Bad--Name", "--vcs-url", "https://example.org/x"); code != 2 || !strings.Contains(stderr, "--name: Name must only contain") {
		t.Errorf("bad name: %d %s", code, stderr)
	}
	// meta-oe is added first: `update --wait` must still index oe-core
	// before it, as meta-oe depends on it.
	mustRun(local, "layer", "add", "--name", "meta-oe", "--vcs-url", mo, "--subdir", "meta-oe", "--type", "S", "--publish")
	mustRun(local, "layer", "add", "--name", "openembedded-core", "--vcs-url", oe, "--subdir", "meta", "--type", "A", "--publish")

	out := mustRun(local, "update", "--wait")
	for _, want := range []string{"== openembedded-core on master: succeeded", "== meta-oe on master: succeeded", "INFO: recipes: 956 added"} {
		if !strings.Contains(out, want) {
			t.Errorf("update output lacks %q:\n%s", want, lastLines(out, 40))
		}
	}
	// Issue 10 #1: a run of an unchanged layer ends "unchanged" (it used
	// to stay "running", its final write refused by a CHECK constraint).
	out = mustRun(local, "update", "--wait", "--layer", "meta-oe", "--branch", "master")
	if !strings.Contains(out, "== meta-oe on master: unchanged") {
		t.Errorf("second run not unchanged:\n%s", lastLines(out, 20))
	}
	out = mustRun(local, "update", "--layer", "openembedded-core", "--branch", "master")
	if !strings.Contains(out, "queued openembedded-core on master as run") {
		t.Errorf("queueing: %s", out)
	}
	if code, _, stderr := runCmd(t, local, "", "update", "--layer", "nope"); code != 1 || !strings.Contains(stderr, "no layer called nope") {
		t.Errorf("unknown layer: %d %s", code, stderr)
	}

	conn, err := db.OpenSQLite(context.Background(), db.SQLitePath(dataDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var n int64
	conn.Gorm.Table("recipes").Count(&n)
	if n != 956+1092 {
		t.Errorf("%d recipes indexed, want %d", n, 956+1092)
	}

	// Issue 10 #5: a release branch added after the layers is found in
	// their repositories, and `update --wait` says so.
	out = mustRun(local, "branch", "add", "scarthgap", "--bitbake-branch", "2.8")
	if !strings.Contains(out, "queued a search of 2 published layer(s) for a git branch scarthgap") {
		t.Errorf("branch add: %s", out)
	}
	out = mustRun(local, "update", "--layer", "openembedded-core", "--branch", "scarthgap", "--wait")
	for _, want := range []string{"openembedded-core: release branch scarthgap found in its repository",
		"== openembedded-core on scarthgap: succeeded"} {
		if !strings.Contains(out, want) {
			t.Errorf("update --branch scarthgap lacks %q:\n%s", want, lastLines(out, 20))
		}
	}
}

// TestServeIndexesPublishedLayer: a layer added with --publish is indexed
// by the embedded worker of a running server, through River.
func TestServeIndexesPublishedLayer(t *testing.T) {
	oe := corpus.Bare(t, "openembedded-core")
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"LAYERINDEX_DATA_DIR=" + dataDir, "LAYERINDEX_ALLOW_LOCAL_REPOS=1"}
	if code, out, stderr := runCmd(t, env, "", "branch", "add", "master"); code != 0 {
		t.Fatal(out, stderr)
	}
	p, _ := serving(t, env)
	if code, out, stderr := runCmd(t, env, "", "layer", "add", "--name", "openembedded-core", "--vcs-url", oe, "--subdir", "meta", "--publish"); code != 0 {
		t.Fatal(out, stderr)
	}
	p.waitLog(`msg="update run attempt ended".*status=succeeded.*added=956`, 90*time.Second)
	p.terminate(10 * time.Second)
}

func lastLines(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

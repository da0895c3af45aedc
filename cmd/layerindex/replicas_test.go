package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

// TestReplicas runs a deployment of more than one machine, as real
// processes: two `serve` and two `worker` processes on one PostgreSQL
// database. It checks that ingestion jobs are spread over both workers with
// no layer branch updated twice, that a change committed by a worker
// reaches both servers' page caches (PostgreSQL notifications; the pages'
// own lifetime is minutes), and that with one server killed the other
// keeps serving and keeps following changes.
func TestReplicas(t *testing.T) {
	dbURL := dbtest.PostgresURL(t)
	const layers = 8
	repo := replicaRepo(t, layers)
	common := []string{"DATABASE_URL=" + dbURL, "LAYERINDEX_ALLOW_LOCAL_REPOS=1",
		"LAYERINDEX_SECRET_KEY=" + strings.Repeat("k", 40), "LAYERINDEX_LOG_LEVEL=info"}
	envFor := func(name string) []string {
		return append(append([]string{}, common...), "LAYERINDEX_DATA_DIR="+filepath.Join(t.TempDir(), name))
	}
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, stderr := runCmd(t, envFor("cli"), "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, stderr)
		}
		return out
	}
	mustRun("migrate")
	mustRun("branch", "add", "master")

	// Two servers without workers, two workers without servers.
	s1, url1 := serving(t, envFor("s1"), "--embedded-worker=false")
	s2, url2 := serving(t, envFor("s2"), "--embedded-worker=false")
	var workers []*proc
	for i := range 2 {
		w := start(t, envFor(fmt.Sprintf("w%d", i)), "worker", "--ingest-workers", "1")
		w.waitLog(`msg="layerindex worker is running"`, 60*time.Second)
		workers = append(workers, w)
	}

	// Publishing queues one update per layer branch.
	mustRun("layer", "add", "--name", "openembedded-core", "--vcs-url", repo, "--subdir", "meta", "--type", "A", "--publish")
	for i := range layers {
		mustRun("layer", "add", "--name", fmt.Sprintf("meta-r%d", i), "--vcs-url", repo, "--subdir", fmt.Sprintf("meta-r%d", i), "--type", "S", "--publish")
	}
	// Attempts that end "retrying" (a layer waiting for its dependency to
	// be indexed) are not runs that ended.
	updated := regexp.MustCompile(`msg="update run attempt ended" run=\d+ layer_branch=(\d+) status=(succeeded|unchanged|failed|cancelled)`)
	runs := func() map[string][]string { // layer branch -> "worker:status" of each update run
		out := map[string][]string{}
		for i, w := range workers {
			for _, m := range updated.FindAllStringSubmatch(w.output(), -1) {
				out[m[1]] = append(out[m[1]], fmt.Sprintf("w%d:%s", i, m[2]))
			}
		}
		return out
	}
	deadline := time.Now().Add(3 * time.Minute)
	for len(runs()) < layers+1 {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d layer branches were updated: %v", len(runs()), layers+1, runs())
		}
		time.Sleep(100 * time.Millisecond)
	}
	time.Sleep(time.Second) // a duplicate run would show by now
	perWorker := map[string]int{}
	for lb, rs := range runs() {
		// The periodic refresh may add a run that finds nothing changed.
		succeeded := 0
		for _, r := range rs {
			if strings.HasSuffix(r, ":succeeded") {
				succeeded++
			} else if !strings.HasSuffix(r, ":unchanged") {
				succeeded = -100
			}
		}
		if succeeded != 1 {
			t.Errorf("layer branch %s: update runs %v, want exactly one that succeeded", lb, rs)
		}
		for _, r := range rs {
			perWorker[strings.SplitN(r, ":", 2)[0]]++
		}
	}
	t.Logf("update runs per worker: %v", perWorker)
	if perWorker["w0"] == 0 || perWorker["w1"] == 0 {
		t.Errorf("jobs were not spread over both workers: %v", perWorker)
	}

	// Both servers cache the layer page of meta-r0.
	page := "/layerindex/branch/master/layer/meta-r0/"
	for _, base := range []string{url1, url2} {
		cachedPage(t, base+page)
	}

	// A change committed by a worker reaches both servers' caches.
	change := func(recipe string) {
		t.Helper()
		replicaCommit(t, repo, map[string]string{
			"meta-r0/recipes-extra/" + recipe + "/" + recipe + "_1.0.bb": "SUMMARY = \"Added later\"\nLICENSE = \"MIT\"\n"})
		mustRun("update", "--layer", "meta-r0", "--branch", "master")
	}
	conn, err := db.OpenPostgres(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// shows waits until every server shows the recipe on the cached page,
	// and reports how long after the worker's commit (first seen in the
	// database) the last one did.
	shows := func(bases []string, pn string) {
		t.Helper()
		var committed time.Time
		seen := map[string]time.Time{}
		deadline := time.Now().Add(2 * time.Minute)
		for len(seen) < len(bases) {
			if committed.IsZero() {
				var n int64
				conn.Gorm.Raw("SELECT count(*) FROM recipes WHERE pn = ?", pn).Scan(&n)
				if n > 0 {
					committed = time.Now()
				}
			}
			for _, base := range bases {
				if _, ok := seen[base]; ok {
					continue
				}
				if code, body, _ := get(t, base+page); code == 200 && strings.Contains(body, pn) {
					seen[base] = time.Now()
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("after two minutes only %d of %d servers show %q", len(seen), len(bases), pn)
			}
			time.Sleep(5 * time.Millisecond)
		}
		var lag time.Duration
		for _, at := range seen {
			lag = max(lag, at.Sub(committed))
		}
		t.Logf("%q shown by %d servers at most %s after the worker committed it", pn, len(bases), lag.Round(time.Millisecond))
	}
	change("replica-late")
	shows([]string{url1, url2}, "replica-late")
	for _, base := range []string{url1, url2} {
		cachedPage(t, base+page)
	}

	// One server killed: the other keeps serving, and keeps following
	// changes committed by the workers.
	s1.cmd.Process.Kill()
	<-s1.done
	change("replica-after-kill")
	shows([]string{url2}, "replica-after-kill")
	if code, body, _ := get(t, url2+"/layerindex/api/layerItems/"); code != 200 || !strings.Contains(body, "meta-r7") {
		t.Errorf("API of the surviving server: %d %.200s", code, body)
	}
	// Later runs index the commits above, or find nothing changed (the
	// periodic refresh); none fails.
	lbRuns := runs()
	for lb, rs := range lbRuns {
		for i := 1; i < len(rs); i++ {
			if !strings.HasSuffix(rs[i], ":succeeded") && !strings.HasSuffix(rs[i], ":unchanged") {
				t.Errorf("layer branch %s: runs %v", lb, rs)
			}
		}
	}
	s2.terminate(10 * time.Second)
	for _, w := range workers {
		w.terminate(15 * time.Second)
	}
}

// cachedPage fetches url until the server's page cache answers it (the
// PostgreSQL listener connects in the background).
func cachedPage(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		get(t, url)
		if code, _, hdr := get(t, url); code == 200 && hdr.Get("X-Cache") == "hit" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is not served from the page cache", url)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// replicaRepo makes a git repository with a minimal core layer (meta) and
// n small layers meta-r0… that depend on it, quick to index.
func replicaRepo(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "replicas.git")
	files := map[string]string{
		"meta/conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "core"
BBFILE_PATTERN_core = "^${LAYERDIR}/"
LAYERVERSION_core = "15"
LAYERSERIES_CORENAMES = "walnascar"
LAYERSERIES_COMPAT_core = "walnascar"
`,
		"meta/conf/bitbake.conf": `PN = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[0] or 'defaultpkgname'}"
PV = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[1] or '1.0'}"
PR = "r0"
`,
		"meta/classes-global/base.bbclass":          "# base\n",
		"meta/recipes-core/zlib/zlib_1.3.bb":        "SUMMARY = \"Compression library\"\nLICENSE = \"Zlib\"\n",
		"meta/recipes-core/busybox/busybox_1.36.bb": "SUMMARY = \"Small utilities\"\nLICENSE = \"GPL-2.0-only\"\nDEPENDS = \"zlib\"\n",
	}
	for i := range n {
		c := fmt.Sprintf("r%d", i)
		files[fmt.Sprintf("meta-%s/conf/layer.conf", c)] = fmt.Sprintf(`BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "%[1]s"
BBFILE_PATTERN_%[1]s = "^${LAYERDIR}/"
BBFILE_PRIORITY_%[1]s = "6"
LAYERSERIES_COMPAT_%[1]s = "walnascar"
LAYERDEPENDS_%[1]s = "core"
`, c)
		for j := range 3 {
			files[fmt.Sprintf("meta-%s/recipes-app/app%d-%s/app%d-%s_1.%d.bb", c, j, c, j, c, j)] =
				fmt.Sprintf("SUMMARY = \"Application %d of layer %s\"\nLICENSE = \"MIT\"\nDEPENDS = \"zlib\"\n", j, c)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	replicaGit(t, dir, "init", "-q", "-b", "master")
	replicaCommit(t, dir, files)
	return dir
}

// replicaCommit writes files into the repository at dir and commits them.
func replicaCommit(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	replicaGit(t, dir, "add", ".")
	replicaGit(t, dir, "commit", "-qm", "change")
}

func replicaGit(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
}

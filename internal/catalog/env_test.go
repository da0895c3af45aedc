package catalog_test

import (
	"context"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/jobs"
	"layerindex/internal/mail"
	"layerindex/internal/repocreds"
	"layerindex/internal/store"
)

const secret = "catalog-test-secret-0123456789abcdef"

// env is a database with the catalog on a job queue, and a small git
// repository of layers to point at.
type env struct {
	t    *testing.T
	ctx  context.Context
	conn *db.DB
	st   *store.Store
	q    *jobs.Queue
	cat  *catalog.Service
	repo *gitRepo
}

type envOpts struct {
	work   bool // the queue works jobs (started by the test with e.start)
	sweep  time.Duration
	timing catalog.Timing
	policy *gitrepo.Policy
	// creds, when set, gives the fetches private repositories'
	// credentials and the catalog their ssh coverage.
	creds *repocreds.Source
	// logger, when set, is the catalog's logger.
	logger *slog.Logger
}

func newEnv(t *testing.T, d db.Dialect, o envOpts) *env {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	e := &env{t: t, ctx: ctx, conn: dbtest.Migrated(t, d)}
	e.st = store.New(e.conn.Gorm)
	e.repo = newGitRepo(t)
	e.q, e.cat = e.open(e.conn, o)
	return e
}

// open builds a queue and a catalog on conn, as a process would.
func (e *env) open(conn *db.DB, o envOpts) (*jobs.Queue, *catalog.Service) {
	e.t.Helper()
	q, err := jobs.New(e.ctx, conn, jobs.Options{Work: o.work, IngestWorkers: 2, PollInterval: 50 * time.Millisecond, SweepInterval: o.sweep,
		// The runs a test counts are its own.
		NoStartRefresh: true})
	if err != nil {
		e.t.Fatal(err)
	}
	policy := gitrepo.Policy{AllowLocal: true}
	if o.policy != nil {
		policy = *o.policy
	}
	repos := gitrepo.NewCache(e.t.TempDir(), policy, gitrepo.DefaultLimits)
	opts := catalog.Options{BaseURL: "https://layers.example.org", SecretKey: secret,
		RepoPolicy: policy, Indexer: ingest.New(conn.Gorm, repos, nil), Repos: repos, Timing: o.timing, Logger: o.logger}
	if o.creds != nil {
		repos.Credentials, opts.SSHKeys = o.creds, o.creds
	}
	cat, err := catalog.New(conn, q, opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return q, cat
}

func (e *env) start(q *jobs.Queue) {
	e.t.Helper()
	if err := q.Start(e.ctx); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { q.Stop(context.Background()) })
}

func (e *env) branch(name string) *store.Branch {
	e.t.Helper()
	b := &store.Branch{Name: name, BitbakeBranch: name, UpdatesEnabled: true}
	if err := e.st.CreateBranch(e.ctx, b); err != nil {
		e.t.Fatal(err)
	}
	return b
}

// layer adds a published layer from the test repository's subdirectory.
func (e *env) layer(name, subdir string, branches ...*store.Branch) *store.Layer {
	e.t.Helper()
	var bs []store.Branch
	for _, b := range branches {
		bs = append(bs, *b)
	}
	l, err := e.cat.AddLayer(e.ctx, catalog.CLI, bs, catalog.LayerInput{
		Layer:  store.Layer{Name: name, LayerType: store.TypeSoftware, Summary: name, Description: name, VCSURL: e.repo.dir},
		Subdir: subdir, Maintainers: []store.LayerMaintainer{{Name: "Maint " + name, Email: name + "@example.org"}},
	}, true)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *env) lb(layerID, branchID int64) *store.LayerBranch {
	e.t.Helper()
	lb, err := e.st.LayerBranch(e.ctx, layerID, branchID)
	if err != nil {
		e.t.Fatal(err)
	}
	return lb
}

// runs lists the runs of a layer branch, oldest first.
func (e *env) runs(lbID int64) []store.LayerUpdate {
	e.t.Helper()
	var lus []store.LayerUpdate
	if err := e.conn.Gorm.Where("layer_branch_id = ?", lbID).Order("id").Find(&lus).Error; err != nil {
		e.t.Fatal(err)
	}
	return lus
}

func (e *env) run(id int64) *store.LayerUpdate {
	e.t.Helper()
	r, err := e.st.RunByID(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// request asks for a layer's update from the command line.
func (e *env) request(l *store.Layer, force bool) *catalog.Requested {
	e.t.Helper()
	req, err := e.cat.RequestUpdate(e.ctx, catalog.CLI, catalog.UpdateRequest{LayerID: l.ID, Force: force})
	if err != nil {
		e.t.Fatal(err)
	}
	return req
}

// workAll works runs here, as `update --wait` does.
func (e *env) workAll(ids ...int64) []store.LayerUpdate {
	e.t.Helper()
	out, err := e.cat.WorkHere(e.ctx, ids, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

func runIDs(req *catalog.Requested) []int64 {
	var ids []int64
	for _, r := range req.Runs {
		ids = append(ids, r.Run.ID)
	}
	return ids
}

// waitFor polls cond until it holds.
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// mails lists the queued mails of a kind, opened.
func (e *env) mails(kind string) []jobs.MailArgs {
	e.t.Helper()
	var rows []struct{ Args string }
	e.conn.Gorm.Raw("SELECT " + e.argsText() + " AS args FROM river_job WHERE kind = 'send_mail' ORDER BY id").Scan(&rows)
	sealer, _ := mail.NewSealer(secret)
	var out []jobs.MailArgs
	for _, r := range rows {
		var m jobs.MailArgs
		if err := jsonUnmarshal(r.Args, &m); err != nil {
			e.t.Fatal(err)
		}
		if m.MailKind != kind {
			continue
		}
		if body, err := sealer.Open(m.Body); err == nil {
			m.Body = body
		}
		out = append(out, m)
	}
	return out
}

// argsText reads a River job's args as JSON text (SQLite stores JSONB).
func (e *env) argsText() string {
	if e.conn.Dialect == db.SQLite {
		return "json(args)"
	}
	return "CAST(args AS TEXT)"
}

// gitRepo is a repository with a core layer in meta/ and layers that
// depend on it, on branch master.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	r := &gitRepo{t: t, dir: filepath.Join(t.TempDir(), "layers.git")}
	r.write(map[string]string{
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
		"meta/classes-global/base.bbclass":               "# base\n",
		"meta/recipes-core/busybox/busybox_1.36.bb":      "SUMMARY = \"Busybox\"\nLICENSE = \"GPL-2.0-only\"\n",
		"meta-test/conf/layer.conf":                      layerConf("test-layer", "core"),
		"meta-test/recipes-example/hello/hello_1.0.bb":   "SUMMARY = \"Hello world\"\nLICENSE = \"MIT\"\n",
		"meta-orphan/conf/layer.conf":                    layerConf("orphan-layer", "core nonexistent-layer"),
		"meta-orphan/recipes-example/lost/lost_1.0.bb":   "SUMMARY = \"Lost\"\nLICENSE = \"MIT\"\n",
		"meta-second/conf/layer.conf":                    layerConf("second-layer", "core test-layer"),
		"meta-second/recipes-example/two/two_2.0.bb":     "SUMMARY = \"Two\"\nLICENSE = \"MIT\"\n",
		"meta-second/recipes-example/three/three_3.0.bb": "SUMMARY = \"Three\"\nLICENSE = \"MIT\"\n",
	})
	r.git("init", "-q", "-b", "master")
	r.commit("layers")
	return r
}

func layerConf(collection, depends string) string {
	return `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "` + collection + `"
BBFILE_PATTERN_` + collection + ` = "^${LAYERDIR}/"
BBFILE_PRIORITY_` + collection + ` = "6"
LAYERVERSION_` + collection + ` = "1"
LAYERSERIES_COMPAT_` + collection + ` = "walnascar"
LAYERDEPENDS_` + collection + ` = "` + depends + `"
`
}

func (r *gitRepo) write(files map[string]string) {
	r.t.Helper()
	for p, c := range files {
		full := filepath.Join(r.dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			r.t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *gitRepo) commit(msg string) {
	r.t.Helper()
	r.git("add", "-A")
	r.git("commit", "-qm", msg)
}

func (r *gitRepo) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	if err := os.MkdirAll(r.dir, 0o755); err != nil {
		r.t.Fatal(err)
	}
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

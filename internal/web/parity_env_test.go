package web_test

import (
	"context"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"layerindex/internal/auth"
	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/web"
)

// corpusSite is a site whose index holds the real oe-core from the shared
// corpus on two release branches (master and scarthgap), for the reports
// and bulk change issue 17 added. It has no worker: everything is indexed
// in the foreground before the server starts answering.
type corpusSite struct {
	t                 *testing.T
	ctx               context.Context
	conn              *db.DB
	st                *store.Store
	ts                *httptest.Server
	ix                *ingest.Indexer
	bare              string // the oe-core bare repository (the layer's URL)
	master, scarthgap *store.Branch
	core              *store.Layer
	coreLB            map[string]*store.LayerBranch // by branch name
}

func newCorpusSite(t *testing.T, d db.Dialect) *corpusSite {
	t.Helper()
	bare := corpus.Bare(t, "openembedded-core")
	s := &corpusSite{t: t, ctx: context.Background(), conn: dbtest.Migrated(t, d), bare: bare, coreLB: map[string]*store.LayerBranch{}}
	s.st = store.New(s.conn.Gorm)
	cache := gitrepo.NewCache(t.TempDir(), gitrepo.Policy{AllowLocal: true}, gitrepo.DefaultLimits)
	s.ix = ingest.New(s.conn.Gorm, cache, nil)
	one, two := 1, 2
	s.master = &store.Branch{Name: "master", BitbakeBranch: "master", UpdatesEnabled: true, SortPriority: &one}
	s.scarthgap = &store.Branch{Name: "scarthgap", BitbakeBranch: "2.8", ShortDescription: "Yocto Project 5.0", UpdatesEnabled: true, SortPriority: &two}
	for _, b := range []*store.Branch{s.master, s.scarthgap} {
		if err := s.st.CreateBranch(s.ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	s.core = &store.Layer{Name: "openembedded-core", Status: store.StatusPublished, LayerType: store.TypeBase,
		Summary: "Core metadata", Description: "The core.", VCSURL: bare, IndexPreference: 5}
	if err := s.st.CreateLayer(s.ctx, s.core); err != nil {
		t.Fatal(err)
	}
	for _, b := range []*store.Branch{s.master, s.scarthgap} {
		s.coreLB[b.Name] = s.addLayerBranch(s.core, b, "meta")
	}
	q, err := jobs.New(s.ctx, s.conn, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(s.conn, q, web.Options{Version: "test", SecretKey: acctSecret, Repos: cache})
	if err != nil {
		t.Fatal(err)
	}
	s.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(s.ts.Close)
	return s
}

// addLayerBranch puts a layer on a branch and indexes it.
func (s *corpusSite) addLayerBranch(l *store.Layer, b *store.Branch, subdir string) *store.LayerBranch {
	s.t.Helper()
	lb := &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, VCSSubdir: subdir, UpdatesEnabled: true}
	if err := s.st.CreateLayerBranch(s.ctx, lb); err != nil {
		s.t.Fatal(err)
	}
	res, err := s.ix.UpdateLayerBranch(s.ctx, ingest.Request{LayerBranchID: lb.ID})
	if err != nil || res.Status != store.UpdateSucceeded {
		log := ""
		if res != nil {
			log = res.Log
		}
		s.t.Fatalf("indexing %s on %s: %v\n%s", l.Name, b.Name, err, log)
	}
	return lb
}

// client is a browser for this site.
func (s *corpusSite) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: s.t, base: s.ts.URL, http: &http.Client{Jar: jar, Timeout: 60 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// gitRepo makes a git repository holding files, committed once, and
// returns its path.
func gitRepo(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "repo.git")
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "master"}, {"add", "."}, {"commit", "-qm", "a test layer"}} {
		gitIn(t, dir, args...)
	}
	return dir
}

// gitIn runs git in dir with a fixed identity and no user configuration.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// depsLayer is a small layer on top of oe-core for the dependency report:
// app needs zlib (core), own-lib (itself) and, through a PACKAGECONFIG
// option, openssl (core).
var depsLayer = map[string]string{
	"meta-deps/conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "deps-layer"
BBFILE_PATTERN_deps-layer = "^${LAYERDIR}/"
BBFILE_PRIORITY_deps-layer = "6"
LAYERDEPENDS_deps-layer = "core"
LAYERSERIES_COMPAT_deps-layer = "blacksail"
`,
	"meta-deps/recipes-app/app/app_1.0.bb": `SUMMARY = "An application"
LICENSE = "MIT"
DEPENDS = "zlib own-lib"
PACKAGECONFIG ??= ""
PACKAGECONFIG[ssl] = "--with-ssl,--without-ssl,openssl"
`,
	"meta-deps/recipes-app/own-lib/own-lib_1.0.bb": `SUMMARY = "A library of the layer"
LICENSE = "BSD-3-Clause"
`,
}

// user creates a verified account.
func (s *corpusSite) user(email, pw string) *store.User {
	s.t.Helper()
	h, err := auth.HashPassword(pw)
	if err != nil {
		s.t.Fatal(err)
	}
	u := &store.User{Email: email, Name: "User " + email, PasswordHash: h, Verified: true, IsActive: true}
	if err := s.st.CreateUser(s.ctx, u); err != nil {
		s.t.Fatal(err)
	}
	return u
}

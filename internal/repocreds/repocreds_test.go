package repocreds_test

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/repocreds"
	"layerindex/internal/store"
)

const (
	siteSecret = "site-secret-0123456789abcdef0123456789"
	token      = "glpat-s3cr3t-t0ken-value"
)

// privateGitServer serves a bare repository with git-http-backend, as a
// forge does, answering 401 to requests without the token as the password
// of HTTP basic authentication. It counts the requests that had it.
func privateGitServer(t *testing.T) (url string, authed *atomic.Int64) {
	t.Helper()
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		t.Fatalf("git-http-backend is required (Debian's git package): %v", err)
	}
	src := t.TempDir()
	run := func(dir string, args ...string) {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	writeLayer(t, src)
	run(src, "init", "-q", "-b", "master")
	run(src, "add", ".")
	run(src, "commit", "-qm", "private layer")
	root := t.TempDir()
	run(root, "clone", "-q", "--bare", src, filepath.Join(root, "private.git"))
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	authed = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pw, ok := r.BasicAuth()
		if !ok || subtle.ConstantTimeCompare([]byte(pw), []byte(token)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="git"`)
			http.Error(w, "authentication required", http.StatusUnauthorized)
			return
		}
		authed.Add(1)
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/private.git", authed
}

// writeLayer writes a minimal layer under dir/meta.
func writeLayer(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "meta/conf"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "meta/conf/layer.conf"), []byte("BBFILE_COLLECTIONS += \"secret\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestPrivateRepository: a repository behind HTTP basic authentication is
// refused (permanently: it needs credentials) without a credential, cloned
// with the one an administrator set for its URL prefix, refused with a
// wrong one; the secret is sealed in the database (bound to its prefix and
// the site's secret) and appears in no error.
func TestPrivateRepository(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		st := store.New(conn.Gorm)
		repoURL, authed := privateGitServer(t)
		sealer, err := repocreds.NewSealer(siteSecret)
		if err != nil {
			t.Fatal(err)
		}
		src := repocreds.NewSource(st, sealer)
		pol := gitrepo.Policy{AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		cache := func() *gitrepo.Cache {
			c := gitrepo.NewCache(t.TempDir(), pol, gitrepo.DefaultLimits)
			c.Credentials = src
			return c
		}

		// Without a credential.
		_, err = cache().Fetch(ctx, repoURL)
		if err == nil || !gitrepo.IsPermanent(err) {
			t.Fatalf("no credential: %v", err)
		}
		base := strings.TrimSuffix(repoURL, "/private.git")

		// A credential for a look-alike host, and for a sibling path, do not apply.
		if err := src.Set(ctx, repocreds.Credential{Prefix: base + "0", Kind: repocreds.KindToken, Username: "", Secret: token}); err != nil {
			t.Fatal(err)
		}
		if err := src.Set(ctx, repocreds.Credential{Prefix: base + "/private", Kind: repocreds.KindToken, Username: "", Secret: token}); err != nil {
			t.Fatal(err)
		}
		if _, err := cache().Fetch(ctx, repoURL); err == nil {
			t.Fatal("a credential of another prefix was used")
		}

		// A wrong token for the server, then the right one.
		if err := src.Set(ctx, repocreds.Credential{Prefix: base + "/", Kind: repocreds.KindBasic, Username: "ci", Secret: "wrong token"}); err != nil {
			t.Fatal(err)
		}
		if _, err := cache().Fetch(ctx, repoURL); err == nil || strings.Contains(err.Error(), "wrong token") {
			t.Fatalf("wrong token: %v", err)
		}
		if err := src.Set(ctx, repocreds.Credential{Prefix: base + "/", Kind: repocreds.KindToken, Username: "", Secret: token}); err != nil {
			t.Fatal(err)
		}
		before := authed.Load()
		repo, err := cache().Fetch(ctx, repoURL)
		if err != nil {
			t.Fatalf("with the token: %v", err)
		}
		if _, err := repo.Branch("master"); err != nil {
			t.Fatal(err)
		}
		if authed.Load() == before {
			t.Error("the clone did not authenticate")
		}

		// Sealed at rest, bound to its prefix and the site's secret.
		var rows []store.RepoCredential
		conn.Gorm.Find(&rows)
		for _, r := range rows {
			if strings.Contains(r.Secret, token) || strings.Contains(r.Secret, "wrong") || r.Secret == "" {
				t.Errorf("secret of %s stored in clear or empty: %q", r.URLPrefix, r.Secret)
			}
		}
		other, _ := repocreds.NewSealer(siteSecret + "x")
		if _, err := repocreds.NewSource(st, other).AuthFor(ctx, repoURL); err == nil || strings.Contains(err.Error(), token) {
			t.Errorf("another site secret opened the credential: %v", err)
		}
		sealed := sealer.Seal(token, base+"/")
		if _, err := sealer.Open(sealed, base+"/elsewhere"); err == nil {
			t.Error("a sealed secret opened for another prefix")
		}
		if got, err := sealer.Open(sealed, base+"/"); err != nil || got != token {
			t.Errorf("open: %q %v", got, err)
		}

		// Prefixes never carry credentials themselves.
		for _, p := range []string{"https://user:pw@git.example.com/", "https://git.example.com/?token=x", "ssh://git.example.com/", "git.example.com"} {
			if err := src.Set(ctx, repocreds.Credential{Prefix: p, Kind: repocreds.KindToken, Username: "", Secret: token}); err == nil {
				t.Errorf("prefix %q accepted", p)
			}
		}
		if err := src.Set(ctx, repocreds.Credential{Prefix: base + "/", Kind: "ssh-agent", Username: "", Secret: token}); err == nil {
			t.Error("unknown kind accepted")
		}
		if err := st.DeleteRepoCredential(ctx, base+"/"); err != nil {
			t.Fatal(err)
		}
		if err := st.DeleteRepoCredential(ctx, base+"/"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("deleting twice: %v", err)
		}
	})
}

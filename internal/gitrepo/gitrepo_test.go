package gitrepo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
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
	"testing/fstest"
	"time"

	"layerindex/internal/prereq"
)

// gitRepo is a working repository built with the git CLI for a test.
type gitRepo struct {
	t   *testing.T
	dir string
}

func newGitRepo(t *testing.T) *gitRepo {
	t.Helper()
	g := &gitRepo{t: t, dir: t.TempDir()}
	g.git("init", "-q", "-b", "master")
	return g
}

func (g *gitRepo) git(args ...string) string {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = g.dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		g.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (g *gitRepo) write(files map[string]string) {
	g.t.Helper()
	for name, content := range files {
		p := filepath.Join(g.dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			g.t.Fatal(err)
		}
	}
}

func (g *gitRepo) commit(msg string) string {
	g.t.Helper()
	g.git("add", "-A")
	g.git("commit", "-q", "--allow-empty", "-m", msg)
	return g.git("rev-parse", "HEAD")
}

var localPolicy = Policy{AllowLocal: true}

func testLimits() Limits {
	l := DefaultLimits
	l.FetchTimeout = time.Minute
	return l
}

func TestFetchTreeAndDiff(t *testing.T) {
	ctx := context.Background()
	src := newGitRepo(t)
	src.write(map[string]string{
		"README":                         "top",
		"meta-a/conf/layer.conf":         "BBFILE_COLLECTIONS += \"a\"\n",
		"meta-a/recipes-x/x/x_1.0.bb":    "SUMMARY = \"x\"\n",
		"meta-a/recipes-x/x/x.inc":       "LICENSE = \"MIT\"\n",
		"meta-a/recipes-y/y/y_1.0.bb":    "SUMMARY = \"y\"\n",
		"meta-b/conf/layer.conf":         "BBFILE_COLLECTIONS += \"b\"\n",
		"meta-a/recipes-x/x/files/a.txt": "data",
	})
	os.Symlink("/etc/passwd", filepath.Join(src.dir, "meta-a", "escape"))
	c1 := src.commit("one")

	cache := NewCache(t.TempDir(), localPolicy, testLimits())
	repo, err := cache.Fetch(ctx, src.dir)
	if err != nil {
		t.Fatal(err)
	}
	head, err := repo.Branch("master")
	if err != nil || head.Hash != c1 {
		t.Fatalf("master = %v %v, want %s", head, err, c1)
	}
	tree, err := repo.Tree(c1, "meta-a")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(tree, "conf/layer.conf", "recipes-x/x/x_1.0.bb", "recipes-y/y/y_1.0.bb"); err != nil {
		t.Fatal(err)
	}
	if _, err := tree.Stat("escape"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("symlink visible in the tree: %v", err)
	}
	if len(tree.Skipped) != 1 || tree.Skipped[0] != "escape" {
		t.Errorf("skipped = %v", tree.Skipped)
	}
	if b, _ := tree.ReadFile("recipes-x/x/x_1.0.bb"); string(b) != "SUMMARY = \"x\"\n" {
		t.Errorf("read %q", b)
	}
	if _, err := repo.Tree(c1, "meta-missing"); !errors.Is(err, ErrNoSubdir) || !IsPermanent(err) {
		t.Errorf("missing subdir: %v", err)
	}

	// A second commit: modify, rename, delete, add; and something outside
	// the subdirectory, which the diff must not report.
	src.write(map[string]string{"meta-a/recipes-x/x/x.inc": "LICENSE = \"GPL-2.0-only\"\n", "meta-a/recipes-z/z/z_2.0.bb": "SUMMARY = \"z\"\n", "meta-b/x": "b"})
	src.git("mv", "meta-a/recipes-y/y/y_1.0.bb", "meta-a/recipes-y/y/y_1.1.bb")
	src.git("rm", "-q", "meta-a/recipes-x/x/files/a.txt")
	c2 := src.commit("two")
	if repo.HasCommit(c2) {
		t.Fatal("commit present before fetching")
	}
	repo, err = cache.Fetch(ctx, src.dir)
	if err != nil {
		t.Fatal(err)
	}
	if h, _ := repo.Branch("master"); h.Hash != c2 {
		t.Fatalf("master after fetch = %s, want %s", h.Hash, c2)
	}
	changes, err := repo.Diff(ctx, c1, c2, "meta-a")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, ch := range changes {
		got[fmt.Sprintf("%s %s %s", ch.Action, ch.From, ch.To)] = true
	}
	for _, want := range []string{"M recipes-x/x/x.inc recipes-x/x/x.inc", "A  recipes-z/z/z_2.0.bb",
		"R recipes-y/y/y_1.0.bb recipes-y/y/y_1.1.bb", "D recipes-x/x/files/a.txt "} {
		if !got[want] {
			t.Errorf("diff lacks %q; got %v", want, got)
		}
	}
	if len(changes) != 4 {
		t.Errorf("%d changes: %v", len(changes), changes)
	}
	h1, _ := repo.TreeHash(c1, "meta-b")
	h2, _ := repo.TreeHash(c2, "meta-b")
	if h1 == h2 {
		t.Error("meta-b changed but its tree hash did not")
	}
	if a, _ := repo.TreeHash(c1, "meta-a/conf"); a == "" {
		t.Error("no tree hash")
	}

	// A deleted branch disappears from the mirror on the next fetch.
	src.git("branch", "-q", "old")
	repo, _ = cache.Fetch(ctx, src.dir)
	if _, err := repo.Branch("old"); err != nil {
		t.Fatalf("new branch not fetched: %v", err)
	}
	src.git("branch", "-q", "-D", "old")
	repo, _ = cache.Fetch(ctx, src.dir)
	if _, err := repo.Branch("old"); !errors.Is(err, ErrBranchNotFound) || !IsPermanent(err) {
		t.Fatalf("deleted branch: %v", err)
	}
	if bs, _ := repo.Branches(); len(bs) != 1 || bs[0] != "master" {
		t.Errorf("branches %v", bs)
	}
}

func TestFetchMissingRepositoryIsPermanent(t *testing.T) {
	cache := NewCache(t.TempDir(), localPolicy, testLimits())
	_, err := cache.Fetch(context.Background(), filepath.Join(t.TempDir(), "nothing-here"))
	if err == nil || !IsPermanent(err) {
		t.Fatalf("missing repository: %v (permanent %v)", err, IsPermanent(err))
	}
	entries, _ := os.ReadDir(cache.Dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".clone-") || strings.HasSuffix(e.Name(), ".git") {
			t.Errorf("failed clone left %s behind", e.Name())
		}
	}
}

// listener counts connections, to prove a refused URL was never contacted.
type listener struct {
	net.Listener
	accepted atomic.Int64
}

func newListener(t *testing.T, addr string) *listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		prereq.Missing(t, "cannot listen on %s: %v", addr, err)
	}
	l := &listener{Listener: ln}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			l.accepted.Add(1)
			c.Close()
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return l
}

func TestHostileURLsRefusedBeforeAnyConnection(t *testing.T) {
	trap := newListener(t, "127.0.0.1:0")
	port := trap.Addr().(*net.TCPAddr).Port
	cases := []string{
		fmt.Sprintf("https://127.0.0.1:%d/repo.git", port),
		"https://127.0.0.1/repo.git",
		"https://localhost/repo.git",
		"https://10.1.2.3/repo.git",
		"https://169.254.169.254/latest/meta-data",
		"https://[::1]/repo.git",
		"https://[::ffff:127.0.0.1]/repo.git",
		"https://100.64.0.1/repo.git",
		"https://[64:ff9b::a9fe:a9fe]/repo.git",
		"http://example.org/repo.git",
		"file:///etc",
		"/etc",
		"ssh://git@example.org/repo.git",
		"git@example.org:repo.git",
		"git://example.org/repo.git",
		"https://user:secret@example.org/repo.git",
		"https://example.org:2222/repo.git",
		"ftp://example.org/repo.git",
		"-uhttps://example.org/x",
		"https://example.org/repo.git\r\nHost: evil",
		"",
	}
	cache := NewCache(t.TempDir(), Policy{}, testLimits())
	for _, u := range cases {
		_, err := cache.Fetch(context.Background(), u)
		if !errors.Is(err, ErrURLRefused) || !IsPermanent(err) {
			t.Errorf("%q: got %v, want a refusal", u, err)
		}
	}
	if n := trap.accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the loopback listener", n)
	}
}

// httpGitServer serves the repositories under root over smart HTTP with
// git-http-backend, as a forge would.
func httpGitServer(t *testing.T, root string) *httptest.Server {
	t.Helper()
	backend := prereq.File(t, "/usr/lib/git-core/git-http-backend", "Debian's git package")
	h := &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func TestHTTPFetchRedirectToPrivateAddressRefused(t *testing.T) {
	private := newListener(t, "127.0.0.2:0")
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "http://"+private.Addr().String()+r.URL.Path+"?"+r.URL.RawQuery, http.StatusFound)
	}))
	defer redirector.Close()
	// The redirector itself is allowed (as a public server would be); the
	// private address it sends us to is not.
	pol := Policy{AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	cache := NewCache(t.TempDir(), pol, testLimits())
	_, err := cache.Fetch(context.Background(), redirector.URL+"/repo.git")
	if err == nil || !strings.Contains(err.Error(), "127.0.0.2") {
		t.Fatalf("redirect to a private address: %v", err)
	}
	if n := private.accepted.Load(); n != 0 {
		t.Errorf("%d connections reached the private address", n)
	}
}

func TestHTTPFetchAndTransferCap(t *testing.T) {
	src := newGitRepo(t)
	rnd := make([]byte, 3<<20) // incompressible, so the pack exceeds a 256 KiB transfer cap
	rand.NewChaCha8([32]byte{1}).Read(rnd)
	src.write(map[string]string{"meta/conf/layer.conf": "x", "meta/blob.bin": string(rnd)})
	src.commit("one")
	root := t.TempDir()
	bare := filepath.Join(root, "repo.git")
	if out, err := exec.Command("git", "clone", "-q", "--bare", src.dir, bare).CombinedOutput(); err != nil {
		t.Fatalf("%v %s", err, out)
	}
	srv := httpGitServer(t, root)
	pol := Policy{AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}

	repo, err := NewCache(t.TempDir(), pol, testLimits()).Fetch(context.Background(), srv.URL+"/repo.git")
	if err != nil {
		t.Fatalf("HTTP clone: %v", err)
	}
	if _, err := repo.Branch("master"); err != nil {
		t.Fatal(err)
	}

	limits := testLimits()
	limits.MaxTransferBytes = 256 << 10
	cache := NewCache(t.TempDir(), pol, limits)
	_, err = cache.Fetch(context.Background(), srv.URL+"/repo.git")
	if !errors.Is(err, ErrTooLarge) || !IsPermanent(err) {
		t.Fatalf("transfer over the cap: %v", err)
	}
	if entries, _ := os.ReadDir(cache.Dir); len(entries) > 1 { // only the lock file may remain
		t.Errorf("failed clone left %d entries in the cache", len(entries))
	}
}

func TestTreeCaps(t *testing.T) {
	src := newGitRepo(t)
	// A 100 MB file and 100,000 small ones, written with fast-import so
	// the test stays quick.
	var rest strings.Builder
	rest.WriteString("\n")
	for i := 0; i < 100_000; i++ {
		fmt.Fprintf(&rest, "M 644 inline layer/many/d%d/f%d\ndata 1\nx\n", i%100, i)
	}
	stream := io.MultiReader(
		strings.NewReader(fmt.Sprintf("commit refs/heads/master\ncommitter t <t@example.org> 1700000000 +0000\ndata 3\nbig\nM 644 inline layer/huge.bin\ndata %d\n", 100<<20)),
		io.LimitReader(zeros{}, 100<<20),
		strings.NewReader(rest.String()),
	)
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir, cmd.Stdin = src.dir, stream
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("fast-import: %v %s", err, out)
	}
	head := src.git("rev-parse", "master")

	repo, err := NewCache(t.TempDir(), localPolicy, testLimits()).Fetch(context.Background(), src.dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := repo.Tree(head, "layer"); !errors.Is(err, ErrTooLarge) || !IsPermanent(err) {
		t.Errorf("100,000 files under the default limit of %d: %v", DefaultLimits.MaxFiles, err)
	}
	repo.limits.MaxFiles = 200_000
	tree, err := repo.Tree(head, "layer")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.ReadFile("huge.bin"); !errors.Is(err, ErrTooLarge) {
		t.Errorf("100 MB file read: %v", err)
	}
	if b, err := tree.ReadFile("many/d7/f7"); err != nil || string(b) != "x" {
		t.Errorf("small file: %q %v", b, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestDamagedCloneIsMadeAgain: a worker killed while a fetch wrote the
// cached clone's refs left an empty ref file, and every later fetch of
// the repository failed with "ref file is empty" (seen in
// TestKilledWorkerRunIsRetried); the clone is a cache, so it is made again.
func TestDamagedCloneIsMadeAgain(t *testing.T) {
	src := newGitRepo(t)
	src.write(map[string]string{"meta/conf/layer.conf": "x"})
	head := src.commit("one")
	cache := NewCache(t.TempDir(), localPolicy, testLimits())
	if _, err := cache.Fetch(context.Background(), src.dir); err != nil {
		t.Fatal(err)
	}
	u, err := localPolicy.CheckURL(src.dir)
	if err != nil {
		t.Fatal(err)
	}
	ref := filepath.Join(cache.pathFor(u), "refs", "heads", "master")
	if _, err := os.Stat(ref); err != nil {
		t.Fatalf("the clone has no loose ref to damage: %v", err)
	}
	if err := os.WriteFile(ref, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	repo, err := cache.Fetch(context.Background(), src.dir)
	if err != nil {
		t.Fatalf("fetch into the damaged clone: %v", err)
	}
	if b, err := repo.Branch("master"); err != nil || b.Hash != head {
		t.Errorf("master after the repair: %+v %v, want %s", b, err, head)
	}
}

// TestTreeFollowsLinksInsideRepository checks which symbolic links a tree
// follows: relative ones to a regular file of the repository, also outside
// the subdirectory and through a chain, show as that file; one that is
// absolute, leaves the repository, names a directory, a missing file or
// loops stays out with its reason.
func TestTreeFollowsLinksInsideRepository(t *testing.T) {
	src := newGitRepo(t)
	src.write(map[string]string{"shared/layer.conf": "BBFILE_COLLECTIONS += \"x\"\n", "meta-x/README": "x"})
	links := map[string]string{
		"meta-x/conf/layer.conf": "../../shared/layer.conf",
		"meta-x/chain":           "conf/layer.conf",
		"meta-x/abs":             "/etc/passwd",
		"meta-x/up":              "../../etc/passwd",
		"meta-x/dir":             "../shared",
		"meta-x/missing":         "../shared/nothing",
		"meta-x/loop":            "loop",
	}
	for link, target := range links {
		os.MkdirAll(filepath.Join(src.dir, filepath.Dir(link)), 0o755)
		if err := os.Symlink(target, filepath.Join(src.dir, link)); err != nil {
			t.Fatal(err)
		}
	}
	c := src.commit("links")
	repo, err := NewCache(t.TempDir(), localPolicy, testLimits()).Fetch(context.Background(), src.dir)
	if err != nil {
		t.Fatal(err)
	}
	tree, err := repo.Tree(c, "meta-x")
	if err != nil {
		t.Fatal(err)
	}
	if err := fstest.TestFS(tree, "README", "conf/layer.conf", "chain"); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"conf/layer.conf", "chain"} {
		if b, err := tree.ReadFile(p); err != nil || string(b) != "BBFILE_COLLECTIONS += \"x\"\n" {
			t.Errorf("%s: %q %v", p, b, err)
		}
	}
	for p, why := range map[string]string{"abs": "absolute", "up": "leaves the repository", "dir": "not a regular file",
		"missing": "no such file", "loop": "too many levels"} {
		_, err := tree.Stat(p)
		if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: %v, want not found because %q", p, err, why)
		}
		if err := tree.Refused(p); err == nil || !strings.Contains(err.Error(), why) {
			t.Errorf("%s: refused %v", p, err)
		}
	}
	if len(tree.Skipped) != 5 {
		t.Errorf("skipped %v", tree.Skipped)
	}
}

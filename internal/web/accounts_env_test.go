package web_test

import (
	"context"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/cgi"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"layerindex/internal/auth"
	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/jobs"
	"layerindex/internal/mail"
	"layerindex/internal/mail/mailtest"
	"layerindex/internal/repocreds"
	"layerindex/internal/store"
	"layerindex/internal/web"

	"layerindex/internal/prereq"
)

const acctSecret = "test-secret-key-0123456789abcdef0123"

// acctEnv is a running site for account tests: a migrated database with a
// master branch, a published core layer and an administrator, the web
// server, a River worker, an SMTP sink and a local git repository holding a
// small layer that submissions can point at.
type acctEnv struct {
	t    testing.TB
	conn *db.DB
	st   *store.Store
	q    *jobs.Queue
	ts   *httptest.Server
	sink *mailtest.Sink
	repo string // path of a git repository with a layer in meta-test/
	// repoURL serves repo over smart HTTP on loopback: what users submit
	// (local paths are for administrators only).
	repoURL string
	core    *store.Layer
	admin   *store.User
	srv     *web.Server
	cat     *catalog.Service
	// creds are the private repositories' credentials the worker's
	// fetches use (empty unless a test sets some).
	creds *repocreds.Source
}

const adminPassword = "admin password 1"

type envOpts struct {
	limits  *auth.Limits
	proxies []string
	noSMTP  bool
	policy  *gitrepo.Policy // default: local repositories allowed
	timing  catalog.Timing
	// staleAfter is the catalog's stale period (zero: its default).
	staleAfter time.Duration
	// noStartRefresh leaves out the refresh of every layer at start.
	noStartRefresh bool
	closed         bool // closed site mode
	// oidc, when set, is the OpenID provider to sign in with (its
	// RedirectURL is filled in); noPasswords turns local passwords off.
	oidc        *auth.OIDCConfig
	noPasswords bool
	ldap        *auth.LDAPConfig // LDAP sign-in
	// logs, when set, receives every process log line (debug and up) of
	// the catalog, the worker's indexer and the web server.
	logs io.Writer
}

func newAcctEnv(t testing.TB, d db.Dialect, o envOpts) *acctEnv {
	t.Helper()
	ctx := context.Background()
	e := &acctEnv{t: t, conn: dbtest.Migrated(t, d), sink: mailtest.Start(t)}
	e.st = store.New(e.conn.Gorm)
	e.repo = layerRepo(t)
	e.repoURL = httpGitServer(t, e.repo)

	master := &store.Branch{Name: "master", UpdatesEnabled: true}
	if err := e.st.CreateBranch(ctx, master); err != nil {
		t.Fatal(err)
	}
	e.core = &store.Layer{Name: "openembedded-core", Status: store.StatusPublished, LayerType: store.TypeBase,
		Summary: "Core", Description: "Core.", VCSURL: e.repo}
	if err := e.st.CreateLayer(ctx, e.core); err != nil {
		t.Fatal(err)
	}
	// Known as indexed (collection core) but never refreshed: submitted
	// layers are parsed on top of it.
	coreLB := &store.LayerBranch{LayerID: e.core.ID, BranchID: master.ID, VCSSubdir: "meta"}
	if err := e.st.CreateLayerBranch(ctx, coreLB); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetIndexedState(ctx, coreLB.ID, store.IndexedState{Collection: "core", Version: "15"}); err != nil {
		t.Fatal(err)
	}
	e.admin = e.user("admin@example.org", adminPassword, true)

	sealer, err := mail.NewSealer(acctSecret)
	if err != nil {
		t.Fatal(err)
	}
	var sender mail.Sender
	if !o.noSMTP {
		if sender, err = mail.NewSMTP(mail.Config{Host: e.sink.Host(), Port: e.sink.Port(), TLS: "none", From: "index@example.org"}); err != nil {
			t.Fatal(err)
		}
	}
	policy := gitrepo.Policy{AllowLocal: true, AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	repos := gitrepo.NewCache(t.TempDir(), policy, gitrepo.DefaultLimits)
	var queueLog *slog.Logger // River's own lines, when a test reads the logs
	if o.logs != nil {
		queueLog = slog.New(slog.NewTextHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.q, err = jobs.New(ctx, e.conn, jobs.Options{Work: true, MaxWorkers: 4, PollInterval: 50 * time.Millisecond, Logger: queueLog,
		NoStartRefresh: o.noStartRefresh,
		Mail:           jobs.MailOptions{Sender: sender, Sealer: sealer, From: "index@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	e.ts = httptest.NewUnstartedServer(nil)
	base := "http://" + e.ts.Listener.Addr().String()
	logger := slog.New(slog.NewTextHandler(testLog{t}, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.logs != nil {
		logger = slog.New(slog.NewTextHandler(io.MultiWriter(o.logs, testLog{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if o.policy != nil {
		policy = *o.policy
	}
	credSealer, err := repocreds.NewSealer(acctSecret)
	if err != nil {
		t.Fatal(err)
	}
	e.creds = repocreds.NewSource(e.st, credSealer)
	repos.Credentials = e.creds
	e.cat, err = catalog.New(e.conn, e.q, catalog.Options{BaseURL: base, SecretKey: acctSecret, RepoPolicy: policy,
		Indexer: ingest.New(e.conn.Gorm, repos, logger), Repos: repos, Logger: logger, Timing: o.timing, SSHKeys: e.creds,
		StaleAfter: o.staleAfter})
	if err != nil {
		t.Fatal(err)
	}
	opts := web.Options{Version: "test", BaseURL: base, SecretKey: acctSecret, Catalog: e.cat, Credentials: e.creds,
		RepoPolicy: policy, Limits: o.limits, Logger: logger, ClosedSite: o.closed, NoLocalPasswords: o.noPasswords}
	if o.oidc != nil {
		cfg := *o.oidc
		cfg.RedirectURL = base + "/accounts/oidc/callback/"
		opts.OIDC, opts.OIDCLabel = auth.NewOIDC(cfg), "Example SSO"
	}
	if o.ldap != nil {
		if opts.LDAP, err = auth.NewLDAP(*o.ldap); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range o.proxies {
		opts.TrustedProxies = append(opts.TrustedProxies, mustPrefix(t, p))
	}
	s, err := web.New(e.conn, e.q, opts)
	if err != nil {
		t.Fatal(err)
	}
	e.srv = s
	e.ts.Config.Handler = s.Handler()
	e.ts.Start()
	t.Cleanup(e.ts.Close)
	if err := e.q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.q.Stop(context.Background()) })
	return e
}

// testLog sends the server's warnings and errors to the test log.
type testLog struct{ t testing.TB }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

// user creates a verified account.
func (e *acctEnv) user(email, pw string, admin bool) *store.User {
	e.t.Helper()
	h, err := auth.HashPassword(pw)
	if err != nil {
		e.t.Fatal(err)
	}
	u := &store.User{Email: email, PasswordHash: h, Verified: true, IsActive: true, IsAdmin: admin}
	if err := e.st.CreateUser(context.Background(), u); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// layer creates a layer with a master layer branch maintained by emails.
func (e *acctEnv) layer(name, status string, maintainers ...string) *store.Layer {
	e.t.Helper()
	ctx := context.Background()
	master, err := e.st.BranchByName(ctx, "master")
	if err != nil {
		e.t.Fatal(err)
	}
	l := &store.Layer{Name: name, Status: status, LayerType: store.TypeSoftware, Summary: "Summary of " + name,
		Description: "About " + name + ".", VCSURL: e.repo}
	if err := e.st.CreateLayer(ctx, l); err != nil {
		e.t.Fatal(err)
	}
	lb := &store.LayerBranch{LayerID: l.ID, BranchID: master.ID, VCSSubdir: "meta-test", UpdatesEnabled: true}
	if err := e.st.CreateLayerBranch(ctx, lb); err != nil {
		e.t.Fatal(err)
	}
	var ms []store.LayerMaintainer
	for _, m := range maintainers {
		ms = append(ms, store.LayerMaintainer{Name: "M " + m, Email: m, Status: "A"})
	}
	if err := e.st.SetMaintainers(ctx, lb.ID, ms); err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *acctEnv) layerByName(name string) *store.Layer {
	e.t.Helper()
	l, err := e.st.LayerByName(context.Background(), name)
	if err != nil {
		e.t.Fatalf("layer %s: %v", name, err)
	}
	return l
}

func (e *acctEnv) count(table string) int64 {
	e.t.Helper()
	var n int64
	if err := e.conn.Gorm.Table(table).Count(&n).Error; err != nil {
		e.t.Fatal(err)
	}
	return n
}

// debugJobs logs the jobs and update logs, to explain a timeout.
func (e *acctEnv) debugJobs() {
	var jobs []struct {
		ID                int64
		Kind, State, Args string
		Errors            string
	}
	e.conn.Gorm.Raw("SELECT id, kind, state, CAST(args AS TEXT) AS args, COALESCE(CAST(errors AS TEXT), '') AS errors FROM river_job ORDER BY id").Scan(&jobs)
	for _, j := range jobs {
		e.t.Logf("job %d %s %s %s %s", j.ID, j.Kind, j.State, j.Args, j.Errors)
	}
	var ups []store.Update
	e.conn.Gorm.Order("id").Find(&ups)
	for _, u := range ups {
		e.t.Logf("update %d: %s\n%s", u.ID, u.Origin, u.Log)
	}
	var lus []store.LayerUpdate
	e.conn.Gorm.Order("id").Find(&lus)
	for _, lu := range lus {
		e.t.Logf("layer update %d layer %d: %s\n%s", lu.ID, lu.LayerID, lu.Status, lu.Log)
	}
}

// waitFor polls cond until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func mustPrefix(t testing.TB, s string) netip.Prefix {
	t.Helper()
	p, err := netip.ParsePrefix(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func itoa(n int) string     { return strconv.Itoa(n) }
func int64s(n int64) string { return strconv.FormatInt(n, 10) }

// layerRepo makes a git repository with one layer in meta-test/.
func layerRepo(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "meta-test.git")
	files := map[string]string{
		"meta-test/conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "test-layer"
BBFILE_PATTERN_test-layer = "^${LAYERDIR}/"
BBFILE_PRIORITY_test-layer = "6"
LAYERVERSION_test-layer = "1"
LAYERSERIES_COMPAT_test-layer = "walnascar"
LAYERDEPENDS_test-layer = "core"
`,
		"meta-test/recipes-example/hello/hello_1.0.bb": `SUMMARY = "Hello world"
LICENSE = "MIT"
`,
		"README.md": "A test layer.\n",
		// A minimal core layer: submitted layers are parsed on top of it.
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
		"meta/classes-global/base.bbclass": "# base\n",
	}
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
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

// httpGitServer serves a bare clone of the repository at dir over smart
// HTTP with git-http-backend, as a forge would, and returns its URL.
func httpGitServer(t testing.TB, dir string) string {
	t.Helper()
	backend := prereq.File(t, "/usr/lib/git-core/git-http-backend", "Debian's git package")
	root := t.TempDir()
	cmd := exec.Command("git", "clone", "-q", "--bare", dir, filepath.Join(root, "meta-test.git"))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git clone --bare: %v\n%s", err, out)
	}
	srv := httptest.NewServer(&cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + root, "GIT_HTTP_EXPORT_ALL=1"}})
	t.Cleanup(srv.Close)
	return srv.URL + "/meta-test.git"
}

// client is a browser without JavaScript: a cookie jar, no automatic
// redirects, and the CSRF token of the last page it fetched.
type client struct {
	t    testing.TB
	base string
	http *http.Client
	csrf string
	ip   string // X-Forwarded-For to send, if any
}

func (e *acctEnv) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: e.t, base: e.ts.URL, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

type resp struct {
	code     int
	body     string
	location string
	header   http.Header
}

func (c *client) do(req *http.Request) resp {
	c.t.Helper()
	if c.ip != "" {
		req.Header.Set("X-Forwarded-For", c.ip)
	}
	r, err := c.http.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	body := string(b)
	if m := csrfRe.FindStringSubmatch(body); m != nil {
		c.csrf = html.UnescapeString(m[1])
	}
	return resp{code: r.StatusCode, body: body, location: r.Header.Get("Location"), header: r.Header}
}

// cookie is the value of a cookie in the jar.
func (c *client) cookie(name string) string {
	u, _ := url.Parse(c.base)
	for _, ck := range c.http.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func (c *client) get(path string) resp {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, c.url(path), nil)
	return c.do(req)
}

func (c *client) url(path string) string {
	if strings.HasPrefix(path, "http") {
		return path
	}
	return c.base + path
}

// post sends a form with the client's CSRF token (fetch a page first).
func (c *client) post(path string, form url.Values) resp {
	c.t.Helper()
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	if f.Get("csrf_token") == "" && c.csrf != "" {
		f.Set("csrf_token", c.csrf)
	}
	return c.postRaw(path, f)
}

// postRaw sends a form as it is (no token added).
func (c *client) postRaw(path string, form url.Values) resp {
	c.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, c.url(path), strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

// login logs in and fails the test if it does not work.
func (c *client) login(email, pw string) {
	c.t.Helper()
	c.get("/accounts/login/")
	r := c.post("/accounts/login/", url.Values{"email": {email}, "password": {pw}})
	if r.code != http.StatusSeeOther {
		c.t.Fatalf("login as %s: %d\n%s", email, r.code, fieldErrors(r.body))
	}
}

var errRe = regexp.MustCompile(`class="(?:field-error|form-error)"[^>]*>([^<]*)<`)

// fieldErrors lists the error messages of a rendered form.
func fieldErrors(body string) []string {
	var out []string
	for _, m := range errRe.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

// layerForm is a valid submission of name.
func (e *acctEnv) layerForm(name string) url.Values {
	return url.Values{
		"name": {name}, "layer_type": {"S"}, "summary": {"A test layer"}, "description": {"It holds a hello recipe."},
		"vcs_url": {e.repoURL}, "vcs_subdir": {"meta-test"}, "vcs_web_url": {"https://github.com/example/" + name},
		"web_preset": {"github"}, "dep": {int64s(e.core.ID)},
		"m-0-name": {"Maintainer One"}, "m-0-email": {"one@example.org"}, "m-0-resp": {"everything"},
		"m-1-name": {"Maintainer Two"}, "m-1-email": {"Two@Example.org"},
	}
}

var challengeRe = regexp.MustCompile(`What is (\w+) plus (\w+)\?`)

// answer solves the anonymous submission question on the last page.
func answer(t testing.TB, body string) string {
	t.Helper()
	m := challengeRe.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no challenge question on the page")
	}
	n := 0
	for _, w := range m[1:] {
		for i, name := range []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"} {
			if w == name {
				n += i
			}
		}
	}
	return itoa(n)
}

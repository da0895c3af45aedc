package main

import (
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oauth2-proxy/mockoidc"

	"layerindex/internal/auth/ldaptest"
)

// The README's "Company index" sign-in configurations, run by the binary:
// each `layerindex serve` example is started as written, with the test's
// own provider, directory and address in place of the example's, and a
// person signs in through it.

// siteClient is a cookie-keeping HTTP client that does not follow redirects
// and sends the last page's CSRF token with its forms.
type siteClient struct {
	t    *testing.T
	base string
	c    *http.Client
	csrf string
}

func newSiteClient(t *testing.T, base string) *siteClient {
	jar, _ := cookiejar.New(nil)
	return &siteClient{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *siteClient) do(req *http.Request) (int, string, string) {
	b.t.Helper()
	r, err := b.c.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer r.Body.Close()
	body, _ := io.ReadAll(r.Body)
	if m := csrfTokenRe.FindSubmatch(body); m != nil {
		b.csrf = string(m[1])
	}
	return r.StatusCode, string(body), r.Header.Get("Location")
}

func (b *siteClient) get(u string) (int, string, string) {
	if strings.HasPrefix(u, "/") {
		u = b.base + u
	}
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	return b.do(req)
}

func (b *siteClient) post(path string, form url.Values) (int, string, string) {
	form.Set("csrf_token", b.csrf)
	req, _ := http.NewRequest(http.MethodPost, b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// serveExample starts the first README serve example that has marker, its
// flags' values replaced as given (every one must be in the example),
// with the data directory and listening address of the test.
func serveExample(t *testing.T, marker string, replace map[string]string, env []string) (base, dataDir string) {
	t.Helper()
	var ex []string
	for _, e := range examples(t, section(t, readme(t), "## Company index")) {
		if e[0] == "serve" && strings.Contains(strings.Join(e, " "), marker) && ex == nil {
			ex = e // the first: the closed site's comes before the sign-in methods'
		}
	}
	if ex == nil {
		t.Fatalf("the README has no serve example with %s: update this test", marker)
	}
	addr := freeAddr(t)
	replace["--base-url"] = "http://" + addr
	done := map[string]bool{}
	for i := 0; i+1 < len(ex); i++ {
		if v, ok := replace[ex[i]]; ok {
			ex[i+1], done[ex[i]] = v, true
		}
	}
	for f := range replace {
		if !done[f] {
			t.Fatalf("the README's serve example with %s has no %s: update this test", marker, f)
		}
	}
	dataDir = filepath.Join(t.TempDir(), "data")
	env = append(env, "LAYERINDEX_DATA_DIR="+dataDir, "LAYERINDEX_LISTEN="+addr)
	p := start(t, env, ex...)
	p.waitLog(`msg="layerindex is serving"`, 60*time.Second)
	return "http://" + addr, dataDir
}

// TestREADMEClosedSite: the closed site example keeps anonymous visitors
// out (pages to the login page, the API 401) but for /healthz, and lets an
// account made with `user create` in.
func TestREADMEClosedSite(t *testing.T) {
	base, dataDir := serveExample(t, "--closed-site --base-url", map[string]string{}, nil)
	b := newSiteClient(t, base)
	if code, _, loc := b.get("/"); code != http.StatusFound && code != http.StatusSeeOther || !strings.HasPrefix(loc, "/accounts/login/") {
		t.Fatalf("anonymous /: %d %s", code, loc)
	}
	if code, _, _ := b.get("/layerindex/api/layerItems/"); code != http.StatusUnauthorized {
		t.Errorf("anonymous API: %d", code)
	}
	if code, _, _ := b.get("/healthz"); code != http.StatusOK {
		t.Errorf("/healthz: %d", code)
	}
	dataEnv := []string{"LAYERINDEX_DATA_DIR=" + dataDir}
	if code, out, stderr := runCmd(t, dataEnv, "staff password 1\n", "user", "create", "--email", "staff@example.com"); code != 0 {
		t.Fatalf("user create: %d %s %s", code, out, stderr)
	}
	b.get("/accounts/login/")
	if code, _, _ := b.post("/accounts/login/", url.Values{"email": {"staff@example.com"}, "password": {"staff password 1"}}); code != http.StatusSeeOther {
		t.Fatalf("login: %d", code)
	}
	if code, _, _ := b.get("/"); code != http.StatusOK {
		t.Errorf("signed in /: %d", code)
	}
}

// TestREADMEOpenIDConnect: the OpenID Connect example, against a real
// provider (mockoidc) in place of the company's: the login page offers
// only the provider, and a member of the administrators' group signs in
// as an administrator.
func TestREADMEOpenIDConnect(t *testing.T) {
	text := section(t, readme(t), "## Company index")
	if !strings.Contains(text, "export LAYERINDEX_OIDC_CLIENT_SECRET=") {
		t.Fatal("the README no longer sets LAYERINDEX_OIDC_CLIENT_SECRET: update this test")
	}
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	base, _ := serveExample(t, "--oidc-issuer", map[string]string{"--oidc-issuer": m.Issuer(), "--oidc-client-id": m.ClientID},
		[]string{"LAYERINDEX_OIDC_CLIENT_SECRET=" + m.ClientSecret})
	b := newSiteClient(t, base)
	code, page, _ := b.get("/accounts/login/")
	if code != http.StatusOK || !strings.Contains(page, "Sign in with Example Corp SSO") || strings.Contains(page, `name="password"`) {
		t.Fatalf("login page: %d\n%s", code, page)
	}
	m.QueueUser(&mockoidc.MockUser{Subject: "sub-jane", Email: "jane@example.com", EmailVerified: true,
		PreferredUsername: "jane", Groups: []string{"staff", "layerindex-admins"}})
	code, _, authURL := b.get("/accounts/oidc/login/?next=/layerindex/review/")
	if code != http.StatusFound {
		t.Fatalf("sign-in link: %d", code)
	}
	code, _, callback := b.get(authURL)
	if code != http.StatusFound || !strings.HasPrefix(callback, base+"/accounts/oidc/callback/") {
		t.Fatalf("provider: %d %s", code, callback)
	}
	if code, _, loc := b.get(callback); code != http.StatusSeeOther || loc != "/layerindex/review/" {
		t.Fatalf("callback: %d %s", code, loc)
	}
	if code, _, _ := b.get("/layerindex/review/"); code != http.StatusOK {
		t.Errorf("the administrators' group member cannot review: %d", code)
	}
}

// TestREADMELDAP: the LDAP example, against a real OpenLDAP (ldaptest) in
// place of the company's directory, over StartTLS checked against its CA:
// a member of the administrators' group signs in by user name as an
// administrator; a wrong password is refused.
func TestREADMELDAP(t *testing.T) {
	text := section(t, readme(t), "## Company index")
	if !strings.Contains(text, "export LAYERINDEX_LDAP_BIND_PASSWORD=") {
		t.Fatal("the README no longer sets LAYERINDEX_LDAP_BIND_PASSWORD: update this test")
	}
	srv := ldaptest.Start(t)
	alice := srv.AddPerson("alice", "alice password", "alice@example.com", "Alice Liddell")
	admins := srv.AddGroup("layerindex-admins", alice)
	base, _ := serveExample(t, "--ldap-url", map[string]string{"--ldap-url": srv.URL, "--ldap-ca-file": srv.CAFile,
		"--ldap-bind-dn": ldaptest.ServiceDN, "--ldap-base-dn": ldaptest.PeopleDN, "--ldap-admin-group": admins},
		[]string{"LAYERINDEX_LDAP_BIND_PASSWORD=" + ldaptest.ServicePassword})
	b := newSiteClient(t, base)
	b.get("/accounts/login/")
	if code, _, _ := b.post("/accounts/login/", url.Values{"email": {"alice"}, "password": {"not her password"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("wrong password: %d", code)
	}
	if code, _, _ := b.post("/accounts/login/", url.Values{"email": {"alice"}, "password": {"alice password"}}); code != http.StatusSeeOther {
		t.Fatalf("alice: %d", code)
	}
	if code, _, _ := b.get("/layerindex/review/"); code != http.StatusOK {
		t.Errorf("the administrators' group member cannot review: %d", code)
	}
}

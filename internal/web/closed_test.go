package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// closedOpen are the routes a closed site answers to anonymous visitors
// (method and path as routes.go registers them).
var closedOpen = map[string]bool{
	"GET /healthz": true, "GET /readyz": true, "GET /static/*": true,
	"GET /accounts/login/": true, "POST /accounts/login/": true, "POST /accounts/logout/": true,
	"GET /accounts/password_reset/": true, "POST /accounts/password_reset/": true,
	"GET /accounts/reset/:token/": true, "POST /accounts/reset/:token/": true,
	"GET /accounts/verify/:token/": true, "POST /accounts/verify/:token/": true,
}

var routeParam = regexp.MustCompile(`:[a-z_]+`)

// TestClosedSite: on a closed site every route of the server, whatever its
// method, answers an anonymous request with a redirect to the login page
// (pages read with GET or HEAD) or 401 (the API, and requests that act),
// except the open ones; a signed-in user, or an API token, gets the pages
// and the API; registration and anonymous submission are gone.
func TestClosedSite(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{closed: true})
		e.layer("meta-secret", store.StatusPublished, "maint@example.org")
		anon := e.client()

		seen := 0
		for _, r := range e.srv.Routes() {
			if r.Method == http.MethodConnect || strings.HasPrefix(r.Method, "echo_") {
				continue
			}
			key := r.Method + " " + r.Path
			path := routeParam.ReplaceAllString(r.Path, "1")
			path = strings.ReplaceAll(path, "*", "css/site.css")
			req, _ := http.NewRequest(r.Method, anon.url(path), strings.NewReader("csrf_token=x"))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp := anon.do(req)
			seen++
			loginRedirect := (resp.code == http.StatusFound || resp.code == http.StatusSeeOther) &&
				strings.HasPrefix(resp.location, "/accounts/login/")
			if closedOpen[key] {
				if loginRedirect || resp.code == http.StatusUnauthorized {
					t.Errorf("%s is open on a closed site, but answered %d %s", key, resp.code, resp.location)
				}
				continue
			}
			switch {
			case strings.HasPrefix(r.Path, "/layerindex/api/"):
				if resp.code != http.StatusUnauthorized || (r.Method != http.MethodHead && !strings.Contains(resp.body, `"detail"`)) {
					t.Errorf("anonymous %s (%s): %d, want 401 with a JSON detail\n%.200s", key, path, resp.code, resp.body)
				}
			case r.Method == http.MethodGet || r.Method == http.MethodHead:
				if !loginRedirect {
					t.Errorf("anonymous %s (%s): %d %q, want a redirect to the login page", key, path, resp.code, resp.location)
				} else if next, _ := url.ParseQuery(strings.TrimPrefix(resp.location, "/accounts/login/?")); next.Get("next") != path {
					t.Errorf("anonymous %s: login redirect %q does not come back to %s", key, resp.location, path)
				}
			default:
				if resp.code != http.StatusUnauthorized {
					t.Errorf("anonymous %s (%s): %d, want 401", key, path, resp.code)
				}
			}
			if strings.Contains(resp.body, "meta-secret") {
				t.Errorf("anonymous %s shows the index", key)
			}
		}
		if seen < 60 {
			t.Fatalf("only %d routes checked", seen)
		}
		// Paths no route serves reveal nothing either.
		if r := anon.get("/layerindex/no-such-page/"); r.code != http.StatusSeeOther {
			t.Errorf("unknown path: %d", r.code)
		}
		// The login page does not offer registration; static files and
		// health checks work.
		if r := anon.get("/accounts/login/"); r.code != http.StatusOK || strings.Contains(r.body, "/accounts/register/") ||
			strings.Contains(r.body, "/layerindex/submit/") {
			t.Errorf("login page on a closed site: %d, offers registration or submission", r.code)
		}
		for _, p := range []string{"/static/css/site.css", "/healthz", "/readyz"} {
			if r := anon.get(p); r.code != http.StatusOK {
				t.Errorf("%s: %d", p, r.code)
			}
		}
		// A CORS preflight passes (browsers send it without credentials).
		req, _ := http.NewRequest(http.MethodOptions, anon.url("/layerindex/api/layerItems/"), nil)
		req.Header.Set("Origin", "https://elsewhere.example")
		req.Header.Set("Access-Control-Request-Method", "GET")
		if r := anon.do(req); r.code != http.StatusNoContent || strings.Contains(r.body, "meta-secret") {
			t.Errorf("preflight: %d %s", r.code, r.body)
		}

		// Signed in, everything is there, the API included.
		user := e.client()
		e.user("reader@example.org", "reader password 1", false)
		user.login("reader@example.org", "reader password 1")
		for _, p := range []string{"/layerindex/branch/master/layers/", "/layerindex/layer/meta-secret/", "/layerindex/api/layerItems/"} {
			r := user.get(p)
			for r.code == http.StatusFound || r.code == http.StatusMovedPermanently {
				r = user.get(r.location)
			}
			if r.code != http.StatusOK || !strings.Contains(r.body, "meta-secret") {
				t.Errorf("signed in, %s: %d", p, r.code)
			}
		}
		// Signed-in users submit; nobody submits anonymously.
		if r := user.get("/layerindex/submit/"); r.code != http.StatusOK {
			t.Errorf("signed-in submission page: %d", r.code)
		}
		if r := anon.postRaw("/layerindex/submit/", e.layerForm("meta-anon")); r.code != http.StatusUnauthorized {
			t.Errorf("anonymous submission: %d", r.code)
		}

		// An API token opens the API to a client without a session.
		u, err := e.st.UserByEmail(context.Background(), "reader@example.org")
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := e.st.CreateAPIToken(context.Background(), u.ID, "ci")
		if err != nil {
			t.Fatal(err)
		}
		for tok, want := range map[string]int{token: http.StatusOK, token + "x": http.StatusUnauthorized, "lit_nope": http.StatusUnauthorized} {
			c := e.client()
			req, _ := http.NewRequest(http.MethodGet, c.url("/layerindex/api/layerItems/?format=json"), nil)
			req.Header.Set("Authorization", "Token "+tok)
			if r := c.do(req); r.code != want || (want == http.StatusOK) != strings.Contains(r.body, "meta-secret") {
				t.Errorf("API with token %.8s…: %d, want %d", tok, r.code, want)
			}
		}
		// A token opens only the API, not the pages.
		c := e.client()
		req, _ = http.NewRequest(http.MethodGet, c.url("/layerindex/branch/master/layers/"), nil)
		req.Header.Set("Authorization", "Token "+token)
		if r := c.do(req); r.code != http.StatusSeeOther {
			t.Errorf("a page with an API token: %d", r.code)
		}
	})
}

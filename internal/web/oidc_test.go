package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/oauth2-proxy/mockoidc"

	"layerindex/internal/auth"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// idp is a real OpenID provider (mockoidc: discovery, authorization with
// PKCE, token endpoint, JWKS, RS256-signed ID tokens) on loopback, with a
// switch that corrupts the signature of the ID tokens it hands out.
type idp struct {
	*mockoidc.MockOIDC
	forge atomic.Bool
}

func startIdP(t *testing.T) *idp {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	p := &idp{MockOIDC: m}
	m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !p.forge.Load() || r.URL.Path != mockoidc.TokenEndpoint {
				next.ServeHTTP(w, r)
				return
			}
			rec := httptest.NewRecorder()
			next.ServeHTTP(rec, r)
			var body map[string]any
			if json.Unmarshal(rec.Body.Bytes(), &body) == nil {
				if tok, ok := body["id_token"].(string); ok {
					// Same header and signature, another person in the payload.
					parts := strings.Split(tok, ".")
					payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
					payload = bytes.Replace(payload, []byte("@example.org"), []byte("@example.net"), 1)
					parts[1] = base64.RawURLEncoding.EncodeToString(payload)
					body["id_token"] = strings.Join(parts, ".")
				}
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(rec.Code)
			json.NewEncoder(w).Encode(body)
		})
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Shutdown() })
	return p
}

func (p *idp) config(adminGroup string) *auth.OIDCConfig {
	c := &auth.OIDCConfig{Issuer: p.Issuer(), ClientID: p.ClientID, ClientSecret: p.ClientSecret,
		Scopes: []string{"email", "profile", "groups"}}
	if adminGroup != "" {
		c.AdminClaim, c.AdminValue = "groups", adminGroup
	}
	return c
}

// person is an account at the identity provider.
func person(email string, verified bool, groups ...string) *mockoidc.MockUser {
	return &mockoidc.MockUser{Subject: "sub-" + email, Email: email, EmailVerified: verified,
		PreferredUsername: strings.Split(email, "@")[0], Groups: groups}
}

// tampered is a person whose ID token the provider issues with changed
// registered claims (audience, expiry).
type tampered struct {
	*mockoidc.MockUser
	change func(*jwt.RegisteredClaims)
}

func (u tampered) Claims(scope []string, c *mockoidc.IDTokenClaims) (jwt.Claims, error) {
	u.change(c.RegisteredClaims)
	return u.MockUser.Claims(scope, c)
}

// ssoStart follows the site's sign-in link to the provider, and the
// provider's answer, up to the redirect back to the site's callback,
// which it returns.
func ssoStart(t *testing.T, c *client, next string) (authURL, callback string) {
	t.Helper()
	r := c.get("/accounts/oidc/login/?next=" + url.QueryEscape(next))
	if r.code != http.StatusFound {
		t.Fatalf("sign-in link: %d %s", r.code, r.body)
	}
	authURL = r.location
	q := mustURL(t, authURL).Query()
	if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		t.Fatalf("authorization request without PKCE, nonce or state: %s", authURL)
	}
	r = c.get(authURL)
	if r.code != http.StatusFound || !strings.HasPrefix(r.location, c.base+"/accounts/oidc/callback/") {
		t.Fatalf("provider's answer: %d %s %s", r.code, r.location, r.body)
	}
	return authURL, r.location
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

var profileEmailRe = regexp.MustCompile(`<dt>Email</dt><dd>([^ <]+)`)

// signedInAs is the email the profile page shows, or "" when anonymous.
func signedInAs(c *client) string {
	r := c.get("/accounts/profile/")
	if r.code != http.StatusOK {
		return ""
	}
	m := profileEmailRe.FindStringSubmatch(r.body)
	if m == nil {
		return "?"
	}
	return m[1]
}

// TestOIDCSignIn drives the authorization code flow through real HTTP
// redirects between a cookie-jar client, the site and a real OpenID
// provider: sign-in creates or links the account by the verified email,
// maps a group to administrator, and refuses a wrong state, a replayed
// callback, a wrong nonce, an unverified email, a token for another
// audience, an expired token and a token whose signature does not match.
func TestOIDCSignIn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		p := startIdP(t)
		e := newAcctEnv(t, d, envOpts{oidc: p.config("index-admins")})
		layer := e.layer("meta-sso", store.StatusPublished, "maint@example.org")
		// A maintainer who already has a local account.
		e.user("Maint@Example.org", "maintainer pw 1", false)

		// A new person from the admin group: an administrator account is
		// made, and the sign-in comes back to the page asked for.
		c := e.client()
		p.QueueUser(person("jane@example.org", true, "engineering", "index-admins"))
		_, cb := ssoStart(t, c, "/layerindex/review/")
		if r := c.get(cb); r.code != http.StatusSeeOther || r.location != "/layerindex/review/" {
			t.Fatalf("callback: %d %q %s", r.code, r.location, r.body)
		}
		if r := c.get("/layerindex/review/"); r.code != http.StatusOK {
			t.Errorf("the administrator from the group cannot review: %d", r.code)
		}
		jane, err := e.st.UserByEmail(ctx, "jane@example.org")
		if err != nil || !jane.IsAdmin || !jane.Verified || !jane.IsActive || jane.PasswordHash != "" {
			t.Fatalf("account made by sign-in: %+v %v", jane, err)
		}
		// Out of the group at the next sign-in: no longer administrator.
		c = e.client()
		p.QueueUser(person("jane@example.org", true, "engineering"))
		_, cb = ssoStart(t, c, "")
		c.get(cb)
		if jane, _ = e.st.UserByEmail(ctx, "jane@example.org"); jane.IsAdmin {
			t.Error("the administrator flag stayed after leaving the group")
		}

		// The maintainer's address links to their existing account, so
		// they keep managing their layer.
		users := e.count("users")
		c = e.client()
		p.QueueUser(person("maint@example.org", true))
		_, cb = ssoStart(t, c, "")
		if r := c.get(cb); r.code != http.StatusSeeOther {
			t.Fatalf("maintainer callback: %d %s", r.code, r.body)
		}
		if n := e.count("users"); n != users {
			t.Errorf("signing in made a second account for the maintainer (%d users, was %d)", n, users)
		}
		if r := c.get("/layerindex/layer/" + layer.Name + "/manage/"); r.code != http.StatusOK {
			t.Errorf("the maintainer signed in by the provider cannot manage the layer: %d", r.code)
		}

		refused := func(name, cb, want string) {
			t.Helper()
			c := e.client()
			c.get("/accounts/oidc/login/") // any session of its own
			r := c.get(cb)
			if r.code != http.StatusForbidden || !strings.Contains(r.body, want) {
				t.Errorf("%s: %d, want 403 with %q\n%.600s", name, r.code, want, r.body)
			}
			if who := signedInAs(c); who != "" {
				t.Errorf("%s: signed in as %s", name, who)
			}
		}
		refusedSame := func(name string, c *client, cb, want string) {
			t.Helper()
			r := c.get(cb)
			if r.code != http.StatusForbidden || !strings.Contains(r.body, want) {
				t.Errorf("%s: %d, want 403 with %q\n%.600s", name, r.code, want, r.body)
			}
			if who := signedInAs(c); who != "" {
				t.Errorf("%s: signed in as %s", name, who)
			}
		}

		// Wrong state: a callback from another browser's sign-in (login CSRF).
		_, cb = ssoStart(t, e.client(), "")
		refused("another browser's callback", cb, "state mismatch")
		c = e.client()
		_, cb = ssoStart(t, c, "")
		u := mustURL(t, cb)
		q := u.Query()
		q.Set("state", q.Get("state")+"x")
		u.RawQuery = q.Encode()
		refusedSame("altered state", c, u.String(), "state mismatch")

		// A replayed callback: the code and state work once.
		c = e.client()
		p.QueueUser(person("replay@example.org", true))
		_, cb = ssoStart(t, c, "")
		if r := c.get(cb); r.code != http.StatusSeeOther {
			t.Fatalf("first use of the callback: %d", r.code)
		}
		c.get("/accounts/profile/")
		if r := c.post("/accounts/logout/", nil); r.code != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.code)
		}
		refusedSame("replayed callback", c, cb, "state mismatch")

		// A code the provider issued for another nonce (an ID token
		// injected from another sign-in).
		c = e.client()
		authURL, _ := ssoStart(t, c, "")
		u = mustURL(t, authURL)
		q = u.Query()
		q.Set("nonce", "not-the-nonce-sent")
		u.RawQuery = q.Encode()
		r := c.get(u.String())
		refusedSame("wrong nonce", c, r.location, "nonce mismatch")

		// An address the provider has not verified.
		c = e.client()
		p.QueueUser(person("unverified@example.org", false))
		_, cb = ssoStart(t, c, "")
		refusedSame("unverified email", c, cb, "has not verified the address unverified@example.org")

		// An ID token for another client (audience).
		c = e.client()
		p.QueueUser(tampered{person("aud@example.org", true), func(rc *jwt.RegisteredClaims) { rc.Audience = jwt.ClaimStrings{"another-client"} }})
		_, cb = ssoStart(t, c, "")
		refusedSame("wrong audience", c, cb, "ID token is not valid")

		// An expired ID token.
		c = e.client()
		p.QueueUser(tampered{person("old@example.org", true), func(rc *jwt.RegisteredClaims) {
			rc.IssuedAt = jwt.NewNumericDate(time.Now().Add(-2 * time.Hour))
			rc.NotBefore = rc.IssuedAt
			rc.ExpiresAt = jwt.NewNumericDate(time.Now().Add(-time.Hour))
		}})
		_, cb = ssoStart(t, c, "")
		refusedSame("expired ID token", c, cb, "expired")

		// An ID token whose payload does not match its signature.
		c = e.client()
		p.QueueUser(person("forged@example.org", true))
		_, cb = ssoStart(t, c, "")
		p.forge.Store(true)
		refusedSame("forged ID token", c, cb, "ID token is not valid")
		p.forge.Store(false)

		for _, who := range []string{"unverified@example.org", "aud@example.org", "old@example.org", "forged@example.org", "forged@example.net"} {
			if _, err := e.st.UserByEmail(ctx, who); err == nil {
				t.Errorf("a refused sign-in made an account for %s", who)
			}
		}
	})
}

// TestOIDCOnlyClosedSite: a closed site whose only sign-in is the provider:
// an anonymous visitor is sent to log in, signs in with the provider and
// comes back to the page; passwords, registration and reset are gone.
func TestOIDCOnlyClosedSite(t *testing.T) {
	p := startIdP(t)
	e := newAcctEnv(t, db.SQLite, envOpts{oidc: p.config(""), closed: true, noPasswords: true})
	e.layer("meta-inside", store.StatusPublished)
	c := e.client()
	r := c.get("/layerindex/branch/master/layers/")
	if r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, "/accounts/login/") {
		t.Fatalf("anonymous page: %d %s", r.code, r.location)
	}
	r = c.get(r.location)
	if r.code != http.StatusOK || !strings.Contains(r.body, "Sign in with Example SSO") || strings.Contains(r.body, `name="password"`) ||
		strings.Contains(r.body, "/accounts/register/") {
		t.Fatalf("login page of an SSO-only site: %d\n%s", r.code, r.body)
	}
	p.QueueUser(person("emp@example.org", true))
	_, cb := ssoStart(t, c, "/layerindex/branch/master/layers/")
	if r := c.get(cb); r.code != http.StatusSeeOther || r.location != "/layerindex/branch/master/layers/" {
		t.Fatalf("callback: %d %s", r.code, r.location)
	}
	if r := c.get("/layerindex/branch/master/layers/"); r.code != http.StatusOK || !strings.Contains(r.body, "meta-inside") {
		t.Errorf("signed in by the provider: %d", r.code)
	}
	// The administrator's password no longer opens the site, even with
	// a form token taken from a signed-in page.
	a := e.client()
	a.get("/accounts/login/")
	a.csrf = c.csrf
	a.http.Jar.SetCookies(mustURL(t, a.base), []*http.Cookie{{Name: "session", Value: c.cookie("session")}})
	if r := a.post("/accounts/login/", url.Values{"email": {"admin@example.org"}, "password": {adminPassword}}); r.code != http.StatusForbidden ||
		!strings.Contains(r.body, "Password sign-in is turned off") {
		t.Errorf("password login on an SSO-only site: %d", r.code)
	}
	if who := signedInAs(a); who != "emp@example.org" {
		t.Errorf("after a refused password login the session is %q", who)
	}
	for _, path := range []string{"/accounts/register/", "/accounts/password_reset/"} {
		if r := c.get(path); r.code != http.StatusNotFound {
			t.Errorf("%s on an SSO-only site: %d", path, r.code)
		}
	}
}

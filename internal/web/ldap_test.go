package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"layerindex/internal/auth"
	"layerindex/internal/auth/ldaptest"
	"layerindex/internal/db"
	"layerindex/internal/store"
)

// TestLDAPLogin signs in through the login form against a real OpenLDAP
// server (StartTLS): by user name, the account linked by the directory's
// address (a maintainer keeps their layer), the administrators' group, the
// same lockout as local logins, injection attempts, and a directory that
// is down (a clear message, at once, not counted as a failure).
func TestLDAPLogin(t *testing.T) {
	ctx := context.Background()
	srv := ldaptest.Start(t)
	alice := srv.AddPerson("alice", "alice password", "alice@example.org", "Alice Liddell")
	srv.AddPerson("maint", "maint password", "Maint@Example.org", "Maintainer")
	srv.AddPerson("eve", "eve password", "eve@example.org", "Eve")
	admins := srv.AddGroup("index-admins", alice)
	limits := auth.DefaultLimits
	e := newAcctEnv(t, db.SQLite, envOpts{limits: &limits, closed: true, noPasswords: true, ldap: &auth.LDAPConfig{
		URL: srv.URL, StartTLS: true, CAFile: srv.CAFile, BindDN: ldaptest.ServiceDN, BindPassword: ldaptest.ServicePassword,
		BaseDN: ldaptest.PeopleDN, AdminGroup: admins, Timeout: 2 * time.Second}})
	l := e.layer("meta-dir", store.StatusPublished, "maint@example.org")
	e.user("maint@example.org", "a local password", false)

	login := func(c *client, user, pw string) resp {
		t.Helper()
		if r := c.get("/accounts/login/?next=/layerindex/review/"); r.code != http.StatusOK || !strings.Contains(r.body, "User name or email") {
			t.Fatalf("login page: %d", r.code)
		}
		return c.post("/accounts/login/", url.Values{"email": {user}, "password": {pw}, "next": {"/layerindex/review/"}})
	}

	// Alice, in the administrators' group, signs in by user name.
	c := e.client()
	if r := login(c, "alice", "alice password"); r.code != http.StatusSeeOther || r.location != "/layerindex/review/" {
		t.Fatalf("alice: %d %s %v", r.code, r.location, fieldErrors(r.body))
	}
	if r := c.get("/layerindex/review/"); r.code != http.StatusOK {
		t.Errorf("alice is not an administrator: %d", r.code)
	}
	if u, err := e.st.UserByEmail(ctx, "alice@example.org"); err != nil || !u.IsAdmin || u.Name != "Alice Liddell" || u.PasswordHash != "" {
		t.Errorf("alice's account: %+v %v", u, err)
	}

	// The maintainer's directory address links to their account; the
	// site's own password does not work (local passwords are off).
	m := e.client()
	if r := login(m, "maint@example.org", "a local password"); r.code != http.StatusUnprocessableEntity {
		t.Errorf("local password with local passwords off: %d", r.code)
	}
	if r := login(m, "maint", "maint password"); r.code != http.StatusSeeOther {
		t.Fatalf("maint: %d %v", r.code, fieldErrors(r.body))
	}
	if r := m.get("/layerindex/layer/" + l.Name + "/manage/"); r.code != http.StatusOK {
		t.Errorf("the maintainer signed in by LDAP cannot manage the layer: %d", r.code)
	}
	if r := m.get("/layerindex/review/"); r.code != http.StatusForbidden {
		t.Errorf("a person outside the group reviews: %d", r.code)
	}

	// Injection attempts sign nobody in.
	for _, user := range []string{"*", "ali*", "alice)(uid=*", "*)(|(uid=*", "alice))(|(objectClass=*"} {
		c := e.client()
		if r := login(c, user, "alice password"); r.code != http.StatusUnprocessableEntity || signedInAs(c) != "" {
			t.Errorf("user name %q: %d", user, r.code)
		}
	}

	// Eve guesses: after 5 failures her account is locked out, the right
	// password included, with the local login's message.
	ev := e.client()
	for i := 0; i < 5; i++ {
		if r := login(ev, "eve", "guess "+itoa(i)); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "invalid email or password") {
			t.Fatalf("guess %d: %d %v", i, r.code, fieldErrors(r.body))
		}
	}
	if r := login(ev, "eve", "eve password"); r.code != http.StatusTooManyRequests || signedInAs(ev) != "" {
		t.Errorf("locked-out account: %d", r.code)
	}

	// The directory down: a clear message at once, nobody signed in.
	srv.Stop()
	c = e.client()
	start := time.Now()
	r := login(c, "alice", "alice password")
	if r.code != http.StatusServiceUnavailable || !strings.Contains(r.body, "does not answer") {
		t.Errorf("directory down: %d %v", r.code, fieldErrors(r.body))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("directory down: answered after %v", d)
	}
}

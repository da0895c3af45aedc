package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"layerindex/internal/auth"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/mail/mailtest"
)

// TestRateLimitsByClientAddress: behind a trusted proxy the limits key on
// the X-Forwarded-For address, so one client's submissions and
// registrations run out while another's do not; a client that is not a
// trusted proxy cannot pick its address with the header.
func TestRateLimitsByClientAddress(t *testing.T) {
	lim := auth.DefaultLimits
	lim.SubmitPerIP = auth.Limit{Bucket: "submit-ip", Max: 2, Window: time.Hour}
	lim.RegisterPerIP = auth.Limit{Bucket: "register-ip", Max: 1, Window: time.Hour}
	lim.SubmitPerAccount = auth.Limit{Bucket: "submit-account", Max: 1, Window: time.Hour}
	lim.RegisterPerAccount = auth.Limit{Bucket: "register-account", Max: 2, Window: time.Hour}

	e := newAcctEnv(t, db.SQLite, envOpts{limits: &lim, proxies: []string{"127.0.0.1/32"}})
	submit := func(c *client, name string) resp {
		t.Helper()
		r := c.get("/layerindex/submit/")
		f := e.layerForm(name)
		if challengeRe.MatchString(r.body) {
			f.Set("challenge", answer(t, r.body))
		}
		return c.post("/layerindex/submit/", f)
	}
	a, b := e.client(), e.client()
	a.ip, b.ip = "203.0.113.7", "198.51.100.9"
	for i, name := range []string{"meta-a1", "meta-a2"} {
		if r := submit(a, name); r.code != http.StatusSeeOther {
			t.Fatalf("submission %d from a: %d %v", i, r.code, fieldErrors(r.body))
		}
	}
	r := submit(a, "meta-a3")
	if r.code != http.StatusTooManyRequests || !strings.Contains(r.body, "Too many attempts") {
		t.Fatalf("third submission from a: %d %v", r.code, fieldErrors(r.body))
	}
	if !strings.Contains(r.body, `value="meta-a3"`) {
		t.Error("the refused submission lost its input")
	}
	if r := submit(b, "meta-b1"); r.code != http.StatusSeeOther {
		t.Fatalf("a submission from another address: %d", r.code)
	}

	// Signed-in submissions are limited per account.
	e.user("sam@example.org", "sam password", false)
	sam := e.client()
	sam.ip = "192.0.2.44"
	sam.login("sam@example.org", "sam password")
	if r := submit(sam, "meta-s1"); r.code != http.StatusSeeOther {
		t.Fatalf("sam's first submission: %d", r.code)
	}
	if r := submit(sam, "meta-s2"); r.code != http.StatusTooManyRequests {
		t.Fatalf("sam's second submission: %d, want 429", r.code)
	}

	reg := func(c *client, email string) int {
		c.get("/accounts/register/")
		return c.post("/accounts/register/", url.Values{"email": {email}, "password": {"long enough"}, "password2": {"long enough"}}).code
	}
	if code := reg(a, "r1@example.org"); code != 200 {
		t.Fatalf("registration: %d", code)
	}
	if code := reg(a, "r2@example.org"); code != http.StatusTooManyRequests {
		t.Fatalf("second registration from the address: %d", code)
	}
	if code := reg(b, "r3@example.org"); code != 200 {
		t.Fatalf("registration from another address: %d", code)
	}
	// One email address gets at most a few mails an hour, from anywhere.
	for i, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		c := e.client()
		c.ip = ip
		want := 200
		if i == 2 {
			want = http.StatusTooManyRequests
		}
		if code := reg(c, "victim@example.org"); code != want {
			t.Fatalf("registration %d of one address: %d, want %d", i, code, want)
		}
	}
}

// TestForwardedForIgnoredWithoutProxy: without configured proxies the
// header is ignored: changing it does not escape a limit.
func TestForwardedForIgnoredWithoutProxy(t *testing.T) {
	lim := auth.DefaultLimits
	lim.RegisterPerIP = auth.Limit{Bucket: "register-ip", Max: 1, Window: time.Hour}
	e := newAcctEnv(t, db.SQLite, envOpts{limits: &lim})
	c := e.client()
	for i, ip := range []string{"203.0.113.1", "203.0.113.2"} {
		c.ip = ip
		c.get("/accounts/register/")
		r := c.post("/accounts/register/", url.Values{"email": {"x" + itoa(i) + "@example.org"}, "password": {"long enough"}, "password2": {"long enough"}})
		want := 200
		if i == 1 {
			want = http.StatusTooManyRequests
		}
		if r.code != want {
			t.Fatalf("registration %d with X-Forwarded-For %s: %d, want %d", i, ip, r.code, want)
		}
	}
}

// TestLoginLockoutSparesSignedInUser: someone hammering an account's
// password login locks that door, but the account's owner, signed in
// already, can still change the email address (and password) with the
// right password; wrong passwords in those forms are limited on their own
// (per account, 5 in 15 minutes: then even the right one waits, with 429),
// and they do not lock the owner out of password login.
func TestLoginLockoutSparesSignedInUser(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		e.user("dee@example.org", "dee password 1", false)
		dee := e.client()
		dee.login("dee@example.org", "dee password 1")

		attacker := e.client()
		attacker.get("/accounts/login/")
		for i := 0; i < 6; i++ {
			attacker.post("/accounts/login/", url.Values{"email": {"dee@example.org"}, "password": {"guess " + itoa(i)}})
		}
		owner := e.client()
		owner.get("/accounts/login/")
		if r := owner.post("/accounts/login/", url.Values{"email": {"dee@example.org"}, "password": {"dee password 1"}}); r.code != http.StatusTooManyRequests {
			t.Fatalf("password login after the attack: %d, want 429", r.code)
		}

		dee.get("/accounts/email/")
		r := dee.post("/accounts/email/", url.Values{"email": {"dee@new.example.org"}, "current": {"dee password 1"}})
		if r.code != http.StatusSeeOther {
			t.Fatalf("email change by the signed-in owner during the lockout: %d %v", r.code, fieldErrors(r.body))
		}
		e.sink.Wait(t, mailWait, "to the new address", mailtest.To("dee@new.example.org", "Confirm your new email"))
		dee.get("/accounts/password_change/")
		if r := dee.post("/accounts/password_change/", url.Values{"current": {"dee password 1"}, "password": {"dee password 2"}, "password2": {"dee password 2"}}); r.code != http.StatusSeeOther {
			t.Fatalf("password change by the signed-in owner during the lockout: %d %v", r.code, fieldErrors(r.body))
		}

		// A stolen session guessing the password through the form.
		dee.get("/accounts/email/")
		for i := 0; i < 5; i++ {
			r := dee.post("/accounts/email/", url.Values{"email": {"thief@example.org"}, "current": {"guess " + itoa(i)}})
			if r.code != http.StatusUnprocessableEntity || errorFor(r.body, "current") != "This is not your current password." {
				t.Fatalf("wrong password %d: %d %v", i, r.code, fieldErrors(r.body))
			}
		}
		r = dee.post("/accounts/email/", url.Values{"email": {"thief@example.org"}, "current": {"dee password 2"}})
		if r.code != http.StatusTooManyRequests || !strings.Contains(errorFor(r.body, "current"), "Too many attempts") {
			t.Fatalf("sixth try in the email form: %d %v, want 429", r.code, fieldErrors(r.body))
		}
		dee.get("/accounts/delete/")
		if r := dee.post("/accounts/delete/", url.Values{"current": {"dee password 2"}}); r.code != http.StatusTooManyRequests {
			t.Fatalf("account deletion while the forms are limited: %d, want 429", r.code)
		}
		if _, err := e.st.UserByEmail(t.Context(), "dee@example.org"); err != nil {
			t.Fatal("the account is gone")
		}
		// Guesses in the forms do not lock the owner out of password login
		// (another account, whose login nobody attacked).
		e.user("eve@example.org", "eve password 1", false)
		eve := e.client()
		eve.login("eve@example.org", "eve password 1")
		eve.get("/accounts/email/")
		for i := 0; i < 6; i++ {
			eve.post("/accounts/email/", url.Values{"email": {"x@example.org"}, "current": {"guess " + itoa(i)}})
		}
		e.client().login("eve@example.org", "eve password 1")
	})
}

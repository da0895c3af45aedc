package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/mail/mailtest"
	"layerindex/internal/store"
)

const mailWait = 20 * time.Second

func sessionCookie(r resp) *http.Cookie {
	for _, c := range (&http.Response{Header: r.header}).Cookies() {
		if c.Name == "session" {
			return c
		}
	}
	return nil
}

// TestRegisterVerifyLogin: register → verification mail → confirm → log
// in, with the session rotated and its cookie locked down; registering a
// taken address answers the same and mails its owner instead.
func TestRegisterVerifyLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		c := e.client()
		r := c.get("/accounts/register/")
		if r.code != 200 || c.csrf == "" {
			t.Fatalf("register page: %d, token %q", r.code, c.csrf)
		}
		if ck := sessionCookie(r); ck == nil || ck.MaxAge > 24*3600+1 || ck.MaxAge < 23*3600 {
			t.Errorf("a visitor's form session: %+v, want one day", ck)
		}
		if r := e.client().get("/"); sessionCookie(r) != nil {
			t.Error("a page without a form set a session cookie")
		}
		r = c.post("/accounts/register/", url.Values{"email": {"ann@example.org"}, "name": {"Ann"},
			"password": {"correct horse"}, "password2": {"correct horse"}})
		if r.code != 200 || !strings.Contains(r.body, "Check your email") {
			t.Fatalf("register: %d %v", r.code, fieldErrors(r.body))
		}
		m := e.sink.Wait(t, mailWait, "to confirm ann's address", mailtest.To("ann@example.org", "Confirm your email address"))
		link := mailtest.Link(m.Body, e.ts.URL+"/accounts/verify/")
		if link == "" {
			t.Fatalf("no verification link in:\n%s", m.Body)
		}
		u, err := e.st.UserByEmail(context.Background(), "ann@example.org")
		if err != nil || u.Verified || u.Name != "Ann" {
			t.Fatalf("new account: %+v %v", u, err)
		}
		var tok store.UserToken
		e.conn.Gorm.Where("user_id = ?", u.ID).Take(&tok)
		if strings.Contains(link, tok.TokenHash) || len(tok.TokenHash) != 64 {
			t.Errorf("the token is stored as it was mailed: %q", tok.TokenHash)
		}

		// Not verified yet: the right password gets a new link, no session.
		c.get("/accounts/login/")
		r = c.post("/accounts/login/", url.Values{"email": {"ann@example.org"}, "password": {"correct horse"}})
		if r.code != http.StatusForbidden || !strings.Contains(r.body, "Confirm your email address first") {
			t.Fatalf("login before confirming: %d", r.code)
		}
		waitFor(t, "a second confirmation mail", func() bool {
			n := 0
			for _, m := range e.sink.Messages() {
				if mailtest.To("ann@example.org", "Confirm your email")(m) {
					n++
				}
			}
			return n == 2
		})

		if r := c.get(link); r.code != 200 || !strings.Contains(r.body, "Confirm ann@example.org") {
			t.Fatalf("confirmation page: %d", r.code)
		}
		if u, _ := e.st.UserByID(context.Background(), u.ID); u.Verified {
			t.Fatal("GET of the link verified the account (mail scanners follow links)")
		}
		if r := c.post(link, nil); r.code != 200 || !strings.Contains(r.body, "is confirmed") {
			t.Fatalf("confirming: %d", r.code)
		}
		if r := c.post(link, nil); r.code != http.StatusNotFound {
			t.Fatalf("a used link: %d, want 404", r.code)
		}

		c.get("/accounts/login/")
		anon := c.cookie("session")
		r = c.post("/accounts/login/", url.Values{"email": {"ANN@example.org"}, "password": {"correct horse"}, "next": {"/layerindex/submit/"}})
		if r.code != http.StatusSeeOther || r.location != "/layerindex/submit/" {
			t.Fatalf("login: %d → %q %v", r.code, r.location, fieldErrors(r.body))
		}
		ck := sessionCookie(r)
		if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || ck.MaxAge < 13*24*3600 {
			t.Fatalf("session cookie %+v", ck)
		}
		if anon == "" || anon == ck.Value {
			t.Errorf("the session token was not rotated at login")
		}
		if r := c.get("/accounts/profile/"); r.code != 200 || !strings.Contains(r.body, "ann@example.org") {
			t.Fatalf("profile: %d", r.code)
		}
		var stored store.Session
		if err := e.conn.Gorm.Where("user_id = ?", u.ID).Take(&stored).Error; err != nil || stored.Token == ck.Value {
			t.Errorf("session row: %v; the token must be stored hashed", err)
		}
		// An open redirect is refused.
		c2 := e.client()
		c2.get("/accounts/login/")
		if r := c2.post("/accounts/login/", url.Values{"email": {"ann@example.org"}, "password": {"correct horse"}, "next": {"//evil.example/"}}); r.location != "/accounts/profile/" {
			t.Errorf("next=//evil.example/ redirected to %q", r.location)
		}

		// Registering the address again: the same answer, a mail to Ann.
		c3 := e.client()
		c3.get("/accounts/register/")
		r = c3.post("/accounts/register/", url.Values{"email": {"Ann@Example.org"}, "password": {"another pw 123"}, "password2": {"another pw 123"}})
		if r.code != 200 || !strings.Contains(r.body, "Check your email") {
			t.Fatalf("second registration: %d", r.code)
		}
		e.sink.Wait(t, mailWait, "about the second registration", mailtest.To("Ann@Example.org", "Registration attempt"))
		if n := e.count("users"); n != 2 {
			t.Errorf("%d accounts, want 2 (admin, Ann)", n)
		}

		// Log out: a POST; the session is gone.
		r = c.post("/accounts/logout/", nil)
		if r.code != http.StatusSeeOther {
			t.Fatalf("logout: %d", r.code)
		}
		if r := c.get("/accounts/profile/"); r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, "/accounts/login/") {
			t.Fatalf("profile after logout: %d %q", r.code, r.location)
		}
		if r := c.get("/accounts/logout/"); r.code != http.StatusMethodNotAllowed && r.code != http.StatusNotFound {
			t.Errorf("GET logout: %d", r.code)
		}
	})
}

// TestPasswordResetAndLockout: five failed logins lock an account out with
// a message that is the same for an address without an account; a reset
// link (single use, stored hashed) sets a new password, ends the account's
// sessions and lifts the lockout.
func TestPasswordResetAndLockout(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		e.user("bob@example.org", "bob password 1", false)
		other := e.client()
		other.login("bob@example.org", "bob password 1")

		lockout := func(email string) []string {
			c := e.client()
			c.get("/accounts/login/")
			for i := 0; i < 5; i++ {
				r := c.post("/accounts/login/", url.Values{"email": {email}, "password": {"wrong password"}})
				if r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "invalid email or password") {
					t.Fatalf("failed login %d for %s: %d %v", i, email, r.code, fieldErrors(r.body))
				}
			}
			r := c.post("/accounts/login/", url.Values{"email": {email}, "password": {"bob password 1"}})
			if r.code != http.StatusTooManyRequests {
				t.Fatalf("sixth login for %s: %d, want 429", email, r.code)
			}
			return fieldErrors(r.body)
		}
		known, unknown := lockout("bob@example.org"), lockout("nobody@example.org")
		if len(known) != 1 || !strings.Contains(known[0], "Too many attempts") || strings.Join(known, "") != strings.Join(unknown, "") {
			t.Fatalf("lockout messages differ or are missing: %q vs %q", known, unknown)
		}

		c := e.client()
		c.get("/accounts/password_reset/")
		r := c.post("/accounts/password_reset/", url.Values{"email": {"bob@example.org"}})
		if r.code != 200 || !strings.Contains(r.body, "If an active account uses bob@example.org") {
			t.Fatalf("reset request: %d", r.code)
		}
		unknownAnswer := c.post("/accounts/password_reset/", url.Values{"email": {"nobody@example.org"}})
		if unknownAnswer.code != 200 || !strings.Contains(unknownAnswer.body, "If an active account uses nobody@example.org") {
			t.Fatalf("reset request for an unknown address: %d", unknownAnswer.code)
		}
		m := e.sink.Wait(t, mailWait, "with the reset link", mailtest.To("bob@example.org", "Reset your password"))
		link := mailtest.Link(m.Body, e.ts.URL+"/accounts/reset/")
		if r := c.get(link); r.code != 200 || !strings.Contains(r.body, "Choose a new password") {
			t.Fatalf("reset page: %d", r.code)
		}
		if r := c.post(link, url.Values{"password": {"new password 2"}, "password2": {"new password 3"}}); r.code != http.StatusUnprocessableEntity {
			t.Fatalf("mismatched passwords: %d", r.code)
		}
		if r := c.post(link, url.Values{"password": {"short"}, "password2": {"short"}}); r.code != http.StatusUnprocessableEntity {
			t.Fatalf("short password: %d", r.code)
		}
		if r := c.post(link, url.Values{"password": {"new password 2"}, "password2": {"new password 2"}}); r.code != 200 || !strings.Contains(r.body, "Password changed") {
			t.Fatalf("reset: %d %v", r.code, fieldErrors(r.body))
		}
		if r := c.post(link, url.Values{"password": {"new password 9"}, "password2": {"new password 9"}}); r.code != http.StatusNotFound {
			t.Fatalf("second use of the link: %d", r.code)
		}
		e.sink.Wait(t, mailWait, "about the changed password", mailtest.To("bob@example.org", "password on"))
		if r := other.get("/accounts/profile/"); r.code != http.StatusSeeOther {
			t.Errorf("the other session survived the reset: %d", r.code)
		}
		c.get("/accounts/login/")
		if r := c.post("/accounts/login/", url.Values{"email": {"bob@example.org"}, "password": {"bob password 1"}}); r.code != http.StatusUnprocessableEntity {
			t.Errorf("old password after reset: %d", r.code)
		}
		c.login("bob@example.org", "new password 2")
		for _, m := range e.sink.Messages() {
			for _, to := range m.To {
				if to == "nobody@example.org" {
					t.Errorf("mail sent to an address without an account: %q", m.Subject)
				}
			}
		}
	})
}

// TestAccountSettings: change password (other sessions end), change email
// (the new address confirms, the old one is told), delete the account.
func TestAccountSettings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		e.user("cat@example.org", "cat password 1", false)
		c, other := e.client(), e.client()
		c.login("cat@example.org", "cat password 1")
		other.login("cat@example.org", "cat password 1")

		c.get("/accounts/password_change/")
		if r := c.post("/accounts/password_change/", url.Values{"current": {"wrong"}, "password": {"cat password 2"}, "password2": {"cat password 2"}}); r.code != http.StatusUnprocessableEntity {
			t.Fatalf("wrong current password: %d", r.code)
		}
		if r := c.post("/accounts/password_change/", url.Values{"current": {"cat password 1"}, "password": {"cat password 2"}, "password2": {"cat password 2"}}); r.code != http.StatusSeeOther {
			t.Fatalf("password change: %d %v", r.code, fieldErrors(r.body))
		}
		if r := c.get("/accounts/profile/"); r.code != 200 || !strings.Contains(r.body, "Your password is changed") {
			t.Fatalf("this session after the change: %d", r.code)
		}
		if r := other.get("/accounts/profile/"); r.code != http.StatusSeeOther {
			t.Fatalf("the other session after the change: %d", r.code)
		}

		c.get("/accounts/email/")
		if r := c.post("/accounts/email/", url.Values{"email": {"admin@example.org"}, "current": {"cat password 2"}}); r.code != http.StatusSeeOther {
			t.Fatalf("email change to a taken address: %d", r.code)
		}
		e.sink.Wait(t, mailWait, "to the owner of the taken address", mailtest.To("admin@example.org", "Registration attempt"))
		c.get("/accounts/email/")
		if r := c.post("/accounts/email/", url.Values{"email": {"cat@new.example.org"}, "current": {"cat password 2"}}); r.code != http.StatusSeeOther {
			t.Fatalf("email change: %d %v", r.code, fieldErrors(r.body))
		}
		m := e.sink.Wait(t, mailWait, "to the new address", mailtest.To("cat@new.example.org", "Confirm your new email"))
		if u, _ := e.st.UserByEmail(context.Background(), "cat@example.org"); u.ID == 0 {
			t.Fatal("the address changed before it was confirmed")
		}
		link := mailtest.Link(m.Body, e.ts.URL+"/accounts/verify/")
		c.get(link)
		if r := c.post(link, nil); r.code != http.StatusSeeOther {
			t.Fatalf("confirming the new address: %d", r.code)
		}
		if _, err := e.st.UserByEmail(context.Background(), "cat@new.example.org"); err != nil {
			t.Fatal("the address did not change")
		}
		e.sink.Wait(t, mailWait, "to the old address", mailtest.To("cat@example.org", "email address on"))

		c.get("/accounts/delete/")
		if r := c.post("/accounts/delete/", url.Values{"current": {"nope"}}); r.code != http.StatusUnprocessableEntity {
			t.Fatalf("delete with a wrong password: %d", r.code)
		}
		if r := c.post("/accounts/delete/", url.Values{"current": {"cat password 2"}}); r.code != 200 || !strings.Contains(r.body, "Account deleted") {
			t.Fatalf("delete: %d", r.code)
		}
		if _, err := e.st.UserByEmail(context.Background(), "cat@new.example.org"); err == nil {
			t.Fatal("the account still exists")
		}
		if r := c.get("/accounts/profile/"); r.code != http.StatusSeeOther {
			t.Fatalf("profile after deletion: %d", r.code)
		}
		// The only administrator cannot delete themselves.
		a := e.client()
		a.login("admin@example.org", adminPassword)
		a.get("/accounts/delete/")
		if r := a.post("/accounts/delete/", url.Values{"current": {adminPassword}}); r.code != http.StatusUnprocessableEntity {
			t.Fatalf("deleting the only administrator: %d", r.code)
		}
	})
}

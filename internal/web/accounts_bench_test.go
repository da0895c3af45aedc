package web_test

import (
	"net/url"
	"testing"

	"layerindex/internal/auth"
	"layerindex/internal/db"
)

// The account side's cost per request, on SQLite (the embedded default):
//
//	go test ./internal/web -run '^$' -bench 'Account|Login|Submit' -benchtime 200x
//
// Anonymous pages pay nothing for sessions (no cookie, no query); a signed-in
// page adds the session and account lookups; a login is dominated by
// Argon2id (19 MiB, 2 passes).

func BenchmarkAccountAnonymousPage(b *testing.B) {
	e := newAcctEnv(b, db.SQLite, envOpts{})
	c := e.client()
	b.ResetTimer()
	for b.Loop() {
		if r := c.get("/"); r.code != 200 {
			b.Fatal(r.code)
		}
	}
}

func BenchmarkAccountSignedInPage(b *testing.B) {
	e := newAcctEnv(b, db.SQLite, envOpts{})
	c := e.client()
	c.login("admin@example.org", adminPassword)
	b.ResetTimer()
	for b.Loop() {
		if r := c.get("/"); r.code != 200 {
			b.Fatal(r.code)
		}
	}
}

func BenchmarkLogin(b *testing.B) {
	e := newAcctEnv(b, db.SQLite, envOpts{})
	c := e.client()
	c.get("/accounts/login/")
	form := url.Values{"email": {"admin@example.org"}, "password": {adminPassword}}
	b.ResetTimer()
	for b.Loop() {
		if r := c.post("/accounts/login/", form); r.code != 303 {
			b.Fatal(r.code)
		}
		c.get("/accounts/login/") // the token changes at every login
	}
}

// BenchmarkSubmit is a signed-in submission: validation, the layer, branch,
// maintainers and dependencies, the history entry, the validation job and
// the administrator's mail job, in one transaction.
func BenchmarkSubmit(b *testing.B) {
	lim := auth.DefaultLimits
	lim.SubmitPerAccount.Max = 1 << 30
	e := newAcctEnv(b, db.SQLite, envOpts{limits: &lim})
	e.q.Stop(b.Context()) // measure the request, not the jobs it queues
	c := e.client()
	c.login("admin@example.org", adminPassword)
	c.get("/layerindex/submit/")
	i := 0
	b.ResetTimer()
	for b.Loop() {
		i++
		if r := c.post("/layerindex/submit/", e.layerForm("meta-bench-"+itoa(i))); r.code != 303 {
			b.Fatal(r.code, fieldErrors(r.body))
		}
	}
}

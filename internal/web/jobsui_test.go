package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/auth"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/web"
)

// TestJobDashboard is River UI's access matrix at /layerindex/admin/jobs/,
// over HTTP on both databases: anonymous visitors are sent to log in,
// plain users and maintainers get 403 (also from its JSON API), an
// administrator gets the dashboard and its API; its state-changing API
// calls (a job's cancel) are refused without the session's CSRF token,
// and work with it.
func TestJobDashboard(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		e.layer("meta-jobs", store.StatusPublished, "maint@example.org")
		e.user("maint@example.org", "maint password 1", false)
		e.user("plain@example.org", "plain password 1", false)
		// A job due in an hour, to look at and to cancel.
		res, err := e.q.Enqueue(context.Background(), jobs.PurgeUpdatesArgs{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		jobID := res.Job.ID

		getHTML := func(c *client, path string) resp {
			t.Helper()
			req, _ := http.NewRequest(http.MethodGet, c.url(path), nil)
			req.Header.Set("Accept", "text/html")
			return c.do(req)
		}
		cancel := func(c *client, token string) resp {
			t.Helper()
			req, _ := http.NewRequest(http.MethodPost, c.url("/layerindex/admin/jobs/api/jobs/cancel"),
				strings.NewReader(`{"ids":["`+int64s(jobID)+`"]}`))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("X-CSRF-Token", token)
			}
			return c.do(req)
		}
		state := func() rivertype.JobState {
			t.Helper()
			j, err := e.q.Client().JobGet(context.Background(), jobID)
			if err != nil {
				t.Fatal(err)
			}
			return j.State
		}

		// Anonymous: log in first; its API too; a POST is refused.
		anon := e.client()
		for _, p := range []string{"/layerindex/admin/jobs/", "/layerindex/admin/jobs/jobs", "/layerindex/admin/jobs/api/jobs?state=scheduled"} {
			if r := getHTML(anon, p); r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, "/accounts/login/?next=") {
				t.Errorf("anonymous %s: %d %q", p, r.code, r.location)
			}
		}
		if r := cancel(anon, ""); r.code != http.StatusForbidden {
			t.Errorf("anonymous cancel: %d", r.code)
		}

		// Plain users and maintainers: 403, page and API, even with a token.
		for _, who := range []struct{ email, pw string }{{"plain@example.org", "plain password 1"}, {"maint@example.org", "maint password 1"}} {
			c := e.client()
			c.login(who.email, who.pw)
			for _, p := range []string{"/layerindex/admin/jobs/", "/layerindex/admin/jobs/api/jobs?state=scheduled", "/layerindex/admin/jobs/api/states"} {
				if r := getHTML(c, p); r.code != http.StatusForbidden {
					t.Errorf("%s %s: %d", who.email, p, r.code)
				}
			}
			c.get("/accounts/profile/") // a page with a form: the session's token
			if c.csrf == "" {
				t.Fatal("no CSRF token on the profile page")
			}
			if r := cancel(c, c.csrf); r.code != http.StatusForbidden {
				t.Errorf("%s cancel: %d", who.email, r.code)
			}
		}
		if s := state(); s != rivertype.JobStateScheduled {
			t.Fatalf("the job is %s after refused cancels", s)
		}

		// The administrator: the dashboard, with the token and the script
		// that sends it, under a policy that allows River UI's styles.
		admin := e.client()
		admin.login("admin@example.org", adminPassword)
		r := getHTML(admin, "/layerindex/admin/jobs/")
		if r.code != http.StatusOK || !strings.Contains(r.body, "<title>River</title>") {
			t.Fatalf("admin dashboard: %d %.300q", r.code, r.body)
		}
		m := regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)">`).FindStringSubmatch(r.body)
		if m == nil || !strings.Contains(r.body, `<script src="/static/js/jobs-csrf.js">`) {
			t.Fatalf("the dashboard lacks the CSRF token or its script: %.600q", r.body)
		}
		token := m[1]
		if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Count(csp, "default-src") != 1 {
			t.Errorf("dashboard CSP: %q", csp)
		}
		if r := admin.get("/static/js/jobs-csrf.js"); r.code != 200 || !strings.Contains(r.body, "X-CSRF-Token") {
			t.Errorf("jobs-csrf.js: %d", r.code)
		}
		// A page of the application routed in the browser, and an asset.
		if r := getHTML(admin, "/layerindex/admin/jobs/jobs"); r.code != http.StatusOK || !strings.Contains(r.body, "csrf-token") {
			t.Errorf("admin /jobs: %d", r.code)
		}
		asset := regexp.MustCompile(`src="(/layerindex/admin/jobs/assets/[^"]+\.js)"`).FindStringSubmatch(r.body)
		if asset == nil {
			t.Fatalf("no script asset in the dashboard: %.600q", r.body)
		}
		if r := admin.get(asset[1]); r.code != http.StatusOK || len(r.body) < 1000 {
			t.Errorf("asset %s: %d, %d bytes", asset[1], r.code, len(r.body))
		}

		// Its API lists the scheduled job.
		r = admin.get("/layerindex/admin/jobs/api/jobs?state=scheduled")
		if r.code != http.StatusOK {
			t.Fatalf("admin job list: %d %.300q", r.code, r.body)
		}
		var list struct {
			Data []struct {
				ID   json.Number `json:"id"`
				Kind string      `json:"kind"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(r.body), &list); err != nil {
			t.Fatalf("job list: %v: %.300q", err, r.body)
		}
		found := false
		for _, j := range list.Data {
			found = found || (j.ID.String() == int64s(jobID) && j.Kind == (jobs.PurgeUpdatesArgs{}).Kind())
		}
		if !found {
			t.Errorf("the scheduled job %d is not listed: %.500q", jobID, r.body)
		}

		// Cancel: refused without the token, or with another one.
		if r := cancel(admin, ""); r.code != http.StatusForbidden {
			t.Errorf("admin cancel without a CSRF token: %d", r.code)
		}
		if r := cancel(admin, "not-"+token); r.code != http.StatusForbidden {
			t.Errorf("admin cancel with a wrong CSRF token: %d", r.code)
		}
		if s := state(); s != rivertype.JobStateScheduled {
			t.Fatalf("the job is %s after refused cancels", s)
		}
		if r := cancel(admin, token); r.code != http.StatusOK {
			t.Fatalf("admin cancel with the token: %d %.300q", r.code, r.body)
		}
		if s := state(); s != rivertype.JobStateCancelled {
			t.Errorf("the job is %s after its cancel", s)
		}
		// Retry and pausing a queue pass the same check.
		call := func(method, path, body, token string) resp {
			t.Helper()
			req, _ := http.NewRequest(method, admin.url(path), strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			if token != "" {
				req.Header.Set("X-CSRF-Token", token)
			}
			return admin.do(req)
		}
		ids := `{"ids":["` + int64s(jobID) + `"]}`
		if r := call(http.MethodPost, "/layerindex/admin/jobs/api/jobs/retry", ids, ""); r.code != http.StatusForbidden {
			t.Errorf("admin retry without a CSRF token: %d", r.code)
		}
		if r := call(http.MethodPut, "/layerindex/admin/jobs/api/queues/default/pause", "", ""); r.code != http.StatusForbidden {
			t.Errorf("admin queue pause without a CSRF token: %d", r.code)
		}
		if r := call(http.MethodPost, "/layerindex/admin/jobs/api/jobs/retry", ids, token); r.code != http.StatusOK {
			t.Errorf("admin retry with the token: %d %.300q", r.code, r.body)
		}
		if s := state(); s == rivertype.JobStateCancelled {
			t.Errorf("the job is still %s after its retry", s)
		}

		// The administration page links the dashboard.
		if r := admin.get("/layerindex/admin/"); !strings.Contains(r.body, `href="/layerindex/admin/jobs/"`) {
			t.Error("the administration page does not link the job dashboard")
		}
	})
}

// TestJobDashboardInsertOnly: a web process beside separate workers has
// an insert-only job client (serve --embedded-worker=false); the
// dashboard lists and cancels jobs through it as well.
func TestJobDashboardInsertOnly(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		q, err := jobs.New(ctx, conn, jobs.Options{})
		if err != nil {
			t.Fatal(err)
		}
		s, err := web.New(conn, q, web.Options{Version: "test", SecretKey: acctSecret})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Close)
		ts := httptest.NewServer(s.Handler())
		t.Cleanup(ts.Close)
		h, err := auth.HashPassword(adminPassword)
		if err != nil {
			t.Fatal(err)
		}
		if err := store.New(conn.Gorm).CreateUser(ctx, &store.User{Email: "admin@example.org", PasswordHash: h, Verified: true, IsActive: true, IsAdmin: true}); err != nil {
			t.Fatal(err)
		}
		res, err := q.Enqueue(ctx, jobs.PurgeUpdatesArgs{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		jar, _ := cookiejar.New(nil)
		admin := &client{t: t, base: ts.URL, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
		admin.login("admin@example.org", adminPassword)
		if r := admin.get("/layerindex/admin/jobs/api/jobs?state=scheduled"); r.code != http.StatusOK || !strings.Contains(r.body, `"purge_updates"`) {
			t.Fatalf("job list: %d %.300q", r.code, r.body)
		}
		admin.get("/accounts/profile/")
		req, _ := http.NewRequest(http.MethodPost, admin.url("/layerindex/admin/jobs/api/jobs/cancel"), strings.NewReader(`{"ids":["`+int64s(res.Job.ID)+`"]}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", admin.csrf)
		if r := admin.do(req); r.code != http.StatusOK {
			t.Fatalf("cancel: %d %.300q", r.code, r.body)
		}
		j, err := q.Client().JobGet(ctx, res.Job.ID)
		if err != nil || j.State != rivertype.JobStateCancelled {
			t.Errorf("after the cancel: %v %v", j.State, err)
		}
	})
}

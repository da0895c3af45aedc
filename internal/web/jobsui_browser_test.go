package web_test

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/db"
	"layerindex/internal/jobs"
)

// TestBrowserJobDashboard opens River UI in Chromium as an administrator:
// the application renders under the site's Content-Security-Policy and
// lists a scheduled job, and a state-changing call made by the page's own
// fetch (as its Cancel button does) carries the CSRF token that
// static/js/jobs-csrf.js adds, so the site accepts it.
func TestBrowserJobDashboard(t *testing.T) {
	b := startBrowser(t, "jobs")
	e := newAcctEnv(t, db.SQLite, envOpts{})
	res, err := e.q.Enqueue(context.Background(), jobs.PurgeUpdatesArgs{}, &river.InsertOpts{ScheduledAt: time.Now().Add(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	b.do("log in", chromedp.Navigate(e.ts.URL+"/accounts/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		fill("#email", "admin@example.org"), fill("#password", adminPassword),
		chromedp.Click(chromedp.CSS("form.account-form button[type=submit]")),
		chromedp.WaitVisible(`//h1[.="Your account"]`))
	b.do("open the dashboard", chromedp.Navigate(e.ts.URL+"/layerindex/admin/jobs/jobs?state=scheduled"),
		chromedp.WaitVisible(`//*[contains(text(), "`+(jobs.PurgeUpdatesArgs{}).Kind()+`")]`))
	b.shot("01-scheduled-jobs")
	status := browserRun(b, "cancel from the page", chromedp.Evaluate[int](`fetch("/layerindex/admin/jobs/api/jobs/cancel", {method: "POST",
		headers: {"Content-Type": "application/json"}, body: JSON.stringify({ids: ["`+int64s(res.Job.ID)+`"]})}).then(r => r.status)`,
		chromedp.EvalAwaitPromise))
	if status != 200 {
		t.Fatalf("cancel from the dashboard's page: %d", status)
	}
	j, err := e.q.Client().JobGet(context.Background(), res.Job.ID)
	if err != nil {
		t.Fatal(err)
	}
	if j.State != rivertype.JobStateCancelled {
		t.Errorf("the job is %s after the page cancelled it", j.State)
	}
}

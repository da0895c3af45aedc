package web_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"layerindex/internal/db"
	"layerindex/internal/mail/mailtest"
	"layerindex/internal/store"
)

// TestBrowserSubmitReviewPublish drives headless Chromium through a layer's
// life: an anonymous visitor submits it (a field error first, then the
// challenge; the GitHub preset fills the URL templates in the page), the
// administrator logs in, sees the badge, reviews the submission with its
// repository check and publishes it. Screenshots go to
// $LAYERINDEX_SCREENSHOTS/accounts (default: a temporary directory, logged).
func TestBrowserSubmitReviewPublish(t *testing.T) {
	bctx, shots := startBrowser(t, "accounts")
	e := newAcctEnv(t, db.SQLite, envOpts{})
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
	value := func(sel string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("reading the value of %s: %v", sel, err)
		}
		return s
	}
	shot := func(name string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(bctx, 20*time.Second)
		defer cancel()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fill := func(sel, v string) chromedp.Action[chromedp.Void] { return chromedp.SendKeys(chromedp.CSS(sel), v) }

	// 1. An anonymous visitor fills in the form; the name is wrong.
	run("open the submission form", chromedp.Navigate(e.ts.URL+"/layerindex/submit/"), chromedp.WaitVisible(chromedp.CSS("form.layer-form")))
	run("fill in the form",
		fill("#name", "Meta_Browser"),
		chromedp.SetValue(chromedp.CSS("#layer_type"), "S"),
		fill("#summary", "A layer submitted from a browser"),
		fill("#description", "It has a hello recipe.\nAnd two lines of description."),
		fill("#vcs_url", e.repoURL),
		fill("#vcs_subdir", "meta-test"),
		fill("#vcs_web_url", "https://github.com/example/meta-browser"),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.getElementById("web_preset"); s.value = "github"; s.dispatchEvent(new Event("change")); })()`),
		fill(`input[name="m-0-name"]`, "Browser Maintainer"),
		fill(`input[name="m-0-email"]`, "browser@example.org"),
	)
	if got := value("#vcs_web_tree_base_url"); got != "https://github.com/example/meta-browser/tree/%branch%/%path%" {
		t.Errorf("the GitHub preset filled the tree URL with %q", got)
	}
	if got := value(`input[name="dep"]`); got != int64s(e.core.ID) {
		t.Errorf("first dependency checkbox %q", got)
	}
	q := text(`label[for="challenge"]`)
	run("answer and submit", fill("#challenge", answer(t, q)), chromedp.Click(chromedp.CSS("form.layer-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".field-error")))
	if msg := text(".field-error"); !strings.Contains(msg, "lowercase") {
		t.Errorf("field error: %q", msg)
	}
	if v := value("#summary"); v != "A layer submitted from a browser" {
		t.Errorf("the summary was not kept: %q", v)
	}
	shot("01-submit-field-error")

	// 2. Fix the name, answer the new question, submit.
	q = text(`label[for="challenge"]`)
	run("fix and submit",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("name").value = ""`), fill("#name", "meta-browser"),
		fill("#challenge", answer(t, q)),
		chromedp.Click(chromedp.CSS("form.layer-form button[type=submit]")),
		chromedp.WaitVisible(`//h1[contains(., "Thank you")]`))
	shot("02-thanks")
	waitFor(t, "the repository check", func() bool { return e.layerByName("meta-browser").ValidationStatus == "ok" })
	e.sink.Wait(t, mailWait, "to the administrator", mailtest.To("admin@example.org", "meta-browser"))

	// 3. The administrator logs in and sees the badge.
	run("log in", chromedp.Navigate(e.ts.URL+"/accounts/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		fill("#email", "admin@example.org"), fill("#password", adminPassword),
		chromedp.Click(chromedp.CSS("form.account-form button[type=submit]")),
		chromedp.WaitVisible(`//h1[.="Your account"]`))
	if badge := text(".account-nav .badge"); badge != "1" {
		t.Errorf("review badge %q, want 1", badge)
	}
	shot("03-admin-logged-in-badge")

	// 4. Review.
	run("open the review list", chromedp.Click(chromedp.CSS("a.review-link")), chromedp.WaitVisible(chromedp.CSS("table.list")))
	if list := text("table.list"); !strings.Contains(list, "meta-browser") || !strings.Contains(list, "passed") {
		t.Errorf("review list: %q", list)
	}
	shot("04-review-list")
	run("open the submission", chromedp.Click(`//a[.="meta-browser"]`), chromedp.WaitVisible(chromedp.CSS(".review-box")))
	box := text(".review-box")
	for _, want := range []string{"passed", "test-layer", "Submitted", "anonymously"} {
		if !strings.Contains(box, want) {
			t.Errorf("review box lacks %q:\n%s", want, box)
		}
	}
	shot("05-review-detail")

	// 5. Publish.
	run("publish", chromedp.Click(`//button[contains(., "Publish meta-browser")]`), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if f := text(".flash"); !strings.Contains(f, "meta-browser is published") {
		t.Errorf("flash after publishing: %q", f)
	}
	if l := e.layerByName("meta-browser"); l.Status != store.StatusPublished {
		t.Errorf("status after publishing: %s", l.Status)
	}
	shot("06-published")
	e.sink.Wait(t, mailWait, "to the maintainer", mailtest.To("browser@example.org", "meta-browser published"))
}

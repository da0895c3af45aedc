package web_test

import (
	"strings"
	"testing"

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
	b := startBrowser(t, "accounts")
	e := newAcctEnv(t, db.SQLite, envOpts{})

	// 1. An anonymous visitor fills in the form; the name is wrong.
	b.do("open the submission form", chromedp.Navigate(e.ts.URL+"/layerindex/submit/"), chromedp.WaitVisible(chromedp.CSS("form.layer-form")))
	b.do("fill in the form",
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
	if got := b.value("#vcs_web_tree_base_url"); got != "https://github.com/example/meta-browser/tree/%branch%/%path%" {
		t.Errorf("the GitHub preset filled the tree URL with %q", got)
	}
	if got := b.value(`input[name="dep"]`); got != int64s(e.core.ID) {
		t.Errorf("first dependency checkbox %q", got)
	}
	q := b.text(`label[for="challenge"]`)
	b.do("answer and submit", fill("#challenge", answer(t, q)), chromedp.Click(chromedp.CSS("form.layer-form button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".field-error")))
	if msg := b.text(".field-error"); !strings.Contains(msg, "lowercase") {
		t.Errorf("field error: %q", msg)
	}
	if v := b.value("#summary"); v != "A layer submitted from a browser" {
		t.Errorf("the summary was not kept: %q", v)
	}
	b.shot("01-submit-field-error")

	// 2. Fix the name, answer the new question, submit.
	q = b.text(`label[for="challenge"]`)
	b.do("fix and submit",
		chromedp.Evaluate[chromedp.Void](`document.getElementById("name").value = ""`), fill("#name", "meta-browser"),
		fill("#challenge", answer(t, q)),
		chromedp.Click(chromedp.CSS("form.layer-form button[type=submit]")),
		chromedp.WaitVisible(`//h1[contains(., "Thank you")]`))
	b.shot("02-thanks")
	waitFor(t, "the repository check", func() bool { return e.layerByName("meta-browser").ValidationStatus == "ok" })
	e.sink.Wait(t, mailWait, "to the administrator", mailtest.To("admin@example.org", "meta-browser"))

	// 3. The administrator logs in and sees the badge.
	b.do("log in", chromedp.Navigate(e.ts.URL+"/accounts/login/"), chromedp.WaitVisible(chromedp.CSS("#email")),
		fill("#email", "admin@example.org"), fill("#password", adminPassword),
		chromedp.Click(chromedp.CSS("form.account-form button[type=submit]")),
		chromedp.WaitVisible(`//h1[.="Your account"]`))
	if badge := b.text(".account-nav .badge"); badge != "1" {
		t.Errorf("review badge %q, want 1", badge)
	}
	b.shot("03-admin-logged-in-badge")

	// 4. Review.
	b.do("open the review list", chromedp.Click(chromedp.CSS("a.review-link")), chromedp.WaitVisible(chromedp.CSS("table.list")))
	if list := b.text("table.list"); !strings.Contains(list, "meta-browser") || !strings.Contains(list, "passed") {
		t.Errorf("review list: %q", list)
	}
	b.shot("04-review-list")
	b.do("open the submission", chromedp.Click(`//a[.="meta-browser"]`), chromedp.WaitVisible(chromedp.CSS(".review-box")))
	box := b.text(".review-box")
	for _, want := range []string{"passed", "test-layer", "Submitted", "anonymously"} {
		if !strings.Contains(box, want) {
			t.Errorf("review box lacks %q:\n%s", want, box)
		}
	}
	b.shot("05-review-detail")

	// 5. Publish.
	b.do("publish", chromedp.Click(`//button[contains(., "Publish meta-browser")]`), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if f := b.text(".flash"); !strings.Contains(f, "meta-browser is published") {
		t.Errorf("flash after publishing: %q", f)
	}
	if l := e.layerByName("meta-browser"); l.Status != store.StatusPublished {
		t.Errorf("status after publishing: %s", l.Status)
	}
	b.shot("06-published")
	e.sink.Wait(t, mailWait, "to the maintainer", mailtest.To("browser@example.org", "meta-browser published"))
}

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
	"layerindex/internal/mail/mailtest"
	"layerindex/internal/store"
)

// TestSubmitReviewPublish: an anonymous submission (with the challenge) and
// a signed-in one (without) are stored as new with their validation job and
// a mail to the administrator; the admin sees the badge, reviews, and
// publishes one (POST only), which mails its maintainers and indexes it;
// a maintainer (by verified email, any case) edits that layer and nothing
// else, manages notes and asks for a re-index; the other submission is
// rejected with a reason that reaches the submitter and maintainers.
func TestSubmitReviewPublish(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		e := newAcctEnv(t, d, envOpts{})

		// Anonymous, with the challenge.
		anon := e.client()
		r := anon.get("/layerindex/submit/")
		if r.code != 200 || !challengeRe.MatchString(r.body) {
			t.Fatalf("submit page: %d, challenge shown: %v", r.code, challengeRe.MatchString(r.body))
		}
		form := e.layerForm("meta-anon")
		form.Set("challenge", "1000")
		r = anon.post("/layerindex/submit/", form)
		if r.code != http.StatusUnprocessableEntity || !strings.Contains(strings.Join(fieldErrors(r.body), " "), "not the answer") {
			t.Fatalf("wrong answer: %d %v", r.code, fieldErrors(r.body))
		}
		if !strings.Contains(r.body, `value="A test layer"`) {
			t.Error("the form lost its input after an error")
		}
		if n := e.count("layers"); n != 1 {
			t.Fatalf("%d layers after a wrong answer", n)
		}
		form.Set("challenge", answer(t, r.body))
		r = anon.post("/layerindex/submit/", form)
		if r.code != http.StatusSeeOther || r.location != "/layerindex/submit/thanks/" {
			t.Fatalf("anonymous submission: %d %v", r.code, fieldErrors(r.body))
		}
		if r := anon.get(r.location); r.code != 200 || !strings.Contains(r.body, "An administrator will review") {
			t.Fatalf("thanks page: %d", r.code)
		}
		l := e.layerByName("meta-anon")
		if l.Status != store.StatusNew || l.SubmittedByID != nil || l.VCSWebTreeBaseURL != "https://github.com/example/meta-anon/tree/%branch%/%path%" {
			t.Fatalf("stored submission: %+v", l)
		}
		lbs, _ := e.st.LayerBranchesOfLayer(ctx, l.ID)
		if len(lbs) != 1 || lbs[0].Branch.Name != "master" || lbs[0].VCSSubdir != "meta-test" {
			t.Fatalf("layer branches: %+v", lbs)
		}
		if ms, _ := e.st.LayerMaintainers(ctx, lbs[0].ID); len(ms) != 2 {
			t.Fatalf("maintainers: %+v", ms)
		}
		if deps, _ := e.st.Dependencies(ctx, lbs[0].ID); len(deps) != 1 || deps[0].DependencyID != e.core.ID {
			t.Fatalf("dependencies: %+v", deps)
		}
		m := e.sink.Wait(t, mailWait, "to the administrator", mailtest.To("admin@example.org", "layer submission - meta-anon"))
		if !strings.Contains(m.Body, e.ts.URL+"/layerindex/review/meta-anon/") {
			t.Errorf("submission mail without the review link:\n%s", m.Body)
		}
		waitFor(t, "the repository check", func() bool { return e.layerByName("meta-anon").ValidationStatus != "" })
		if v := e.layerByName("meta-anon"); v.ValidationStatus != "ok" || !strings.Contains(v.ValidationLog, `collection "test-layer"`) {
			t.Fatalf("validation: %s\n%s", v.ValidationStatus, v.ValidationLog)
		}

		// Signed in: no challenge.
		e.user("bob@example.org", "bob password 1", false)
		bob := e.client()
		bob.login("bob@example.org", "bob password 1")
		if r := bob.get("/layerindex/submit/"); challengeRe.MatchString(r.body) {
			t.Error("a signed-in user is asked the challenge")
		}
		form = e.layerForm("meta-bob")
		form.Set("m-0-email", "bobs-maintainer@example.org")
		form.Set("m-1-email", "")
		form.Set("m-1-name", "")
		if r := bob.post("/layerindex/submit/", form); r.code != http.StatusSeeOther {
			t.Fatalf("signed-in submission: %d %v", r.code, fieldErrors(r.body))
		}
		if lb := e.layerByName("meta-bob"); lb.SubmittedByID == nil {
			t.Error("the submitter is not recorded")
		}

		// Review.
		admin := e.client()
		admin.login("admin@example.org", adminPassword)
		r = admin.get("/layerindex/review/")
		if !regexp.MustCompile(`class="badge"[^>]*>2<`).MatchString(r.body) || !strings.Contains(r.body, "meta-anon") || !strings.Contains(r.body, "meta-bob") {
			t.Fatalf("review list or badge:\n%s", r.body)
		}
		r = admin.get("/layerindex/review/meta-anon/")
		if r.code != 200 || !strings.Contains(r.body, "https://github.com/example/meta-anon/blob/master/meta-test/conf/layer.conf") ||
			!strings.Contains(r.body, "Publish meta-anon") || !strings.Contains(r.body, "LAYERDEPENDS") {
			t.Fatalf("review page: %d\n%s", r.code, r.body)
		}
		if r := admin.get("/layerindex/layer/meta-anon/publish/"); r.code != http.StatusMethodNotAllowed && r.code != http.StatusNotFound {
			t.Fatalf("publish by GET: %d", r.code)
		}
		if l := e.layerByName("meta-anon"); l.Status != store.StatusNew {
			t.Fatal("GET published the layer")
		}
		if r := admin.post("/layerindex/layer/meta-anon/publish/", nil); r.code != http.StatusSeeOther {
			t.Fatalf("publish: %d", r.code)
		}
		if r := admin.post("/layerindex/layer/meta-anon/publish/", nil); r.code != http.StatusConflict {
			t.Fatalf("second publish: %d", r.code)
		}
		pub := e.sink.Wait(t, mailWait, "to the maintainers", mailtest.To("one@example.org", "meta-anon published"))
		if len(pub.To) != 2 || !strings.Contains(pub.Body, "Maintainer One and Maintainer Two") {
			t.Errorf("publish mail to %v:\n%s", pub.To, pub.Body)
		}
		defer func() {
			if t.Failed() {
				e.debugJobs()
			}
		}()
		waitFor(t, "the first index", func() bool {
			var lu store.LayerUpdate
			err := e.conn.Gorm.Where("layer_id = ? AND status = ?", l.ID, store.UpdateSucceeded).Take(&lu).Error
			return err == nil
		})
		var recipes int64
		e.conn.Gorm.Model(&store.Recipe{}).Where("layer_branch_id = ? AND pn = 'hello'", lbs[0].ID).Count(&recipes)
		if recipes != 1 {
			t.Errorf("after publishing, %d hello recipes indexed", recipes)
		}
		if r := admin.get("/layerindex/layer/meta-anon/manage/"); !strings.Contains(r.body, "Recent updates") || !strings.Contains(r.body, "succeeded") {
			t.Error("the manage page does not show the first index")
		}
		if r := admin.get("/layerindex/review/"); strings.Contains(r.body, ">2<") {
			t.Error("the badge still counts the published layer")
		}

		// A maintainer, by verified email in another case.
		e.user("two@example.org", "two password 1", false)
		two := e.client()
		two.login("two@example.org", "two password 1")
		if r := two.get("/accounts/profile/"); !strings.Contains(r.body, "/layerindex/layer/meta-anon/manage/") {
			t.Error("the profile does not list the maintained layer")
		}
		r = two.get("/layerindex/branch/master/edit/meta-anon/")
		if r.code != 200 || !strings.Contains(r.body, `value="Maintainer One"`) {
			t.Fatalf("edit page for the maintainer: %d", r.code)
		}
		edit := e.layerForm("meta-anon")
		edit.Set("summary", "A better summary")
		edit.Set("m-1-email", "Two@Example.org")
		edit.Set("m-2-name", "Maintainer Three")
		edit.Set("m-2-email", "three@example.org")
		edit.Del("web_preset")
		if r := two.post("/layerindex/branch/master/edit/meta-anon/", edit); r.code != http.StatusSeeOther {
			t.Fatalf("maintainer edit: %d %v", r.code, fieldErrors(r.body))
		}
		if l := e.layerByName("meta-anon"); l.Summary != "A better summary" {
			t.Fatalf("summary not saved: %q", l.Summary)
		}
		e.sink.Wait(t, mailWait, "to the added maintainer", mailtest.To("three@example.org", "maintainer of meta-anon"))
		if r := two.get("/layerindex/branch/master/edit/meta-bob/"); r.code != http.StatusForbidden {
			t.Fatalf("maintainer editing another layer: %d", r.code)
		}
		if r := two.post("/layerindex/branch/master/edit/meta-bob/", e.layerForm("meta-bob")); r.code != http.StatusForbidden {
			t.Fatalf("maintainer posting an edit of another layer: %d", r.code)
		}
		if r := two.get("/layerindex/review/"); r.code != http.StatusForbidden {
			t.Fatalf("maintainer on the review list: %d", r.code)
		}

		// Notes.
		two.get("/layerindex/layer/meta-anon/addnote/")
		if r := two.post("/layerindex/layer/meta-anon/addnote/", url.Values{"text": {"Deprecated: use meta-new."}}); r.code != http.StatusSeeOther {
			t.Fatalf("add note: %d", r.code)
		}
		notes, _ := e.st.LayerNotes(ctx, l.ID)
		if len(notes) != 1 {
			t.Fatalf("%d notes", len(notes))
		}
		nid := int64s(notes[0].ID)
		two.get("/layerindex/layer/meta-anon/editnote/" + nid + "/")
		if r := two.post("/layerindex/layer/meta-anon/editnote/"+nid+"/", url.Values{"text": {"Deprecated."}}); r.code != http.StatusSeeOther {
			t.Fatalf("edit note: %d", r.code)
		}
		if r := two.get("/layerindex/layer/meta-anon/manage/"); !strings.Contains(r.body, "Deprecated.") {
			t.Fatal("edited note not shown")
		}
		two.get("/layerindex/layer/meta-anon/deletenote/" + nid + "/")
		if r := two.post("/layerindex/layer/meta-anon/deletenote/"+nid+"/", nil); r.code != http.StatusSeeOther {
			t.Fatalf("delete note: %d", r.code)
		}

		// Re-index: the run's page shows its progress and then its log.
		two.get("/layerindex/layer/meta-anon/manage/")
		r = two.post("/layerindex/layer/meta-anon/update/", url.Values{"force": {"on"}})
		if r.code != http.StatusSeeOther || !strings.HasPrefix(r.location, "/layerindex/layerupdate/") {
			t.Fatalf("re-index: %d %q", r.code, r.location)
		}
		status := r.location
		waitFor(t, "the re-index to finish", func() bool {
			r := two.get(status)
			return r.code == 200 && !strings.Contains(r.body, `http-equiv="refresh"`) && strings.Contains(r.body, "status-succeeded")
		})
		if r := two.get(status); !strings.Contains(r.body, "INFO:") {
			t.Errorf("re-index page without the log:\n%s", r.body)
		}
		if r := two.get("/layerindex/layer/meta-anon/update/?update=nonsense"); r.code != http.StatusNotFound {
			t.Errorf("bad job id: %d", r.code)
		}

		// Reject meta-bob: a reason is required and is mailed.
		admin.get("/layerindex/review/meta-bob/")
		if r := admin.post("/layerindex/layer/meta-bob/reject/", url.Values{"reason": {"  "}}); r.code != http.StatusUnprocessableEntity {
			t.Fatalf("reject without a reason: %d", r.code)
		}
		if r := admin.post("/layerindex/layer/meta-bob/reject/", url.Values{"reason": {"The repository has no license file."}}); r.code != http.StatusSeeOther {
			t.Fatalf("reject: %d", r.code)
		}
		rej := e.sink.Wait(t, mailWait, "about the rejection", mailtest.To("bob@example.org", "not accepted"))
		if !strings.Contains(rej.Body, "The repository has no license file.") || len(rej.To) != 2 {
			t.Errorf("rejection mail to %v:\n%s", rej.To, rej.Body)
		}
		if _, err := e.st.LayerByName(ctx, "meta-bob"); err == nil {
			t.Fatal("the rejected layer still exists")
		}

		// History, for administrators.
		r = admin.get("/layerindex/history/")
		for _, want := range []string{"submitted", "published", "edited", "summary: &#34;A test layer&#34; → &#34;A better summary&#34;",
			"note added", "note deleted", "rejected", "meta-bob (removed)", "two@example.org"} {
			if !strings.Contains(r.body, want) {
				t.Errorf("history lacks %q", want)
			}
		}
		if r := two.get("/layerindex/history/"); r.code != http.StatusForbidden {
			t.Errorf("history for a maintainer: %d", r.code)
		}
		if r := admin.get("/layerindex/admin/outbox/"); r.code != 200 || !strings.Contains(r.body, "meta-anon published") {
			t.Errorf("outbox: %d", r.code)
		}
	})
}

// TestSubmissionWhileSMTPDown: with the mail server down a submission is
// still stored (the mail is a job); when the server is back, the retried
// job delivers the administrator's mail.
func TestSubmissionWhileSMTPDown(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newAcctEnv(t, d, envOpts{})
		e.sink.Stop()
		e.user("sue@example.org", "sue password", false)
		c := e.client()
		c.login("sue@example.org", "sue password")
		c.get("/layerindex/submit/")
		if r := c.post("/layerindex/submit/", e.layerForm("meta-down")); r.code != http.StatusSeeOther {
			t.Fatalf("submission with SMTP down: %d %v", r.code, fieldErrors(r.body))
		}
		if l := e.layerByName("meta-down"); l.Status != store.StatusNew {
			t.Fatalf("status %s", l.Status)
		}
		waitFor(t, "a failed mail attempt", func() bool {
			var n int64
			e.conn.Gorm.Table("river_job").Where("kind = 'send_mail' AND attempt >= 1 AND state IN ('retryable', 'available', 'running')").Count(&n)
			return n == 1
		})
		e.sink.Restart(t)
		e.sink.Wait(t, mailWait, "after the SMTP server came back", mailtest.To("admin@example.org", "meta-down"))
	})
}

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
)

// TestPlainTextWithAngleBrackets: text fields take "<" and ">" as the plain
// text they are ("Name <email>", "<linux/ioctl.h>", even something that
// looks like a tag): the values are stored as typed, every page shows them
// escaped (never as markup), and the plain-text emails carry them as typed.
func TestPlainTextWithAngleBrackets(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		e := newAcctEnv(t, d, envOpts{})
		const (
			summary = "Headers for <linux/ioctl.h> & friends"
			descr   = "Maintained by Jane <jane@example.org>.\n<script>alert(1)</script> is only text here."
			mname   = "Jane <Doe>"
			resp    = "<everything> except <b>bold</b>"
		)
		e.user("sam@example.org", "sam password 1", false)
		sam := e.client()
		sam.login("sam@example.org", "sam password 1")
		sam.get("/layerindex/submit/")
		form := e.layerForm("meta-angle")
		form.Set("summary", summary)
		form.Set("description", descr)
		form.Set("m-0-name", mname)
		form.Set("m-0-resp", resp)
		if r := sam.post("/layerindex/submit/", form); r.code != http.StatusSeeOther {
			t.Fatalf("submission with < and >: %d %v", r.code, fieldErrors(r.body))
		}
		l := e.layerByName("meta-angle")
		if l.Summary != summary || l.Description != descr {
			t.Fatalf("stored %q / %q", l.Summary, l.Description)
		}
		lbs, _ := e.st.LayerBranchesOfLayer(ctx, l.ID)
		ms, _ := e.st.LayerMaintainers(ctx, lbs[0].ID)
		if len(ms) != 2 || ms[0].Name != mname || ms[0].Responsibility != resp {
			t.Fatalf("stored maintainers %+v", ms)
		}

		// The plain-text mail carries the text as typed.
		m := e.sink.Wait(t, mailWait, "to the administrator", mailtest.To("admin@example.org", "layer submission - meta-angle"))
		if !strings.Contains(m.Body, "Summary:    "+summary) || strings.Contains(m.Body, "&lt;") || strings.Contains(m.Body, "&amp;") {
			t.Errorf("submission mail:\n%s", m.Body)
		}

		admin := e.client()
		admin.login("admin@example.org", adminPassword)
		noMarkup := func(where, body string) {
			t.Helper()
			for _, raw := range []string{"<linux/ioctl.h>", "<script>alert(1)</script>", "<jane@example.org>", "<Doe>", "<everything>", "<b>bold</b>"} {
				if strings.Contains(body, raw) {
					t.Errorf("%s shows %q unescaped", where, raw)
				}
			}
		}
		r := admin.get("/layerindex/review/meta-angle/")
		if r.code != 200 || !strings.Contains(r.body, htmlEscape(summary)) {
			t.Errorf("review page: %d, summary escaped: %v", r.code, strings.Contains(r.body, htmlEscape(summary)))
		}
		noMarkup("the review page", r.body)
		// The edit form shows the values escaped.
		r = admin.get("/layerindex/branch/master/edit/meta-angle/")
		if !strings.Contains(r.body, `value="`+htmlEscape(summary)+`"`) || !strings.Contains(r.body, `value="`+htmlEscape(mname)+`"`) {
			t.Error("the edit form does not show the values escaped")
		}
		noMarkup("the edit form", r.body)

		note := "See <https://example.org/new?a=1&b=2> for <linux/ioctl.h>."
		admin.get("/layerindex/layer/meta-angle/addnote/")
		if r := admin.post("/layerindex/layer/meta-angle/addnote/", url.Values{"text": {note}}); r.code != http.StatusSeeOther {
			t.Fatalf("note with < and >: %d %v", r.code, fieldErrors(r.body))
		}
		admin.get("/layerindex/review/meta-angle/")
		if r := admin.post("/layerindex/layer/meta-angle/publish/", nil); r.code != http.StatusSeeOther {
			t.Fatalf("publish: %d", r.code)
		}
		pub := e.sink.Wait(t, mailWait, "to the maintainers", mailtest.To("one@example.org", "meta-angle published"))
		if !strings.Contains(pub.Body, mname) {
			t.Errorf("publish mail lacks the maintainer's name as typed:\n%s", pub.Body)
		}

		for _, p := range []string{"/layerindex/branch/master/layer/meta-angle/", "/layerindex/layer/meta-angle/manage/"} {
			r := admin.get(p)
			if r.code != 200 {
				t.Fatalf("%s: %d", p, r.code)
			}
			noMarkup(p, r.body)
			want := `See &lt;<a href="https://example.org/new?a=1&amp;b=2" rel="nofollow noopener">https://example.org/new?a=1&amp;b=2</a>&gt; for &lt;linux/ioctl.h&gt;.`
			if !strings.Contains(r.body, want) {
				t.Errorf("%s: the note is not shown escaped with its link", p)
			}
		}
		if r := e.client().get("/layerindex/branch/master/layer/meta-angle/"); !strings.Contains(r.body, htmlEscape(summary)) ||
			!strings.Contains(r.body, htmlEscape("Maintained by Jane <jane@example.org>.")) {
			t.Error("the public layer page does not show the summary and description as text")
		}
		if r := e.client().get("/layerindex/branch/master/layers/"); !strings.Contains(r.body, htmlEscape(summary)) {
			t.Error("the layer list does not show the summary as text")
		}

		// A rejection reason reaches the mail as typed.
		sam.get("/layerindex/submit/")
		if r := sam.post("/layerindex/submit/", e.layerForm("meta-angle2")); r.code != http.StatusSeeOther {
			t.Fatalf("second submission: %d", r.code)
		}
		reason := "Please use <meta-foo> instead & see <https://example.org/why>."
		admin.get("/layerindex/review/meta-angle2/")
		if r := admin.post("/layerindex/layer/meta-angle2/reject/", url.Values{"reason": {reason}}); r.code != http.StatusSeeOther {
			t.Fatalf("reject: %d %v", r.code, fieldErrors(r.body))
		}
		rej := e.sink.Wait(t, mailWait, "about the rejection", mailtest.To("sam@example.org", "meta-angle2 not accepted"))
		if !strings.Contains(rej.Body, reason) {
			t.Errorf("rejection mail:\n%s", rej.Body)
		}

		// Account names and branch descriptions too.
		sam.get("/accounts/profile/")
		if r := sam.post("/accounts/profile/", url.Values{"name": {"Sam <the maintainer>"}}); r.code != http.StatusSeeOther {
			t.Fatalf("name with < and >: %d %v", r.code, fieldErrors(r.body))
		}
		if r := sam.get("/accounts/profile/"); !strings.Contains(r.body, htmlEscape("Sam <the maintainer>")) || strings.Contains(r.body, "<the maintainer>") {
			t.Error("the profile does not show the name escaped")
		}
		admin.get("/layerindex/admin/branches/")
		if r := admin.post("/layerindex/admin/branches/", url.Values{"name": {"kirkstone"}, "short_description": {"Yocto <4.0>"}}); r.code != http.StatusSeeOther {
			t.Fatalf("branch description with < and >: %d %v", r.code, fieldErrors(r.body))
		}
		if r := admin.get("/layerindex/admin/branches/"); !regexp.MustCompile(`Yocto &lt;4\.0&gt;`).MatchString(r.body) || strings.Contains(r.body, "<4.0>") {
			t.Error("the branch list does not show the description escaped")
		}
		if b, err := e.st.BranchByName(ctx, "kirkstone"); err != nil || b.ShortDescription != "Yocto <4.0>" {
			t.Errorf("stored branch: %+v %v", b, err)
		}
		if u, _ := e.st.UserByEmail(ctx, "sam@example.org"); u == nil || u.Name != "Sam <the maintainer>" {
			t.Errorf("stored name: %+v", u)
		}
	})
}

package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/store"
)

// errorFor returns the error shown next to a field: after its input and
// before the next field's.
func errorFor(body, field string) string {
	i := strings.LastIndex(body, `name="`+field+`"`)
	if i < 0 {
		return ""
	}
	rest := body[i+len(field)+7:]
	if j := strings.Index(rest, ` name="`); j >= 0 {
		rest = rest[:j]
	}
	if errs := fieldErrors(rest); len(errs) > 0 {
		return errs[0]
	}
	return ""
}

const script = `<script>alert(1)</script>`

// TestLayerFormBadInput: every field of the layer form with empty, too
// long and malformed input, and a duplicate name, gives an error next
// to that field, keeps the input (escaped), stores nothing and queues
// nothing.
func TestLayerFormBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		// The site's policy: https only, no private addresses (local
		// mirrors are for administrators, whom this user is not).
		e := newAcctEnv(t, d, envOpts{policy: &gitrepo.Policy{AllowLocal: true}})
		e.user("sub@example.org", "sub password", false)
		unpublished := e.layer("meta-unpublished", store.StatusNew, "x@example.org")
		c := e.client()
		c.login("sub@example.org", "sub password")
		c.get("/layerindex/submit/")
		// Periodic jobs come and go; a submission would queue these two.
		queued := func() int64 {
			var n int64
			e.conn.Gorm.Table("river_job").Where("kind IN ('send_mail', 'validate_layer')").Count(&n)
			return n
		}
		layers, jobs := e.count("layers"), queued()
		long := func(n int) string { return strings.Repeat("a", n) }

		cases := []struct {
			field, value string
			errField     string // where the error shows, when not field
		}{
			{"name", "", ""}, {"name", long(41), ""}, {"name", "Meta_Foo", ""}, {"name", "-meta", ""},
			{"name", "meta-", ""}, {"name", "meta--foo", ""}, {"name", script, ""}, {"name", "openembedded-core", ""},
			{"layer_type", "", ""}, {"layer_type", "Z", ""}, {"layer_type", "A", ""},
			{"summary", "", ""}, {"summary", long(201), ""}, {"summary", "tab\x01", ""},
			{"description", "", ""}, {"description", long(5001), ""},
			{"vcs_url", "", ""}, {"vcs_url", "https://example.org/" + long(250), ""}, {"vcs_url", "git@github.com:x/y.git", ""},
			{"vcs_url", "ftp://example.org/x.git", ""}, {"vcs_url", "https://user:pw@example.org/x.git", ""},
			{"vcs_url", "http://example.org/x.git", ""}, {"vcs_url", "https://127.0.0.1:8443/x.git", ""}, {"vcs_url", script, ""},
			{"vcs_subdir", "../etc", ""}, {"vcs_subdir", long(61), ""}, {"vcs_subdir", "a b", ""}, {"vcs_subdir", script, ""},
			{"actual_branch", "bad..name", ""}, {"actual_branch", "-x", ""}, {"actual_branch", long(81), ""}, {"actual_branch", script, ""},
			{"vcs_web_url", "javascript:alert(1)", ""}, {"vcs_web_url", "not a url", ""}, {"vcs_web_url", "https://x.org/" + long(250), ""},
			{"vcs_web_url", script, ""},
			{"vcs_web_tree_base_url", "ftp://x.org/%path%", ""}, {"vcs_web_file_base_url", "javascript:alert(1)//%path%", ""},
			{"vcs_web_commit_url", script, ""},
			{"usage_url", "../secret", ""}, {"usage_url", "javascript:alert(1)", ""}, {"usage_url", long(256), ""},
			{"mailing_list_url", "mailto:not an email", ""}, {"mailing_list_url", "javascript:x", ""},
			{"dep", "abc", ""}, {"dep", "999999", ""}, {"dep", int64s(unpublished.ID), ""},
			{"web_preset", "bogus", ""},
			{"m-0-name", "", ""}, {"m-0-name", long(256), ""},
			{"m-0-email", "", ""}, {"m-0-email", "not-an-email", ""}, {"m-0-email", "a@b", ""},
			{"m-0-email", long(250) + "@example.org", ""}, {"m-0-email", "Name <x@y.org>", ""}, {"m-0-email", "<x@y.org>", ""},
			{"m-0-resp", long(201), ""},
			{"m-1-email", "ONE@example.org", ""}, // the same maintainer twice
		}
		valid := func(name string) url.Values {
			f := e.layerForm(name)
			f.Set("vcs_url", "https://git.example.org/"+name+".git")
			return f
		}
		for _, tc := range cases {
			form := valid("meta-new")
			if tc.field == "web_preset" || strings.HasPrefix(tc.field, "vcs_web_") {
				form.Del("web_preset")
			}
			form.Set(tc.field, tc.value)
			r := c.post("/layerindex/submit/", form)
			errField := tc.field
			if tc.errField != "" {
				errField = tc.errField
			}
			if r.code != http.StatusUnprocessableEntity {
				t.Errorf("%s=%.30q: status %d, want 422", tc.field, tc.value, r.code)
				continue
			}
			if msg := errorFor(r.body, errField); msg == "" {
				t.Errorf("%s=%.30q: no error next to %s; errors %q", tc.field, tc.value, errField, fieldErrors(r.body))
			}
			if strings.Contains(r.body, script) {
				t.Errorf("%s=%.30q: the page contains unescaped script", tc.field, tc.value)
			}
			if tc.value != "" && len(tc.value) < 100 && tc.field != "dep" && !strings.Contains(r.body, `value="`+htmlEscape(tc.value)+`"`) &&
				!strings.Contains(r.body, ">"+htmlEscape(tc.value)+"</textarea>") && tc.field != "layer_type" && tc.field != "web_preset" {
				t.Errorf("%s=%.30q: the input was not kept", tc.field, tc.value)
			}
		}
		// Local repositories are for administrators, whatever the policy.
		for _, u := range []string{e.repo, "file://" + e.repo, "../../..", "file:///etc/"} {
			form := valid("meta-new")
			form.Set("vcs_url", u)
			if r := c.post("/layerindex/submit/", form); r.code != http.StatusUnprocessableEntity ||
				!strings.Contains(errorFor(r.body, "vcs_url"), "only be set by administrators") {
				t.Errorf("vcs_url=%q from a user: %d %q", u, r.code, errorFor(r.body, "vcs_url"))
			}
		}
		// No maintainer at all.
		form := valid("meta-new")
		for _, k := range []string{"m-0-name", "m-0-email", "m-0-resp", "m-1-name", "m-1-email"} {
			form.Del(k)
		}
		if r := c.post("/layerindex/submit/", form); r.code != http.StatusUnprocessableEntity || !strings.Contains(r.body, "At least one active maintainer") {
			t.Errorf("no maintainers: %d %v", r.code, fieldErrors(r.body))
		}
		if e.count("layers") != layers || queued() != jobs {
			t.Fatalf("bad input stored something: layers %d→%d, jobs %d→%d", layers, e.count("layers"), jobs, queued())
		}
		// And the valid form goes through.
		if r := c.post("/layerindex/submit/", valid("meta-new")); r.code != http.StatusSeeOther {
			t.Fatalf("valid form after the bad ones: %d %v", r.code, fieldErrors(r.body))
		}
	})
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&#34;", "'", "&#39;").Replace(s)
}

// TestOtherFormsBadInput: account, note, reject and branch forms with bad
// values answer 422 with the error at the field and store nothing.
func TestOtherFormsBadInput(t *testing.T) {
	e := newAcctEnv(t, db.SQLite, envOpts{})
	e.layer("meta-x", store.StatusNew, "admin@example.org")
	anon, admin := e.client(), e.client()
	admin.login("admin@example.org", adminPassword)
	long := strings.Repeat("b", 300)
	cases := []struct {
		c          *client
		page, post string
		form       url.Values
		field      string
	}{
		{anon, "/accounts/register/", "", url.Values{"email": {""}, "password": {"good password"}, "password2": {"good password"}}, "email"},
		{anon, "/accounts/register/", "", url.Values{"email": {"not-mail"}, "password": {"good password"}, "password2": {"good password"}}, "email"},
		{anon, "/accounts/register/", "", url.Values{"email": {long + "@x.org"}, "password": {"good password"}, "password2": {"good password"}}, "email"},
		{anon, "/accounts/register/", "", url.Values{"email": {script + "@x.org"}, "password": {"good password"}, "password2": {"good password"}}, "email"},
		{anon, "/accounts/register/", "", url.Values{"email": {"a@x.org"}, "name": {long}, "password": {"good password"}, "password2": {"good password"}}, "name"},
		{anon, "/accounts/register/", "", url.Values{"email": {"a@x.org"}, "password": {"short"}, "password2": {"short"}}, "password"},
		{anon, "/accounts/register/", "", url.Values{"email": {"a@x.org"}, "password": {strings.Repeat("p", 257)}, "password2": {strings.Repeat("p", 257)}}, "password"},
		{anon, "/accounts/register/", "", url.Values{"email": {"a@x.org"}, "password": {"good password"}, "password2": {"other password"}}, "password2"},
		{anon, "/accounts/login/", "", url.Values{"email": {""}, "password": {"x"}}, "email"},
		{anon, "/accounts/login/", "", url.Values{"email": {"a@x.org"}, "password": {""}}, "password"},
		{anon, "/accounts/password_reset/", "", url.Values{"email": {"bad"}}, "email"},
		{admin, "/layerindex/layer/meta-x/addnote/", "", url.Values{"text": {""}}, "text"},
		{admin, "/layerindex/layer/meta-x/addnote/", "", url.Values{"text": {strings.Repeat("n", 2001)}}, "text"},
		{admin, "/layerindex/review/meta-x/", "/layerindex/layer/meta-x/reject/", url.Values{"reason": {""}}, "reason"},
		{admin, "/layerindex/review/meta-x/", "/layerindex/layer/meta-x/reject/", url.Values{"reason": {strings.Repeat("r", 2001)}}, "reason"},
		{admin, "/layerindex/admin/branches/", "", url.Values{"name": {""}}, "name"},
		{admin, "/layerindex/admin/branches/", "", url.Values{"name": {"bad name!"}}, "name"},
		{admin, "/layerindex/admin/branches/", "", url.Values{"name": {"master"}}, "name"},
		{admin, "/layerindex/admin/branches/", "", url.Values{"name": {"ok"}, "sort_priority": {"abc"}}, "sort_priority"},
	}
	users, notes, branches := e.count("users"), e.count("layer_notes"), e.count("branches")
	for _, tc := range cases {
		tc.c.get(tc.page)
		post := tc.post
		if post == "" {
			post = tc.page
		}
		r := tc.c.post(post, tc.form)
		if r.code != http.StatusUnprocessableEntity {
			t.Errorf("%s %v: %d, want 422", post, tc.form, r.code)
			continue
		}
		if errorFor(r.body, tc.field) == "" {
			t.Errorf("%s %s: no error next to the field; errors %q", post, tc.field, fieldErrors(r.body))
		}
		if strings.Contains(r.body, script) {
			t.Errorf("%s: unescaped script in the page", post)
		}
	}
	if e.count("users") != users || e.count("layer_notes") != notes || e.count("branches") != branches {
		t.Error("bad input stored something")
	}
	if _, err := e.st.LayerByName(t.Context(), "meta-x"); err != nil {
		t.Error("a bad reject removed the layer")
	}
}

// TestBadRequestsNever500: junk in query strings, paths and bodies gets a
// 4xx (or is ignored), never a 500.
func TestBadRequestsNever500(t *testing.T) {
	e := newAcctEnv(t, db.SQLite, envOpts{})
	e.layer("meta-x", store.StatusPublished, "admin@example.org")
	admin := e.client()
	admin.login("admin@example.org", adminPassword)
	anon := e.client()
	gets := map[string]int{
		"/layerindex/history/?page=abc":                               400,
		"/layerindex/history/?page=-5":                                400,
		"/layerindex/history/?page=99999999999999999999999":           400,
		"/layerindex/history/?layer=%3Cscript%3E":                     404,
		"/layerindex/admin/outbox/?page=%ff":                          400,
		"/layerindex/layer/meta-x/update/?job=abc":                    404,
		"/layerindex/layer/meta-x/update/?job=99999999999999999999":   404,
		"/layerindex/layer/meta-x/update/?job=1":                      404,
		"/layerindex/layer/" + strings.Repeat("x", 3000) + "/manage/": 404,
		"/layerindex/layer/meta-x/editnote/abc/":                      404,
		"/layerindex/layer/meta-x/editnote/99999999999999999999999/":  404,
		"/layerindex/branch/nope/edit/meta-x/":                        404,
		"/layerindex/review/nope/":                                    404,
	}
	for p, want := range gets {
		if r := admin.get(p); r.code != want {
			t.Errorf("GET %s: %d, want %d", p, r.code, want)
		}
	}
	for p, want := range map[string]int{
		"/accounts/login/?next=javascript:alert(1)":          200,
		"/accounts/verify/%00/":                              400,
		"/accounts/reset/" + strings.Repeat("t", 5000) + "/": 404,
		"/accounts/verify/abc/":                              404,
	} {
		if r := anon.get(p); r.code != want {
			t.Errorf("GET %s: %d, want %d", p, r.code, want)
		}
	}
	if r := anon.get("/accounts/login/?next=javascript:alert(1)"); strings.Contains(r.body, "javascript:") {
		t.Error("an unsafe next parameter is kept")
	}
	// Malformed and oversized bodies.
	req, _ := http.NewRequest(http.MethodPost, e.ts.URL+"/layerindex/submit/", strings.NewReader("%zz=%zz&csrf_token="+admin.csrf))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if r := admin.do(req); r.code >= 500 {
		t.Errorf("malformed form body: %d", r.code)
	}
	big := url.Values{"csrf_token": {admin.csrf}, "description": {strings.Repeat("d", 400<<10)}}
	if r := admin.postRaw("/layerindex/submit/", big); r.code != http.StatusRequestEntityTooLarge && r.code != http.StatusForbidden {
		t.Errorf("oversized form: %d, want 413 (or 403)", r.code)
	}
	admin.get("/layerindex/admin/")
	if r := admin.post("/layerindex/layer/meta-x/addbranch/", url.Values{"branch": {"abc"}}); r.code != http.StatusBadRequest {
		t.Errorf("addbranch with a junk id: %d", r.code)
	}
	if r := admin.post("/layerindex/admin/branches/abc/", nil); r.code != http.StatusNotFound {
		t.Errorf("branch update with a junk id: %d", r.code)
	}
}

// TestStaticAndErrorsWithSession: static files and error pages work with a
// session cookie (the session is not loaded for static files), and a POST
// outside the site's forms is refused, not a crash.
func TestStaticAndErrorsWithSession(t *testing.T) {
	e := newAcctEnv(t, db.SQLite, envOpts{})
	c := e.client()
	c.login("admin@example.org", adminPassword)
	for p, want := range map[string]int{"/static/css/site.css": 200, "/static/css/accounts.css": 200, "/static/js/layerform.js": 200,
		"/static/nope.css": 404, "/nowhere": 404, "/layerindex/api/nowhere/": 404} {
		if r := c.get(p); r.code != want {
			t.Errorf("GET %s with a session: %d, want %d", p, r.code, want)
		}
	}
	if r := c.post("/static/css/site.css", nil); r.code >= 500 {
		t.Errorf("POST to a static file: %d", r.code)
	}
	if r := c.get("/nowhere"); !strings.Contains(r.body, "Log out") {
		t.Error("the error page lost the account area")
	}
}

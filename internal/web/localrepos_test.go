package web_test

import (
	"net/http"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/gitrepo"
	"layerindex/internal/store"
)

// TestLocalRepositoriesOnlyForAdministrators is issue 11 #4 through the
// web front door, on a site that allows local repositories: anonymous
// submitters and maintainers editing their layer cannot set a local path
// or file:// URL, administrators can; and the IPv6 spellings of private
// addresses (issue 11 #3) are refused to everyone.
func TestLocalRepositoriesOnlyForAdministrators(t *testing.T) {
	e := newAcctEnv(t, db.SQLite, envOpts{policy: &gitrepo.Policy{AllowLocal: true}})
	local := []string{e.repo, "file://" + e.repo, "file:///etc/", "../../..", "/etc"}
	hostile := []string{"https://[::127.0.0.1]/x.git", "https://[::ffff:0:7f00:1]/x.git", "https://[::a9fe:a9fe]/x.git",
		"https://127.1/x.git", "https://0x7f000001/x.git", "https://" + strings.Repeat("a", 250) + ".org/x"}

	anon := e.client()
	r := anon.get("/layerindex/submit/")
	for _, u := range append(local, hostile...) {
		form := e.layerForm("meta-anon")
		form.Set("vcs_url", u)
		form.Set("challenge", answer(t, r.body))
		r = anon.post("/layerindex/submit/", form)
		if r.code != http.StatusUnprocessableEntity || errorFor(r.body, "vcs_url") == "" {
			t.Errorf("anonymous vcs_url=%q: %d %q", u, r.code, errorFor(r.body, "vcs_url"))
		}
	}

	pub := e.layer("meta-pub", store.StatusPublished, "maint@example.org")
	if err := e.conn.Gorm.Model(&store.Layer{}).Where("id = ?", pub.ID).Update("vcs_url", "https://git.example.org/meta-pub.git").Error; err != nil {
		t.Fatal(err)
	}
	e.user("maint@example.org", "maint password 1", false)
	maint := e.client()
	maint.login("maint@example.org", "maint password 1")
	maint.get("/layerindex/branch/master/edit/meta-pub/")
	for _, u := range append(local, hostile...) {
		form := e.layerForm("meta-pub")
		form.Del("web_preset")
		form.Set("vcs_url", u)
		if r := maint.post("/layerindex/branch/master/edit/meta-pub/", form); r.code != http.StatusUnprocessableEntity || errorFor(r.body, "vcs_url") == "" {
			t.Errorf("maintainer's vcs_url=%q: %d %q", u, r.code, errorFor(r.body, "vcs_url"))
		}
	}
	if l := e.layerByName("meta-pub"); l.VCSURL != "https://git.example.org/meta-pub.git" {
		t.Fatalf("the maintainer changed the URL to %q", l.VCSURL)
	}
	if n := e.count("layers"); n != 2 {
		t.Fatalf("%d layers: a refused submission was stored", n)
	}

	admin := e.client()
	admin.login("admin@example.org", adminPassword)
	admin.get("/layerindex/branch/master/edit/meta-pub/")
	form := e.layerForm("meta-pub")
	form.Del("web_preset")
	form.Set("vcs_url", "file://"+e.repo)
	form.Set("m-0-email", "maint@example.org")
	if r := admin.post("/layerindex/branch/master/edit/meta-pub/", form); r.code != http.StatusSeeOther {
		t.Errorf("administrator's local mirror: %d %q", r.code, errorFor(r.body, "vcs_url"))
	}
	// The maintainer may still save the layer when the mirror's URL is
	// left as it is, and still may not change it to another local one.
	maint.get("/layerindex/branch/master/edit/meta-pub/")
	form.Set("summary", "Saved by its maintainer")
	if r := maint.post("/layerindex/branch/master/edit/meta-pub/", form); r.code != http.StatusSeeOther {
		t.Errorf("maintainer's save of a layer on a local mirror: %d %q", r.code, errorFor(r.body, "vcs_url"))
	}
	if l := e.layerByName("meta-pub"); l.Summary != "Saved by its maintainer" || l.VCSURL != "file://"+e.repo {
		t.Errorf("after the maintainer's save: %q at %q", l.Summary, l.VCSURL)
	}
	form.Set("vcs_url", e.repo)
	if r := maint.post("/layerindex/branch/master/edit/meta-pub/", form); r.code != http.StatusUnprocessableEntity || errorFor(r.body, "vcs_url") == "" {
		t.Errorf("maintainer's change to another local path: %d", r.code)
	}
	admin.get("/layerindex/submit/")
	form = e.layerForm("meta-mirror")
	form.Set("vcs_url", e.repo)
	if r := admin.post("/layerindex/submit/", form); r.code != http.StatusSeeOther {
		t.Errorf("administrator's submission of a local mirror: %d %q", r.code, errorFor(r.body, "vcs_url"))
	}
	for _, u := range hostile {
		form.Set("vcs_url", u)
		if r := admin.post("/layerindex/submit/", form); r.code != http.StatusUnprocessableEntity {
			t.Errorf("administrator's vcs_url=%q: %d", u, r.code)
		}
	}
}

package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestLayerPageTellsTheRun: the public layer page shows the actions to
// whoever may use them, and what the layer's update is doing — after an
// edit of the repository URL (issue 10 #4) it says the update is queued,
// then that it succeeded — never "not indexed yet" with nothing on the way.
func TestLayerPageTellsTheRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		// Without the refresh at start: a run it queued first would take
		// in the edit's (one run per layer branch), under its own origin.
		e := newAcctEnv(t, d, envOpts{noStartRefresh: true})
		l := e.layer("meta-shown", store.StatusPublished, "maint@example.org")
		e.user("maint@example.org", "maint password 1", false)
		e.user("other@example.org", "other password 1", false)
		page := "/layerindex/branch/master/layer/meta-shown/"

		anon := e.client()
		if r := anon.get(page); r.code != 200 || strings.Contains(r.body, "Index now") || strings.Contains(r.body, "/manage/") {
			t.Fatalf("anonymous layer page: %d, shows actions: %v", r.code, strings.Contains(r.body, "Index now"))
		}
		other := e.client()
		other.login("other@example.org", "other password 1")
		if r := other.get(page); strings.Contains(r.body, "Index now") {
			t.Error("a user who does not maintain the layer sees its actions")
		}
		m := e.client()
		m.login("maint@example.org", "maint password 1")
		r := m.get(page)
		for _, want := range []string{"/layerindex/branch/master/edit/meta-shown/", "/layerindex/layer/meta-shown/manage/",
			"/layerindex/layer/meta-shown/addnote/", `action="/layerindex/layer/meta-shown/update/"`, `name="csrf_token"`} {
			if !strings.Contains(r.body, want) {
				t.Errorf("the maintainer's layer page lacks %q", want)
			}
		}

		// The maintainer edits the repository URL (from the local mirror an
		// administrator set to the same repository over HTTP): the update
		// it needs is queued at once.
		edit := e.layerForm("meta-shown")
		edit.Del("web_preset")
		edit.Set("m-0-email", "maint@example.org")
		m.get("/layerindex/branch/master/edit/meta-shown/")
		if r := m.post("/layerindex/branch/master/edit/meta-shown/", edit); r.code != http.StatusSeeOther {
			t.Fatalf("edit: %d %v", r.code, fieldErrors(r.body))
		}
		if r := anon.get(page); strings.Contains(r.body, "no update is queued") {
			t.Errorf("after the URL edit the page says nothing is queued:\n%s", r.body)
		}
		var runs []store.LayerUpdate
		e.conn.Gorm.Where("layer_id = ? AND origin = ?", l.ID, store.OriginMaintainer).Find(&runs)
		if len(runs) != 1 {
			t.Fatalf("runs the URL edit queued: %+v", runs)
		}
		waitFor(t, "the run to end", func() bool {
			var lu store.LayerUpdate
			e.conn.Gorm.Where("id = ?", runs[0].ID).Take(&lu)
			return lu.Final()
		})
		r = anon.get(page)
		if strings.Contains(r.body, "Not indexed yet") || !strings.Contains(r.body, "hello") {
			t.Errorf("after the run, the page:\n%s", r.body)
		}
		r = anon.get("/layerindex/layerupdate/" + int64s(runs[0].ID) + "/")
		if r.code != 200 || !strings.Contains(r.body, "requested by a maintainer") || strings.Contains(r.body, `http-equiv="refresh"`) {
			t.Errorf("run page: %d\n%s", r.code, r.body)
		}
	})
}

// TestReviewWarnsOfFailedCheck: the review page says when the repository
// check failed, and why.
func TestReviewWarnsOfFailedCheck(t *testing.T) {
	e := newAcctEnv(t, db.SQLite, envOpts{})
	l := e.layer("meta-broken", store.StatusNew, "x@example.org")
	ctx := context.Background()
	if err := e.st.SetValidation(ctx, l.ID, "failed", "ERROR: repository https://x.example.org/x.git not found\n"); err != nil {
		t.Fatal(err)
	}
	admin := e.client()
	admin.login("admin@example.org", adminPassword)
	r := admin.get("/layerindex/review/meta-broken/")
	if r.code != 200 || !strings.Contains(r.body, "The repository check failed") || !strings.Contains(r.body, "not found") ||
		!strings.Contains(r.body, "Software") {
		t.Errorf("review page of a failed check: %d\n%s", r.code, r.body)
	}
	if err := e.st.SetValidation(ctx, l.ID, "retrying", "ERROR: dial tcp: lookup x.example.org: no such host\n"); err != nil {
		t.Fatal(err)
	}
	if r := admin.get("/layerindex/review/meta-broken/"); !strings.Contains(r.body, "The repository check is failing") || !strings.Contains(r.body, "no such host") {
		t.Errorf("review page while retrying:\n%s", r.body)
	}
}

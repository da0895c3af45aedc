package web_test

import (
	"context"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"layerindex/internal/comparison"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/repocreds"
	"layerindex/internal/store"
)

var roles = []string{"anonymous", "user", "other maintainer", "maintainer", "admin"}

// want lists the expected status per role, in the order of roles.
type want [5]int

const (
	ok   = http.StatusOK
	see  = http.StatusSeeOther
	no   = http.StatusForbidden
	bad  = http.StatusUnprocessableEntity
	gone = http.StatusNotFound
)

// TestAuthorizationMatrix sends every state-changing route, and the pages
// behind a permission, as each role, and checks the exact status. Every
// role gets its own target layers, so a success in one row cannot hide a
// refusal in another.
func TestAuthorizationMatrix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		e := newAcctEnv(t, d, envOpts{})
		e.user("user@example.org", "user password", false)
		e.user("other@example.org", "other password", false)
		e.user("maint@example.org", "maint password", false)
		e.layer("other-layer", store.StatusPublished, "other@example.org")
		scarthgap := &store.Branch{Name: "scarthgap", UpdatesEnabled: false}
		if err := e.st.CreateBranch(ctx, scarthgap); err != nil {
			t.Fatal(err)
		}
		master, _ := e.st.BranchByName(ctx, "master")
		// A comparison with one package per role (matched against an
		// empty master: all unknown).
		var cmpPkgs []comparison.Package
		for i := range roles {
			cmpPkgs = append(cmpPkgs, comparison.Package{Name: "pkg" + itoa(i)})
		}
		if _, err := comparison.New(e.conn.Gorm).Import(ctx, comparison.CLI, comparison.ImportRequest{Branch: "cmp", Format: comparison.FormatCSV, Packages: cmpPkgs}); err != nil {
			t.Fatal(err)
		}
		for i := range roles {
			if _, err := comparison.New(e.conn.Gorm).Import(ctx, comparison.CLI, comparison.ImportRequest{Branch: "gone-" + itoa(i), Format: comparison.FormatCSV, Packages: cmpPkgs[:1]}); err != nil {
				t.Fatal(err)
			}
		}
		cmpByName := map[string]store.ComparisonPackage{}
		if ci, err := e.st.ComparisonBranchByName(ctx, "cmp"); err == nil {
			ps, _ := e.st.ComparisonPackages(ctx, ci.Branch.ID)
			for _, p := range ps {
				cmpByName[p.Name] = p
			}
		}
		passwords := map[string]string{"user": "user password", "other maintainer": "other password",
			"maintainer": "maint password", "admin": adminPassword}
		emails := map[string]string{"user": "user@example.org", "other maintainer": "other@example.org",
			"maintainer": "maint@example.org", "admin": "admin@example.org"}

		for i, role := range roles {
			c := e.client()
			if role != "anonymous" {
				c.login(emails[role], passwords[role])
			}
			sfx := itoa(i)
			pub := e.layer("pub-"+sfx, store.StatusPublished, "MAINT@example.org")
			e.layer("new-"+sfx, store.StatusNew, "maint@example.org")
			e.layer("rej-"+sfx, store.StatusNew, "maint@example.org")
			e.layer("del-"+sfx, store.StatusNew, "maint@example.org")
			var notes [2]store.LayerNote
			for j := range notes {
				notes[j] = store.LayerNote{LayerID: pub.ID, Text: "note"}
				if err := e.st.SaveLayerNote(ctx, &notes[j]); err != nil {
					t.Fatal(err)
				}
			}
			editForm := e.layerForm(pub.Name)
			editForm.Set("m-0-email", "maint@example.org")
			editForm.Del("web_preset")
			set := &store.LayerSet{Name: "set-" + sfx, BranchID: master.ID, Published: true}
			if err := e.st.SaveLayerSet(ctx, set, []int64{pub.ID}); err != nil {
				t.Fatal(err)
			}
			doomed := &store.LayerSet{Name: "doomed-" + sfx, BranchID: master.ID}
			if err := e.st.SaveLayerSet(ctx, doomed, []int64{pub.ID}); err != nil {
				t.Fatal(err)
			}
			setForm := url.Values{"name": {"new-set-" + sfx}, "branch": {int64s(master.ID)}, "layers": {"pub-" + sfx}, "published": {"on"}}
			doomedCred := "https://git.example.com/doomed-" + sfx + "/"
			if err := e.creds.Set(ctx, repocreds.Credential{Prefix: doomedCred, Kind: repocreds.KindToken, Secret: "token " + sfx}); err != nil {
				t.Fatal(err)
			}
			credForm := url.Values{"prefix": {"https://git.example.com/new-" + sfx + "/"}, "kind": {"token"}, "secret": {"new token"}}
			submit := e.layerForm("sub-" + sfx)
			if role == "anonymous" {
				submit.Set("challenge", answer(t, c.get("/layerindex/submit/").body))
			}

			pages := []struct {
				path string
				want want
			}{
				{"/layerindex/review/", want{see, no, no, no, ok}},
				{"/layerindex/review/new-" + sfx + "/", want{see, no, no, no, ok}},
				{"/layerindex/layer/pub-" + sfx + "/manage/", want{see, no, no, ok, ok}},
				{"/layerindex/branch/master/edit/pub-" + sfx + "/", want{see, no, no, ok, ok}},
				{"/layerindex/layer/pub-" + sfx + "/addnote/", want{see, no, no, ok, ok}},
				{"/layerindex/layer/del-" + sfx + "/delete/", want{see, no, no, no, ok}},
				{"/layerindex/history/", want{see, no, no, no, ok}},
				{"/layerindex/admin/", want{see, no, no, no, ok}},
				{"/layerindex/admin/layers/", want{see, no, no, no, ok}},
				{"/layerindex/admin/branches/", want{see, no, no, no, ok}},
				{"/layerindex/admin/layersets/", want{see, no, no, no, ok}},
				{"/layerindex/admin/layersets/" + int64s(set.ID) + "/", want{see, no, no, no, ok}},
				{"/layerindex/admin/outbox/", want{see, no, no, no, ok}},
				{"/layerindex/admin/credentials/", want{see, no, no, no, ok}},
				{"/accounts/profile/", want{see, ok, ok, ok, ok}},
				{"/layerindex/submit/", want{ok, ok, ok, ok, ok}},
				{"/layerindex/bulkchange/", want{see, ok, ok, ok, ok}},
				{"/layerindex/admin/comparison/", want{see, no, no, no, ok}},
				{"/layerindex/comparison/recipe/" + int64s(cmpByName["pkg"+sfx].ID) + "/", want{ok, ok, ok, ok, ok}},
			}
			for _, p := range pages {
				if r := c.get(p.path); r.code != p.want[i] {
					t.Errorf("%s GET %s: %d, want %d", role, p.path, r.code, p.want[i])
				}
			}

			posts := []struct {
				path string
				form url.Values
				want want
			}{
				{"/layerindex/submit/", submit, want{see, see, see, see, see}},
				{"/layerindex/branch/master/edit/pub-" + sfx + "/", editForm, want{no, no, no, see, see}},
				{"/layerindex/layer/pub-" + sfx + "/addnote/", url.Values{"text": {"a note"}}, want{no, no, no, see, see}},
				{"/layerindex/layer/pub-" + sfx + "/editnote/" + int64s(notes[0].ID) + "/", url.Values{"text": {"edited"}}, want{no, no, no, see, see}},
				{"/layerindex/layer/pub-" + sfx + "/deletenote/" + int64s(notes[1].ID) + "/", nil, want{no, no, no, see, see}},
				{"/layerindex/layer/pub-" + sfx + "/update/", nil, want{no, no, no, see, see}},
				{"/layerindex/layer/pub-" + sfx + "/masterforcompatible/", url.Values{"on": {"on"}}, want{no, no, no, see, see}},
				{"/layerindex/layer/pub-" + sfx + "/addbranch/", url.Values{"branch": {int64s(scarthgap.ID)}}, want{no, no, no, no, see}},
				{"/layerindex/layer/new-" + sfx + "/publish/", nil, want{no, no, no, no, see}},
				{"/layerindex/layer/rej-" + sfx + "/reject/", url.Values{"reason": {"no"}}, want{no, no, no, no, see}},
				{"/layerindex/layer/del-" + sfx + "/delete/", nil, want{no, no, no, no, see}},
				{"/layerindex/admin/branches/", url.Values{"name": {"branch-" + sfx}, "updates_enabled": {"on"}}, want{no, no, no, no, see}},
				{"/layerindex/admin/branches/" + int64s(master.ID) + "/", url.Values{"updates_enabled": {"on"}, "sort_priority": {"1"}}, want{no, no, no, no, see}},
				{"/layerindex/admin/layersets/", setForm, want{no, no, no, no, see}},
				{"/layerindex/admin/layersets/" + int64s(set.ID) + "/", url.Values{"name": {"set-" + sfx}, "branch": {int64s(master.ID)}, "layers": {"pub-" + sfx}, "description": {"edited"}}, want{no, no, no, no, see}},
				{"/layerindex/admin/layersets/" + int64s(doomed.ID) + "/delete/", nil, want{no, no, no, no, see}},
				{"/layerindex/admin/credentials/", credForm, want{no, no, no, no, see}},
				{"/layerindex/admin/credentials/remove/", url.Values{"prefix": {doomedCred}}, want{no, no, no, no, see}},
				{"/accounts/profile/", url.Values{"name": {"Someone"}}, want{no, see, see, see, see}},
				{"/accounts/email/", url.Values{"email": {"new-" + sfx + "@example.org"}, "current": {passwords[role]}}, want{no, see, see, see, see}},
				{"/accounts/password_change/", url.Values{"current": {passwords[role]}, "password": {"changed password"}, "password2": {"changed password"}}, want{no, see, see, see, see}},
				{"/accounts/delete/", url.Values{"current": {"not the password"}}, want{no, bad, bad, bad, bad}},
				{"/layerindex/bulkchange/", url.Values{"name": {"changes " + sfx}}, want{no, see, see, see, see}},
				{"/layerindex/comparison/select/" + int64s(cmpByName["pkg"+sfx].ID) + "/", url.Values{"cover_status": {"O"}, "cover_comment": {"not needed"}}, want{no, no, no, no, see}},
				{"/layerindex/admin/comparison/cmp/match/", nil, want{no, no, no, no, see}},
				{"/layerindex/admin/comparison/gone-" + sfx + "/delete/", nil, want{no, no, no, no, see}},
				{"/layerindex/admin/comparison/", url.Values{"branch": {"cmp"}, "format": {"csv"}}, want{no, no, no, no, bad}}, // no file
				{"/accounts/logout/", nil, want{see, see, see, see, see}},
			}
			for _, p := range posts {
				if r := c.post(p.path, p.form); r.code != p.want[i] {
					t.Errorf("%s POST %s: %d, want %d %v", role, p.path, r.code, p.want[i], fieldErrors(r.body))
				}
			}
			// What the refusals left alone.
			if role != "admin" {
				creds, _ := e.creds.List(ctx)
				for _, cr := range creds {
					if cr.Prefix == credForm.Get("prefix") {
						t.Errorf("%s set a credential", role)
					}
				}
				if err := e.creds.Remove(ctx, doomedCred); err != nil {
					t.Errorf("%s: the credential %s was removed (%v)", role, doomedCred, err)
				}
				if l, err := e.st.LayerByName(ctx, "new-"+sfx); err != nil || l.Status != store.StatusNew {
					t.Errorf("%s: new-%s published or gone", role, sfx)
				}
				if _, err := e.st.LayerByName(ctx, "del-"+sfx); err != nil {
					t.Errorf("%s: del-%s deleted", role, sfx)
				}
			}
			if _, err := e.st.ComparisonBranchByName(ctx, "gone-"+sfx); (err == nil) == (role == "admin") {
				t.Errorf("%s: comparison gone-%s deleted: %v", role, sfx, err)
			}
			if p, _ := e.st.ComparisonPackage(ctx, cmpByName["pkg"+sfx].ID); (p.CoverStatus == store.CoverObsolete) != (role == "admin") {
				t.Errorf("%s: the cover of pkg%s is %s", role, sfx, p.CoverStatus)
			}
			sets, err := e.st.LayerSets(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			found := map[string]store.LayerSet{}
			for _, ls := range sets {
				found[ls.Name] = ls
			}
			_, added := found["new-set-"+sfx]
			_, kept := found["doomed-"+sfx]
			if edited := found["set-"+sfx].Description == "edited"; added != (role == "admin") || kept == (role == "admin") || edited != (role == "admin") {
				t.Errorf("%s: layer set added %v, deleted %v, edited %v", role, added, !kept, edited)
			}
			if on := e.layerByName("pub-" + sfx).MasterForCompatible; on != (role == "maintainer" || role == "admin") {
				t.Errorf("%s: master for compatible releases %v", role, on)
			}
			if role != "maintainer" && role != "admin" {
				if l := e.layerByName("pub-" + sfx); l.Summary != "Summary of pub-"+sfx {
					t.Errorf("%s: pub-%s edited", role, sfx)
				}
			}
		}
	})
}

// TestEveryPostNeedsCSRF sends every POST route the server has (but the
// read-only API) without a token, and with a wrong one, as an
// administrator and anonymously: 403, and nothing changes.
func TestEveryPostNeedsCSRF(t *testing.T) {
	e := newAcctEnv(t, db.SQLite, envOpts{})
	ctx := context.Background()
	e.layer("target", store.StatusNew, "maint@example.org")
	before := e.count("layers")
	note := store.LayerNote{LayerID: e.layerByName("target").ID, Text: "keep"}
	e.st.SaveLayerNote(ctx, &note)
	admin, anon := e.client(), e.client()
	admin.login("admin@example.org", adminPassword)
	anon.get("/accounts/login/") // has a session and a token, which it will not send

	var posts []string
	for _, r := range e.srv.Routes() {
		// The JSON API is read-only, cookie-free and exempt (it answers
		// POST with its own 405).
		// Webhooks are cookie-free too: the layer's secret authenticates
		// them (TestPushWebhooks).
		if r.Method == http.MethodPost && !strings.HasPrefix(r.Path, "/layerindex/api/") && !strings.HasPrefix(r.Path, "/layerindex/hooks/") {
			p := strings.NewReplacer(":name", "target", ":branch", "master", ":id", int64s(note.ID), ":token", "tok").Replace(r.Path)
			posts = append(posts, p)
		}
	}
	sort.Strings(posts)
	if len(posts) < 20 {
		t.Fatalf("only %d POST routes found: %v", len(posts), posts)
	}
	for _, p := range posts {
		for who, c := range map[string]*client{"admin": admin, "anonymous": anon} {
			form := e.layerForm("target")
			form.Set("reason", "r")
			form.Set("text", "changed")
			if r := c.postRaw(p, form); r.code != http.StatusForbidden {
				t.Errorf("%s POST %s without a token: %d, want 403", who, p, r.code)
			}
			form.Set("csrf_token", "forged")
			if r := c.postRaw(p, form); r.code != http.StatusForbidden {
				t.Errorf("%s POST %s with a wrong token: %d, want 403", who, p, r.code)
			}
		}
	}
	if l := e.layerByName("target"); l.Status != store.StatusNew || e.count("layers") != before {
		t.Errorf("a POST without a token changed layers")
	}
	if n, _ := e.st.LayerNote(ctx, note.LayerID, note.ID); n.Text != "keep" {
		t.Errorf("a POST without a token changed a note")
	}
	if r := admin.get("/accounts/profile/"); r.code != http.StatusOK {
		t.Errorf("the admin was logged out by a forged POST: %d", r.code)
	}
}

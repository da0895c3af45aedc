package catalog_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/store"
)

// TestLocalRepositoriesForAdministrators is issue 11 #4: local paths and
// file:// URLs read the server's disk, so only administrators and the
// command line may set them, whatever the policy allows.
func TestLocalRepositoriesForAdministrators(t *testing.T) {
	e := newEnv(t, db.SQLite, envOpts{})
	maint := catalog.Web(&store.User{ID: 7, Email: "m@example.org"})
	admin := catalog.Web(&store.User{ID: 8, Email: "a@example.org", IsAdmin: true})
	anon := catalog.Web(nil)
	for _, u := range []string{"/etc", "file:///etc/", "../../..", "./x", "FILE:///etc", " /srv/git/layer.git"} {
		for _, a := range []catalog.Actor{maint, anon} {
			var inv *catalog.InvalidError
			if err := e.cat.CheckRepositoryURL(context.Background(), a, u); !errors.As(err, &inv) || !strings.Contains(inv.Msg, "only be set by administrators") {
				t.Errorf("%q by %s: %v", u, a.Origin, err)
			}
		}
	}
	for _, a := range []catalog.Actor{admin, catalog.CLI} {
		if err := e.cat.CheckRepositoryURL(context.Background(), a, e.repo.dir); err != nil {
			t.Errorf("local mirror by %s: %v", a.Origin, err)
		}
	}
	if err := e.cat.CheckRepositoryURL(context.Background(), maint, "https://git.example.org/meta-x.git"); err != nil {
		t.Errorf("https URL: %v", err)
	}
	// The rule holds in the change itself, not only in the forms.
	master := e.branch("master")
	_, err := e.cat.Submit(e.ctx, anon, []store.Branch{*master}, catalog.LayerInput{
		Layer: store.Layer{Name: "sneaky", LayerType: store.TypeSoftware, VCSURL: "file:///etc/"}})
	var inv *catalog.InvalidError
	if !errors.As(err, &inv) || inv.Field != "vcs_url" {
		t.Errorf("anonymous submission of file:///etc/: %v", err)
	}
	l := e.layer("meta-test", "meta-test", master)
	in := catalog.LayerInput{Layer: *l, Subdir: "meta-test", Maintainers: []store.LayerMaintainer{{Name: "M", Email: "m@example.org"}}}
	in.Layer.VCSURL = "/etc"
	if _, err := e.cat.EditLayer(e.ctx, maint, l.ID, master.ID, in); !errors.As(err, &inv) {
		t.Errorf("maintainer's edit to /etc: %v", err)
	}
	// A layer an administrator pointed at a local mirror stays editable by
	// its maintainers, as long as they leave the repository alone.
	if !gitrepo.IsLocal(l.VCSURL) {
		t.Fatalf("the test layer's repository %q is not local", l.VCSURL)
	}
	in.Layer.VCSURL = l.VCSURL
	in.Layer.Summary = "A new summary"
	mu := &store.User{Email: "m@example.org", Name: "M", IsActive: true, Verified: true}
	if err := e.st.CreateUser(e.ctx, mu); err != nil {
		t.Fatal(err)
	}
	if ed, err := e.cat.EditLayer(e.ctx, catalog.Web(mu), l.ID, master.ID, in); err != nil || len(ed.Changes) == 0 {
		t.Errorf("maintainer's edit of a layer on a local mirror: %+v, %v", ed, err)
	}
	if got, _ := e.st.LayerByID(e.ctx, l.ID); got == nil || got.Summary != "A new summary" {
		t.Errorf("the edit was not saved: %+v", got)
	}
}

// TestSubmitPublishReject: the state changes of review, with their
// history, jobs and mail, whichever door calls them.
func TestSubmitPublishReject(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		// A site without master (issue 10 #7: mailed links hard-coded it).
		scarthgap := e.branch("scarthgap")
		admin := &store.User{Email: "admin@example.org", Name: "Ada", IsAdmin: true, IsActive: true, Verified: true}
		if err := e.st.CreateUser(e.ctx, admin); err != nil {
			t.Fatal(err)
		}
		in := func(name string) catalog.LayerInput {
			return catalog.LayerInput{Layer: store.Layer{Name: name, LayerType: store.TypeSoftware, Summary: "S <linux/ioctl.h>",
				Description: "D", VCSURL: "https://git.example.org/" + name + ".git"}, Subdir: "meta-x",
				Maintainers: []store.LayerMaintainer{{Name: "Mae", Email: "mae@example.org"}}}
		}
		l, err := e.cat.Submit(e.ctx, catalog.Web(nil), []store.Branch{*scarthgap}, in("meta-x"))
		if err != nil {
			t.Fatal(err)
		}
		if l.Status != store.StatusNew {
			t.Errorf("status %s", l.Status)
		}
		if m := e.mails("submitted"); len(m) != 1 || m[0].To[0] != "admin@example.org" ||
			!strings.Contains(m[0].Body, "https://layers.example.org/layerindex/review/meta-x/") {
			t.Errorf("admin mail: %+v", m)
		}
		var kinds []string
		e.conn.Gorm.Table("river_job").Where("kind <> 'send_mail'").Order("id").Pluck("kind", &kinds)
		if strings.Join(kinds, " ") != "validate_layer" {
			t.Errorf("jobs after submitting: %v", kinds)
		}
		if _, err := e.cat.Submit(e.ctx, catalog.Web(nil), []store.Branch{*scarthgap}, in("meta-x")); !errors.Is(err, store.ErrConflict) {
			t.Errorf("second submission of the name: %v", err)
		}

		if err := e.cat.Publish(e.ctx, catalog.Web(admin), l.ID); err != nil {
			t.Fatal(err)
		}
		if err := e.cat.Publish(e.ctx, catalog.Web(admin), l.ID); !errors.Is(err, catalog.ErrNotWaiting) {
			t.Errorf("second publish: %v", err)
		}
		pub := e.mails("published")
		if len(pub) != 1 || pub[0].To[0] != "mae@example.org" ||
			!strings.Contains(pub[0].Body, "https://layers.example.org/layerindex/branch/scarthgap/layer/meta-x/") {
			t.Errorf("published mail: %+v", pub)
		}
		lb := e.lb(l.ID, scarthgap.ID)
		if rs := e.runs(lb.ID); len(rs) != 1 || !rs[0].Force || rs[0].Origin != store.OriginAdministrator || *rs[0].TriggeredByID != admin.ID {
			t.Errorf("runs after publishing: %+v", rs)
		}

		// Reject a second submission: mail to the maintainers, layer gone.
		l2, err := e.cat.Submit(e.ctx, catalog.Web(nil), []store.Branch{*scarthgap}, in("meta-y"))
		if err != nil {
			t.Fatal(err)
		}
		if err := e.cat.Reject(e.ctx, catalog.Web(admin), l2.ID, "Not a layer <really>"); err != nil {
			t.Fatal(err)
		}
		if rej := e.mails("rejected"); len(rej) != 1 || !strings.Contains(rej[0].Body, "Not a layer <really>") {
			t.Errorf("rejection mail: %+v", rej)
		}
		if _, err := e.st.LayerByID(e.ctx, l2.ID); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("rejected layer still there: %v", err)
		}
		if err := e.cat.Reject(e.ctx, catalog.Web(admin), l.ID, "late"); !errors.Is(err, catalog.ErrNotWaiting) {
			t.Errorf("rejecting a published layer: %v", err)
		}
		changes, _ := e.st.LayerChanges(e.ctx, nil, store.Page{Number: 1, Size: 20})
		var actions []string
		for _, c := range changes.Items {
			actions = append(actions, c.LayerName+" "+c.Action)
		}
		if strings.Join(actions, ", ") != "meta-y rejected, meta-y submitted, meta-x published, meta-x submitted" {
			t.Errorf("history: %v", actions)
		}
	})
}

// TestCommandLineAddLayer: `layer add --publish` goes through the same
// change as the web's publish: a history entry, the maintainers told, a
// forced first run.
func TestCommandLineAddLayer(t *testing.T) {
	e := newEnv(t, db.SQLite, envOpts{})
	master := e.branch("master")
	l := e.layer("meta-test", "meta-test", master)
	changes, _ := e.st.LayerChanges(e.ctx, &l.ID, store.Page{Number: 1, Size: 5})
	if len(changes.Items) != 2 || changes.Items[0].Action != "published" || changes.Items[0].UserEmail != "(command line)" {
		t.Errorf("history: %+v", changes.Items)
	}
	if m := e.mails("published"); len(m) != 1 || m[0].To[0] != "meta-test@example.org" {
		t.Errorf("published mail: %+v", m)
	}
	if m := e.mails("submitted"); len(m) != 0 {
		t.Errorf("administrators mailed about a layer published at once: %+v", m)
	}
	if rs := e.runs(e.lb(l.ID, master.ID).ID); len(rs) != 1 || !rs[0].Force || rs[0].Origin != store.OriginCLI {
		t.Errorf("runs: %+v", rs)
	}
}

// TestEditQueuesReindex is issue 10 #4: changing the repository re-indexes
// every branch, a new subdirectory the edited one — queued at once, so no
// page says "not indexed yet" with nothing on the way.
func TestEditQueuesReindex(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		master, kirk := e.branch("master"), e.branch("kirkstone")
		core := e.layer("openembedded-core", "meta", master, kirk)
		for _, r := range e.runs(e.lb(core.ID, master.ID).ID) {
			e.workAll(r.ID)
		}
		e.repo.git("branch", "kirkstone")
		for _, r := range e.runs(e.lb(core.ID, kirk.ID).ID) {
			e.workAll(r.ID)
		}
		lbM := e.lb(core.ID, master.ID)
		in := catalog.LayerInput{Layer: *core, Subdir: "meta", Maintainers: []store.LayerMaintainer{{Name: "M", Email: "m@example.org"}}}
		in.Layer.VCSURL = "file://" + e.repo.dir
		ed, err := e.cat.EditLayer(e.ctx, catalog.CLI, core.ID, master.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if len(ed.Requeued) != 2 || ed.UpdateID == 0 {
			t.Fatalf("a new repository queued %d run(s)", len(ed.Requeued))
		}
		// The index still describes its revision until the new one
		// replaces it (a crash in between leaves a true page), and the
		// next update parses everything.
		if lb := e.lb(core.ID, master.ID); lb.VCSLastRev == "" || lb.ConfigDigest != "" {
			t.Errorf("after the edit: revision %q, configuration digest %q", lb.VCSLastRev, lb.ConfigDigest)
		}
		got := e.workAll(ed.Requeued[0].ID, ed.Requeued[1].ID)
		for _, r := range got {
			if r.Status != store.UpdateSucceeded || !strings.Contains(r.Log, "full") {
				t.Errorf("requeued run: %s %s\n%s", r.Status, r.Reason, r.Log)
			}
		}
		// Only the maintainers changed: nothing to re-index.
		in.Maintainers = append(in.Maintainers, store.LayerMaintainer{Name: "N", Email: "n@example.org"})
		if ed, err = e.cat.EditLayer(e.ctx, catalog.CLI, core.ID, master.ID, in); err != nil || len(ed.Requeued) != 0 {
			t.Errorf("a maintainer change queued %d run(s) (%v)", len(ed.Requeued), err)
		}
		if m := e.mails("maintainer_added"); len(m) != 2 || m[1].To[0] != "n@example.org" ||
			!strings.Contains(m[1].Body, "/layerindex/branch/master/layer/openembedded-core/") ||
			!strings.Contains(m[1].Body, "you have been added as a maintainer") {
			t.Errorf("maintainer mail: %+v", m)
		}
		_ = lbM
	})
}

// TestNewReleaseBranchIsDiscovered is issue 10 #5: a release branch added
// after the layers is looked for in every published layer's repository,
// by the branch's addition (jobs) and by the command line's update.
func TestNewReleaseBranchIsDiscovered(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		master := e.branch("master")
		core := e.layer("openembedded-core", "meta", master)
		e.workAll(e.runs(e.lb(core.ID, master.ID).ID)[0].ID)
		e.repo.git("branch", "scarthgap")

		scarthgap := &store.Branch{Name: "scarthgap", BitbakeBranch: "2.8", UpdatesEnabled: true}
		n, err := e.cat.AddBranch(e.ctx, catalog.CLI, scarthgap)
		if err != nil || n != 1 {
			t.Fatalf("AddBranch: %d, %v", n, err)
		}
		var args []string
		e.conn.Gorm.Raw("SELECT " + e.argsText() + " FROM river_job WHERE kind = 'discover_branches' ORDER BY id DESC").Scan(&args)
		if len(args) == 0 {
			t.Fatalf("discovery jobs: %v", args)
		}
		var da struct {
			LayerID  int64 `json:"layer_id"`
			UpdateID int64 `json:"update_id"`
		}
		jsonUnmarshal(args[0], &da)
		if err := e.cat.DiscoverBranches(e.ctx, da.LayerID, da.UpdateID); err != nil {
			t.Fatal(err)
		}
		lb := e.lb(core.ID, scarthgap.ID)
		rs := e.runs(lb.ID)
		if len(rs) != 1 || rs[0].UpdateID != da.UpdateID || lb.VCSSubdir != "meta" {
			t.Fatalf("after discovery: %+v %+v", lb, rs)
		}
		if got := e.workAll(rs[0].ID); got[0].Status != store.UpdateSucceeded {
			t.Fatalf("run on the new branch: %s %s", got[0].Status, got[0].Reason)
		}

		// The command line finds a branch added without the site knowing
		// (a branch row inserted by an older version or an import).
		e.repo.git("branch", "styhead")
		styhead := &store.Branch{Name: "styhead", UpdatesEnabled: true}
		if err := e.st.CreateBranch(e.ctx, styhead); err != nil {
			t.Fatal(err)
		}
		var said []string
		req, err := e.cat.RequestUpdate(e.ctx, catalog.CLI, catalog.UpdateRequest{Branch: "styhead", DiscoverNow: true,
			Log: func(f string, a ...any) { said = append(said, f) }})
		if err != nil {
			t.Fatal(err)
		}
		if len(req.Runs) != 1 || len(said) != 1 {
			t.Fatalf("update --branch styhead: %d run(s), said %v", len(req.Runs), said)
		}
	})
}

// TestValidationShowsFailures is issue 10 #3: a repository that does not
// answer is shown as such at once ("retrying", with the reason and the
// next attempt), then failed; a good one is ok.
func TestValidationShowsFailures(t *testing.T) {
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	policy := gitrepo.Policy{AllowLocal: true, AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
	e := newEnv(t, db.SQLite, envOpts{policy: &policy})
	master := e.branch("master")
	l, err := e.cat.Submit(e.ctx, catalog.CLI, []store.Branch{*master}, catalog.LayerInput{
		Layer: store.Layer{Name: "meta-down", LayerType: store.TypeSoftware, VCSURL: down.URL + "/x.git"}, Subdir: "meta-test"})
	if err != nil {
		t.Fatal(err)
	}
	next := time.Now().Add(2 * time.Minute)
	if err := e.cat.ValidateLayer(e.ctx, l.ID, 1, 4, next); err == nil {
		t.Error("a transient failure must return an error, for River to try again")
	}
	got, _ := e.st.LayerByID(e.ctx, l.ID)
	if got.ValidationStatus != catalog.ValidationRetrying || !strings.Contains(got.ValidationLog, "503") ||
		!strings.Contains(got.ValidationLog, "attempt 1 of 4 failed; the next is due at "+next.UTC().Format(time.RFC3339)) {
		t.Errorf("after a failed attempt: %s\n%s", got.ValidationStatus, got.ValidationLog)
	}
	if err := e.cat.ValidateLayer(e.ctx, l.ID, 4, 4, time.Time{}); err != nil {
		t.Errorf("the last attempt: %v", err)
	}
	got, _ = e.st.LayerByID(e.ctx, l.ID)
	if got.ValidationStatus != catalog.ValidationFailed || !strings.Contains(got.ValidationLog, "ERROR: ") {
		t.Errorf("after the last attempt: %s\n%s", got.ValidationStatus, got.ValidationLog)
	}

	ok, err := e.cat.Submit(e.ctx, catalog.CLI, []store.Branch{*master}, catalog.LayerInput{
		Layer: store.Layer{Name: "meta-good", LayerType: store.TypeSoftware, VCSURL: e.repo.dir}, Subdir: "meta-test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.cat.ValidateLayer(e.ctx, ok.ID, 1, 4, next); err != nil {
		t.Fatal(err)
	}
	got, _ = e.st.LayerByID(e.ctx, ok.ID)
	if got.ValidationStatus != catalog.ValidationOK || !strings.Contains(got.ValidationLog, `collection "test-layer"`) {
		t.Errorf("good repository: %s\n%s", got.ValidationStatus, got.ValidationLog)
	}
}

package web_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/store"
)

// TestLayerSetPages: the public list shows published layer sets with their
// configuration URL and the registry setting for bitbake-setup, not the
// unpublished ones; the administrators' form shows a refusal beside its
// field and stores nothing.
func TestLayerSetPages(t *testing.T) {
	e := newAcctEnv(t, db.SQLite, envOpts{})
	ctx := context.Background()
	master, _ := e.st.BranchByName(ctx, "master")
	pub := e.layer("meta-pub", store.StatusPublished)
	for _, ls := range []*store.LayerSet{
		{Name: "shown-set", Description: "A set for everyone", BranchID: master.ID, Published: true},
		{Name: "hidden-set", BranchID: master.ID},
	} {
		if err := e.st.SaveLayerSet(ctx, ls, []int64{pub.ID}); err != nil {
			t.Fatal(err)
		}
	}
	anon := e.client()
	r := anon.get("/layerindex/layersets/")
	if r.code != 200 {
		t.Fatalf("%d", r.code)
	}
	for _, want := range []string{"shown-set", "A set for everyone", "/layerindex/api/registry/configurations/shown-set.conf.json",
		"/layerindex/api/registry.git;protocol=http;branch=master;rev=master", "registry.tar.gz", "meta-pub"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("the list lacks %q", want)
		}
	}
	if strings.Contains(r.body, "hidden-set") {
		t.Error("the list shows an unpublished set")
	}
	if r := anon.get("/layerindex/api/registry/configurations/hidden-set.conf.json"); r.code != 404 {
		t.Errorf("unpublished configuration: %d", r.code)
	}
	if r := anon.get("/layerindex/api/registry/configurations/shown-set.conf.json"); r.code != 200 || !strings.Contains(r.body, `"description": "A set for everyone"`) {
		t.Errorf("configuration: %d %s", r.code, r.body)
	}

	admin := e.client()
	admin.login("admin@example.org", adminPassword)
	admin.get("/layerindex/admin/layersets/")
	r = admin.post("/layerindex/admin/layersets/", url.Values{"name": {"bad-set"}, "branch": {int64s(master.ID)}, "layers": {"meta-nowhere"}})
	if r.code != 422 || !strings.Contains(r.body, "There is no published layer") {
		t.Errorf("unknown layer: %d", r.code)
	}
	if _, err := e.st.LayerSetByName(ctx, "bad-set"); err == nil {
		t.Error("a refused set was stored")
	}
}

// TestMasterForCompatiblePages: a layer branch indexed from master under
// another release says so on its page; the manage page turns the option
// off, which removes that layer branch.
func TestMasterForCompatiblePages(t *testing.T) {
	e := newAcctEnv(t, db.SQLite, envOpts{})
	ctx := context.Background()
	master, _ := e.st.BranchByName(ctx, "master")
	scarthgap := &store.Branch{Name: "scarthgap", UpdatesEnabled: true}
	if err := e.st.CreateBranch(ctx, scarthgap); err != nil {
		t.Fatal(err)
	}
	l := e.layer("meta-follow", store.StatusPublished, "maint@example.org")
	if err := e.st.SetMasterForCompatible(ctx, l.ID, true); err != nil {
		t.Fatal(err)
	}
	lb := &store.LayerBranch{LayerID: l.ID, BranchID: scarthgap.ID, VCSSubdir: "meta-test", UpdatesEnabled: true}
	if err := e.st.CreateLayerBranch(ctx, lb); err != nil {
		t.Fatal(err)
	}
	if err := e.st.SetFollowsMaster(ctx, lb.ID, "master", "meta-test"); err != nil {
		t.Fatal(err)
	}
	anon := e.client()
	if r := anon.get("/layerindex/branch/scarthgap/layer/meta-follow/"); r.code != 200 || !strings.Contains(r.body, "Indexed from master.") {
		t.Errorf("follower page: %d", r.code)
	}
	if r := anon.get("/layerindex/branch/master/layer/meta-follow/"); r.code != 200 || !strings.Contains(r.body, "also indexed under every release") {
		t.Errorf("master page: %d", r.code)
	}
	admin := e.client()
	admin.login("admin@example.org", adminPassword)
	if r := admin.get("/layerindex/layer/meta-follow/manage/"); !strings.Contains(r.body, "Turn off") || !strings.Contains(r.body, "Indexed from the master branch") {
		t.Errorf("manage page lacks the option")
	}
	if r := admin.post("/layerindex/layer/meta-follow/masterforcompatible/", url.Values{"on": {""}}); r.code != 303 {
		t.Fatalf("turn off: %d", r.code)
	}
	if e.layerByName("meta-follow").MasterForCompatible {
		t.Error("still on")
	}
	if _, err := e.st.LayerBranch(ctx, l.ID, scarthgap.ID); err == nil {
		t.Error("the scarthgap layer branch stays after the opt-out")
	}
	if _, err := e.st.LayerBranch(ctx, l.ID, master.ID); err != nil {
		t.Errorf("the master layer branch: %v", err)
	}
}

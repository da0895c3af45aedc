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

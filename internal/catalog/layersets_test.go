package catalog_test

import (
	"errors"
	"testing"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestLayerSetRules: administrators (and the command line) save layer sets
// that resolve on their release; a set naming a layer, machine or distro
// the release does not have, a bad or taken name, or a non-administrator
// is refused and nothing is stored.
func TestLayerSetRules(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		master := e.branch("master")
		core := e.layer("openembedded-core", "meta", master)
		e.layer("meta-test", "meta-test", master)
		e.workAll(e.runs(e.lb(core.ID, master.ID).ID)[0].ID)

		in := catalog.LayerSetInput{Name: "test-master", Description: "  Test   on master ", BranchID: master.ID,
			Layers: []string{"meta-test", "meta-test"}, Published: true}
		user := &store.User{ID: 1, Email: "u@example.org", IsActive: true, Verified: true}
		if _, err := e.cat.SaveLayerSet(e.ctx, catalog.Web(user), 0, in); !errors.Is(err, catalog.ErrNotAllowed) {
			t.Errorf("a user saved a layer set: %v", err)
		}
		ls, err := e.cat.SaveLayerSet(e.ctx, catalog.CLI, 0, in)
		if err != nil {
			t.Fatal(err)
		}
		if ls.Description != "Test on master" || len(ls.Layers) != 1 || ls.Layers[0] != "meta-test" || ls.Branch.Name != "master" {
			t.Errorf("saved %+v", ls)
		}
		for field, bad := range map[string]catalog.LayerSetInput{
			"name":    {Name: "../x", BranchID: master.ID, Layers: []string{"meta-test"}},
			"layers":  {Name: "other", BranchID: master.ID, Layers: []string{"meta-nowhere"}},
			"machine": {Name: "other", BranchID: master.ID, Layers: []string{"meta-test"}, Machine: "no-such-machine"},
			"branch":  {Name: "other", BranchID: 99999, Layers: []string{"meta-test"}},
		} {
			_, err := e.cat.SaveLayerSet(e.ctx, catalog.CLI, 0, bad)
			var inv *catalog.InvalidError
			if !errors.As(err, &inv) || inv.Field != field {
				t.Errorf("%s: %v", field, err)
			}
		}
		in.Name = "test-master"
		if _, err := e.cat.SaveLayerSet(e.ctx, catalog.CLI, 0, in); err == nil {
			t.Error("a second set took the same name")
		}
		in.Layers = []string{"openembedded-core"}
		in.Published = false
		if ls, err = e.cat.SaveLayerSet(e.ctx, catalog.CLI, ls.ID, in); err != nil || ls.Layers[0] != "openembedded-core" || ls.Published {
			t.Errorf("edit: %+v %v", ls, err)
		}
		if err := e.cat.DeleteLayerSet(e.ctx, catalog.Web(user), ls.ID); !errors.Is(err, catalog.ErrNotAllowed) {
			t.Errorf("a user deleted a layer set: %v", err)
		}
		if err := e.cat.DeleteLayerSet(e.ctx, catalog.CLI, ls.ID); err != nil {
			t.Fatal(err)
		}
		if sets, _ := e.st.LayerSets(e.ctx, false); len(sets) != 0 {
			t.Errorf("left: %+v", sets)
		}
	})
}

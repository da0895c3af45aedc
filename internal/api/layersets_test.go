package api_test

import (
	"fmt"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

// TestIssue14Additions: layer sets are a resource (published ones only,
// with their layers' ids in order, filterable by branch), and layer
// branches carry LAYERSERIES_COMPAT / LAYERSERIES_CORENAMES, filterable.
func TestIssue14Additions(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		e.db.Gorm.Exec(`UPDATE layer_branches SET series_compat = 'scarthgap walnascar' WHERE id = ?`, e.fx.LayerBranch["meta-oe/master"].ID)
		e.db.Gorm.Exec(`UPDATE layer_branches SET series_corenames = 'walnascar' WHERE id = ?`, e.fx.LayerBranch["openembedded-core/master"].ID)

		sets := list(t, e.api+"layerSets/")
		if len(sets) != 1 || sets[0]["name"] != "python-master" || sets[0]["machine"] != "qemux86" {
			t.Fatalf("layerSets: %v", sets)
		}
		want := fmt.Sprint([]any{float64(e.fx.LayerBranch["meta-python/master"].LayerID), float64(e.fx.LayerBranch["meta-oe/master"].LayerID)})
		if got := fmt.Sprint(sets[0]["layers"]); got != want {
			t.Errorf("layers %s, want %s", got, want)
		}
		if n := len(list(t, e.api+"layerSets/?filter=branch__name:scarthgap")); n != 0 {
			t.Errorf("layer sets on scarthgap: %d", n)
		}
		if n := len(list(t, e.api+"layerSets/?filter=branch__name:master")); n != 1 {
			t.Errorf("layer sets on master: %d", n)
		}
		lbs := list(t, e.api+"layerBranches/?filter=layerseries_compat__icontains:scarthgap")
		if len(lbs) != 1 || lbs[0]["id"] != float64(e.fx.LayerBranch["meta-oe/master"].ID) || lbs[0]["layerseries_compat"] != "scarthgap walnascar" {
			t.Errorf("layerseries_compat filter: %v", lbs)
		}
		core := list(t, e.api+fmt.Sprintf("layerBranches/?filter=id:%d", e.fx.LayerBranch["openembedded-core/master"].ID))
		if len(core) != 1 || core[0]["layerseries_corenames"] != "walnascar" || core[0]["follows_master"] != false {
			t.Errorf("core: %v", core)
		}
		if items := list(t, e.api+"layerItems/?filter=master_for_compatible:true"); len(items) != 0 {
			t.Errorf("opted-in layers: %v", items)
		}
	})
}

package web_test

import (
	"encoding/json"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestSetupPageAndFiles resolves a choice on the fixture index: the page
// lists the layers with their dependencies and warnings, and the files at
// the stable URLs pin the indexed revisions.
func TestSetupPageAndFiles(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		f := loadBrowseFixture(t, d)
		set := func(key string, cols map[string]any) {
			t.Helper()
			if err := f.conn.Gorm.Model(&store.LayerBranch{}).Where("id = ?", f.LayerBranch[key].ID).Updates(cols).Error; err != nil {
				t.Fatal(err)
			}
		}
		set("openembedded-core/master", map[string]any{"series_corenames": "wrynose", "series_compat": "wrynose"})
		set("meta-oe/master", map[string]any{"series_compat": "wrynose"})
		set("meta-python/master", map[string]any{"series_compat": "wrynose"})
		set("meta-raspberrypi/master", map[string]any{"series_compat": "scarthgap"})

		status, body, _ := get(t, f.ts.URL, "/layerindex/branch/master/setup/?layer=meta-python&machine=raspberrypi5")
		if status != 200 {
			t.Fatalf("setup page: %d\n%s", status, body)
		}
		for _, w := range []string{"meta-oe", "openembedded-core", "meta-raspberrypi", "bitbake-setup init " + f.ts.URL +
			"/layerindex/api/setup/master/meta-python/machine=raspberrypi5/meta-python-meta-raspberrypi-raspberrypi5.conf.json",
			"machine raspberrypi5 is in layer meta-raspberrypi, which was added", "BitBake will refuse it"} {
			if !strings.Contains(body, w) {
				t.Errorf("setup page lacks %q\n%s", w, body[strings.Index(body, "bitbake-setup init"):][:300])
			}
		}
		status, body, hdr := get(t, f.ts.URL, "/layerindex/api/setup/master/meta-python/machine=raspberrypi5/x.conf.json")
		if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Fatalf("conf.json: %d %s\n%s", status, hdr.Get("Content-Type"), body)
		}
		var cfg struct {
			Sources map[string]struct {
				GitRemote struct{ URI, Rev, Branch string } `json:"git-remote"`
				Path      string
			}
			BitbakeSetup struct {
				Configurations []struct {
					BBLayers    []string `json:"bb-layers"`
					OEFragments []string `json:"oe-fragments"`
				}
			} `json:"bitbake-setup"`
		}
		if err := json.Unmarshal([]byte(body), &cfg); err != nil {
			t.Fatal(err)
		}
		if got := cfg.Sources["openembedded-core"].GitRemote.Rev; got != f.LayerBranch["openembedded-core/master"].VCSLastRev {
			t.Errorf("openembedded-core pinned at %q", got)
		}
		// meta-oe and meta-python share meta-openembedded.
		if len(cfg.Sources) != 4 || cfg.Sources["bitbake"].GitRemote.Rev != "master" {
			t.Errorf("sources %+v", cfg.Sources)
		}
		c := cfg.BitbakeSetup.Configurations[0]
		if strings.Join(c.BBLayers, " ") != "openembedded-core/meta meta-openembedded/meta-oe meta-openembedded/meta-python meta-raspberrypi" ||
			strings.Join(c.OEFragments, " ") != "machine/raspberrypi5" {
			t.Errorf("configuration %+v", c)
		}
		status, body, _ = get(t, f.ts.URL, "/layerindex/api/setup/master/meta-python/machine=raspberrypi5/x.kas.yml")
		if status != 200 || !strings.Contains(body, "refspec: "+f.LayerBranch["openembedded-core/master"].VCSLastRev) || !strings.Contains(body, "machine: raspberrypi5") {
			t.Errorf("kas: %d\n%s", status, body)
		}
		status, body, _ = get(t, f.ts.URL, "/layerindex/api/setup/master/meta-python/bblayers.conf")
		if status != 200 || !strings.Contains(body, "${TOPDIR}/../layers/meta-openembedded/meta-python") {
			t.Errorf("bblayers.conf: %d\n%s", status, body)
		}
		for path, code := range map[string]int{
			"/layerindex/api/setup/master/no-such-layer/x.conf.json":                 400,
			"/layerindex/api/setup/master/meta-python/machine=nomachine/x.conf.json": 400,
			"/layerindex/api/setup/nowhere/meta-python/x.conf.json":                  404,
			"/layerindex/api/setup/master/meta-python/x.exe":                         404,
			"/layerindex/api/setup/master/meta-python/colour=red/x.conf.json":        400,
		} {
			if status, body, _ := get(t, f.ts.URL, path); status != code {
				t.Errorf("%s: %d, want %d\n%s", path, status, code, body)
			}
		}
	})
}

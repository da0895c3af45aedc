package ingest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"layerindex/internal/bitbake"
	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// TestCorpusReleaseCompatibility reads LAYERSERIES_CORENAMES and
// LAYERSERIES_COMPAT from the real layer.conf files of the corpus and checks
// the compatibility the index derives from them, release by release.
func TestCorpusReleaseCompatibility(t *testing.T) {
	facts := func(repo, rev, subdir string) *bitbake.LayerFacts {
		t.Helper()
		bare := corpus.Bare(t, repo)
		conf := subdir + "/conf"
		if subdir == "" {
			conf = "conf"
		}
		tree := corpus.Tree(t, bare, rev, conf)
		f, err := bitbake.ReadLayerFacts(os.DirFS(filepath.Join(tree, subdir)))
		if err != nil {
			t.Fatalf("%s %s %s: %v", repo, rev, subdir, err)
		}
		return f
	}
	core := map[string]*bitbake.LayerFacts{}
	for _, rel := range []string{"master", "scarthgap", "kirkstone"} {
		core[rel] = facts("openembedded-core", rel, "meta")
	}
	if got := core["master"].CoreNames; !reflect.DeepEqual(got, []string{"wrynose", "blacksail"}) {
		t.Errorf("oe-core master LAYERSERIES_CORENAMES = %v", got)
	}
	if got := core["scarthgap"].CoreNames; !reflect.DeepEqual(got, []string{"scarthgap"}) {
		t.Errorf("oe-core scarthgap LAYERSERIES_CORENAMES = %v", got)
	}
	layers := map[string]*bitbake.LayerFacts{
		"meta-oe@master":             facts("meta-openembedded", "master", "meta-oe"),
		"meta-oe@scarthgap":          facts("meta-openembedded", "scarthgap", "meta-oe"),
		"meta-virtualization@master": facts("meta-virtualization", "master", ""),
		"meta-swupdate@master":       facts("meta-swupdate", "master", ""),
	}
	want := map[string]map[string]string{
		"meta-oe@master":             {"master": store.CompatYes, "scarthgap": store.CompatNo, "kirkstone": store.CompatNo},
		"meta-oe@scarthgap":          {"master": store.CompatNo, "scarthgap": store.CompatYes, "kirkstone": store.CompatNo},
		"meta-virtualization@master": {"master": store.CompatYes, "scarthgap": store.CompatNo, "kirkstone": store.CompatNo},
		"meta-swupdate@master":       {"master": store.CompatYes, "scarthgap": store.CompatNo, "kirkstone": store.CompatNo},
	}
	for name, f := range layers {
		if len(f.SeriesCompat) == 0 || len(f.CoreNames) != 0 {
			t.Errorf("%s: LAYERSERIES_COMPAT %v, LAYERSERIES_CORENAMES %v", name, f.SeriesCompat, f.CoreNames)
		}
		for rel, c := range core {
			got := store.Compatibility(strings.Join(f.SeriesCompat, " "), strings.Join(c.CoreNames, " "))
			if got != want[name][rel] {
				t.Errorf("%s (compat %v) with %s (core names %v) = %s, want %s", name, f.SeriesCompat, rel, c.CoreNames, got, want[name][rel])
			}
		}
	}
	if got := store.Compatibility("", "wrynose"); got != store.CompatUnknown {
		t.Errorf("no declaration = %s", got)
	}
	if got := store.Compatibility("wrynose", ""); got != store.CompatUnknown {
		t.Errorf("unknown core = %s", got)
	}
}

// gitLayer commits files into a new repository and returns its path.
func gitLayer(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, c := range files {
		full := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "master"}, {"add", "-A"}, {"commit", "-qm", "layer"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

const miniBitbakeConf = "PN = \"${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[0] or 'defaultpkgname'}\"\nPV = \"1.0\"\n"

// TestUpdateStoresCompatAndDependencyGraph indexes small layers and checks
// that an update stores LAYERSERIES_COMPAT, LAYERSERIES_CORENAMES and the
// declared dependency names, that an unchanged run fills them in for layer
// branches indexed before they were stored, and the dependency graph and
// compatibility matrix built from them.
func TestUpdateStoresCompatAndDependencyGraph(t *testing.T) {
	coreRepo := gitLayer(t, map[string]string{
		"meta/conf/layer.conf":             "BBPATH .= \":${LAYERDIR}\"\nBBFILE_COLLECTIONS += \"core\"\nBBFILE_PATTERN_core = \"^${LAYERDIR}/\"\nLAYERVERSION_core = \"15\"\nLAYERSERIES_CORENAMES = \"wrynose blacksail\"\nLAYERSERIES_COMPAT_core = \"wrynose\"\n",
		"meta/conf/bitbake.conf":           miniBitbakeConf,
		"meta/classes-global/base.bbclass": "",
	})
	oeRepo := gitLayer(t, map[string]string{
		"conf/layer.conf": "BBPATH .= \":${LAYERDIR}\"\nBBFILE_COLLECTIONS += \"openembedded-layer\"\nBBFILE_PATTERN_openembedded-layer = \"^${LAYERDIR}/\"\nLAYERDEPENDS_openembedded-layer = \"core\"\nLAYERSERIES_COMPAT_openembedded-layer = \"whinlatter wrynose\"\n",
	})
	appRepo := gitLayer(t, map[string]string{
		"conf/layer.conf": "BBPATH .= \":${LAYERDIR}\"\nBBFILE_COLLECTIONS += \"app\"\nBBFILE_PATTERN_app = \"^${LAYERDIR}/\"\nLAYERDEPENDS_app = \"core openembedded-layer\"\nLAYERRECOMMENDS_app = \"no-such-layer\"\nLAYERSERIES_COMPAT_app = \"scarthgap\"\n",
	})
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		core := e.addLayer("openembedded-core", coreRepo, "meta")
		oe := e.addLayer("meta-oe", oeRepo, "")
		app := e.addLayer("meta-app", appRepo, "")
		for _, lb := range []*store.LayerBranch{core, oe, app} {
			e.update(lb, false)
		}
		get := func(id int64) *store.LayerBranch {
			lb, err := e.st.LayerBranchByID(e.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return lb
		}
		c, o, a := get(core.ID), get(oe.ID), get(app.ID)
		if c.SeriesCorenames != "wrynose blacksail" || c.SeriesCompat != "wrynose" {
			t.Errorf("core: corenames %q compat %q", c.SeriesCorenames, c.SeriesCompat)
		}
		if o.SeriesCompat != "whinlatter wrynose" || o.DeclaredDepends != "core" || o.SeriesCorenames != "" {
			t.Errorf("meta-oe: %+v", o)
		}
		if a.DeclaredDepends != "core openembedded-layer" || a.DeclaredRecommends != "no-such-layer" {
			t.Errorf("meta-app: depends %q recommends %q", a.DeclaredDepends, a.DeclaredRecommends)
		}

		// A layer branch indexed before these columns existed: the
		// unchanged run stores them.
		e.conn.Gorm.Model(&store.LayerBranch{}).Where("id = ?", oe.ID).Updates(map[string]any{"series_compat": "", "declared_depends": ""})
		if res := e.update(oe, false); res.Status != store.UpdateUnchanged {
			t.Fatalf("second run: %s\n%s", res.Status, res.Log)
		}
		if o := get(oe.ID); o.SeriesCompat != "whinlatter wrynose" || o.DeclaredDepends != "core" {
			t.Errorf("after an unchanged run: compat %q depends %q", o.SeriesCompat, o.DeclaredDepends)
		}

		rels, err := e.st.Releases(e.ctx)
		if err != nil || len(rels) != 1 || rels[0].CoreNames != "wrynose blacksail" {
			t.Fatalf("releases %+v, %v", rels, err)
		}
		m, err := e.st.LayerCompatMatrix(e.ctx, app.LayerID)
		if err != nil || len(m.Columns) != 1 || m.Cells[0][0] != store.CompatNo {
			t.Errorf("meta-app matrix %+v, %v", m, err)
		}
		if m, _ := e.st.LayerCompatMatrix(e.ctx, oe.LayerID); m.Cells[0][0] != store.CompatYes {
			t.Errorf("meta-oe matrix %+v", m)
		}
		list, err := e.st.Layers(e.ctx, e.mastr, store.LayerFilter{CompatOnly: true, CompatCoreNames: rels[0].CoreNames, Page: store.Page{Number: 1, Size: 50}})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, r := range list.Items {
			names = append(names, r.Name)
		}
		slices.Sort(names)
		if !reflect.DeepEqual(names, []string{"meta-oe", "openembedded-core"}) {
			t.Errorf("layers compatible with master: %v", names)
		}

		a = get(app.ID)
		g, err := e.st.DependencyGraph(e.ctx, []*store.LayerBranch{a}, true)
		if err != nil {
			t.Fatal(err)
		}
		nodes := map[string]store.DepNode{}
		for _, n := range g.Nodes {
			nodes[n.Name] = n
		}
		if len(g.Nodes) != 4 || !nodes["meta-app"].Root || !nodes["meta-oe"].Required || !nodes["openembedded-core"].Required ||
			nodes["no-such-layer"].Resolved() || nodes["no-such-layer"].Required {
			t.Errorf("graph nodes %+v", g.Nodes)
		}
		// meta-app → core, meta-oe, no-such-layer; meta-oe → core.
		if len(g.Edges) != 4 {
			t.Errorf("graph edges %+v", g.Edges)
		}
		req, err := e.st.DependencyGraph(e.ctx, []*store.LayerBranch{a}, false)
		if err != nil || len(req.Nodes) != 3 || len(req.Unresolved()) != 0 {
			t.Errorf("required-only graph %+v, %v", req, err)
		}
		deps, err := e.st.Dependents(e.ctx, core.LayerID, e.mastr.ID)
		if err != nil || len(deps) != 2 || deps[0].Name != "meta-app" || deps[1].Name != "meta-oe" || !deps[0].Required {
			t.Errorf("dependents of core: %+v, %v", deps, err)
		}
	})
}

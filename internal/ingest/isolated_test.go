package ingest_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/ingest"
	"layerindex/internal/isolate"
	"layerindex/internal/store"
)

// TestMain lets this test binary serve as the isolated parser's child, with
// simulated bombs for the layers that hold the marker.
func TestMain(m *testing.M) {
	ingest.SimulateParserBombs("PARSER_BOMB")
	isolate.Child()
	os.Exit(m.Run())
}

// testIsolation leaves a child 700 MB of heap above the address space a Go
// program reserves at start.
var testIsolation = isolate.Limits{AddressSpace: 2 << 30, CPU: 5 * time.Minute, Wall: 5 * time.Minute}

func isolated(e *env) *env {
	lim := testIsolation
	e.ix.Isolation = &lim
	return e
}

var tinyRecipes = map[string]string{
	"recipes-a/hello/hello_1.0.bb": "SUMMARY = \"Hello\"\nLICENSE = \"MIT\"\nDEPENDS = \"zlib ${@'x11' if 'x11' in d.getVar('DISTRO_FEATURES') or '' else 'nox'}\"\n" +
		"SRC_URI = \"https://example.org/hello-${PV}.tar.gz file://fix.patch\"\nPACKAGECONFIG[gtk] = \"--with-gtk,--without-gtk,gtk+3\"\n",
	"recipes-a/hello/files/fix.patch": "Upstream-Status: Pending\n",
	"recipes-a/skip/skip_2.0.bb":      "LICENSE = \"MIT\"\npython () {\n    raise bb.parse.SkipRecipe('not here')\n}\n",
	"recipes-a/py/py_1.0.bb":          "LICENSE = \"MIT\"\nX = \"${@unknown_function(d)}\"\n",
	"recipes-b/big/big_3.1.bb":        "LICENSE = \"GPL-2.0-only\"\nPV = \"${@str(2**62)}\"\n",
}

// TestIsolatedEqualsInProcess indexes the same layer in this process and in
// a child and checks the stored recipes are the same.
func TestIsolatedEqualsInProcess(t *testing.T) {
	w := tinyRepo(t, tinyCore("", tinyRecipes))
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		index := func(e *env) indexDump {
			core := e.addLayer("openembedded-core", w.dir, "meta")
			r := e.update(core, false)
			if r.Status != store.UpdateSucceeded || r.Stats.Added != 4 {
				t.Fatalf("%s %+v\n%s", r.Status, r.Stats, r.Log)
			}
			if e.ix.Isolation != nil && !strings.Contains(r.Log, "parsed in an isolated process") {
				t.Errorf("log does not show the isolated parse:\n%s", r.Log)
			}
			return dumpIndex(t, e, core.ID, indexSchema(t, e))
		}
		in := index(newEnv(t, d))
		out := index(isolated(newEnv(t, d)))
		if len(in["recipes"]) != 4 || len(in["recipe_sources"]) == 0 || len(in["recipe_build_deps"]) == 0 {
			t.Fatalf("the in-process index is too small to compare: %v", in)
		}
		if diff := diffIndex(out, in); diff != "" {
			t.Errorf("isolated (\"incremental\") and in-process (\"full\") indexes differ:\n%s", diff)
		}
	})
}

// TestIsolatedBombFailsTheRun gives the indexer layers that kill the
// parser — in conf/layer.conf and in a recipe — and checks each update
// fails with the reason in its log while the indexer goes on to index a
// good layer.
func TestIsolatedBombFailsTheRun(t *testing.T) {
	good := tinyRepo(t, tinyCore("", tinyRecipes))
	confBomb := tinyRepo(t, tinyCore("# PARSER_BOMB\n", tinyRecipes))
	recipeBomb := tinyRepo(t, tinyCore("", map[string]string{
		"recipes-a/hello/hello_1.0.bb":             tinyRecipes["recipes-a/hello/hello_1.0.bb"],
		"recipes-a/PARSER_BOMB/PARSER_BOMB_1.0.bb": "LICENSE = \"MIT\"\n",
	}))
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := isolated(newEnv(t, d))
		for _, c := range []struct{ name, dir, want string }{
			{"conf", confBomb.dir, "ERROR: conf/layer.conf: parser process killed: memory limit (2 GiB) exceeded"},
			{"recipe", recipeBomb.dir, "ERROR: parser process killed: memory limit (2 GiB) exceeded"},
		} {
			lb := e.addLayer("openembedded-core-"+c.name, c.dir, "meta")
			res, err := e.ix.UpdateLayerBranch(e.ctx, ingest.Request{LayerBranchID: lb.ID})
			if err == nil || !ingest.IsPermanent(err) {
				t.Errorf("%s bomb: error %v, want a permanent failure", c.name, err)
			}
			if res == nil || res.Status != store.UpdateFailed || !strings.Contains(res.Log, c.want) {
				t.Errorf("%s bomb: want a failed run with %q:\n%s", c.name, c.want, logOf(res))
			}
			if n := e.count("recipes", lb.ID); n != 0 {
				t.Errorf("%s bomb: %d recipes stored", c.name, n)
			}
		}
		core := e.addLayer("openembedded-core", good.dir, "meta")
		if r := e.update(core, false); r.Status != store.UpdateSucceeded || r.Stats.Added != 4 {
			t.Fatalf("after the bombs: %s %+v\n%s", r.Status, r.Stats, r.Log)
		}
	})
}

package ingest_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// tinyCore returns the files of a minimal core layer in meta/: enough
// configuration for recipes to parse, and nothing from the corpus.
func tinyCore(layerConfExtra string, recipes map[string]string) map[string]string {
	files := map[string]string{
		"meta/conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "core"
BBFILE_PATTERN_core = "^${LAYERDIR}/"
BBFILE_PRIORITY_core = "5"
LAYERVERSION_core = "15"
LAYERSERIES_CORENAMES = "walnascar"
LAYERSERIES_COMPAT_core = "walnascar"
` + layerConfExtra,
		"meta/conf/bitbake.conf": `PN = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[0] or 'defaultpkgname'}"
PV = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[1] or '1.0'}"
PR = "r0"
`,
		"meta/classes-global/base.bbclass": "# base\n",
	}
	for p, body := range recipes {
		files["meta/"+p] = body
	}
	return files
}

// tinyRepo commits files to a new repository on branch master and returns
// its directory.
func tinyRepo(t *testing.T, files map[string]string) *work {
	t.Helper()
	w := &work{t: t, dir: filepath.Join(t.TempDir(), "tiny")}
	for p, body := range files {
		full := filepath.Join(w.dir, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	w.git(w.dir, "init", "-q", "-b", "master")
	w.git(w.dir, "add", "-A")
	w.git(w.dir, "commit", "-qm", "layer")
	return w
}

// TestPythonWarningOnlyWhenPythonFailed checks the update log: a recipe
// that is uncertain only for a parse error gets no "0 Python
// expression(s)" warning, while one with Python that could not be
// evaluated gets the warning with its count.
func TestPythonWarningOnlyWhenPythonFailed(t *testing.T) {
	w := tinyRepo(t, tinyCore("", map[string]string{
		"recipes-a/broken/broken_1.0.bb": "LICENSE = \"MIT\"\nrequire no-such-file.inc\n",
		"recipes-a/py/py_1.0.bb":         "LICENSE = \"MIT\"\nX = \"${@undefined_function_xyz(d)}\"\nDEPENDS = \"${X}\"\n",
		"recipes-a/fine/fine_1.0.bb":     "LICENSE = \"MIT\"\n",
	}))
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		core := e.addLayer("openembedded-core", w.dir, "meta")
		r := e.update(core, false)
		if r.Status != store.UpdateSucceeded {
			t.Fatalf("%s\n%s", r.Status, r.Log)
		}
		if strings.Contains(r.Log, " 0 Python expression") {
			t.Errorf("log warns about 0 Python expressions:\n%s", r.Log)
		}
		if !regexp.MustCompile(`py_1\.0\.bb: [1-9][0-9]* Python expression\(s\) could not be evaluated`).MatchString(r.Log) {
			t.Errorf("log lacks the Python warning for py_1.0.bb:\n%s", r.Log)
		}
		if !strings.Contains(r.Log, "broken_1.0.bb:2: could not include required file") {
			t.Errorf("log lacks the parse error of broken_1.0.bb:\n%s", r.Log)
		}
	})
}

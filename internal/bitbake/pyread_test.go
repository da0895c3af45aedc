package bitbake

import (
	"reflect"
	"strings"
	"testing"
)

// TestPythonReadsLayers covers metadata Python that reads the layers at
// parse time, read-only: a version from the name of a recipe in the core
// layer (os.listdir under ${COREBASE}), build dependencies from a
// defconfig found along FILESPATH, an .inc parsed from anonymous Python
// (bb.parse.handle) when a PACKAGECONFIG option is on, and a feature check
// that iterates over the datastore and skips the recipe.
func TestPythonReadsLayers(t *testing.T) {
	core := testLayer("meta", withFiles(miniCore, map[string]string{
		"recipes-core/busybox/busybox_1.38.0.bb": "",
		"recipes-core/busybox/busybox.inc":       "",
	}))
	target := testLayer("meta-target", map[string]string{
		"conf/layer.conf": "BBPATH .= \":${LAYERDIR}\"\nBBFILE_COLLECTIONS += \"target\"\nBBFILE_PATTERN_target = \"^${LAYERDIR}/\"\n",
		"recipes-core/initrd/busybox-initrd.bb": `def busybox_pv(d):
    import re
    bb_dir = os.path.join(d.getVar('COREBASE'), 'meta', 'recipes-core', 'busybox')
    if os.path.isdir(bb_dir):
        for f in os.listdir(bb_dir):
            m = re.match(r"busybox_([0-9.]*)\.bb", f)
            if m:
                return m.group(1)
    bb.fatal("Cannot find busybox recipe in %s" % bb_dir)

PV := "${@busybox_pv(d)}"
`,
		"recipes-support/upd/upd_1.0.bb": `FILE_DIRNAME = "${@os.path.dirname(d.getVar('FILE', False))}"
THISDIR = "${@os.path.dirname(d.getVar('FILE'))}"
FILESPATH = "${FILE_DIRNAME}/${PN}:${FILE_DIRNAME}/files"
SRC_URI = "https://example.com/upd-${PV}.tar.gz file://defconfig"
PACKAGECONFIG = "crates"
python () {
    try:
        defconfig = bb.fetch2.localpath('file://defconfig', d)
    except bb.fetch2.FetchError:
        return
    with open(defconfig) as f:
        features = f.read().splitlines(True)
    if 'CONFIG_LUA=y\n' in features:
        d.appendVar('DEPENDS', ' lua')
    if 'CONFIG_SSL=y\n' in features:
        d.appendVar('DEPENDS', ' openssl')
    if bb.utils.contains('PACKAGECONFIG', 'crates', True, False, d):
        bb.parse.handle(d.expand("${THISDIR}/upd-crates.inc"), d, True)
    global seen
    seen = d.getVar('PN')
    d.setVar('SEEN', upd_seen())
}
def upd_seen():
    return seen
`,
		"recipes-support/upd/upd/defconfig":      "CONFIG_LUA=y\n# CONFIG_SSL is not set\n",
		"recipes-support/upd/upd-crates.inc":     "SRC_URI += \"crate://crates.io/foo/1.0\"\nCRATES = \"yes\"\n",
		"recipes-support/img/img.bb":             "IMAGE_FEATURES[validitems] = \"ssh\"\nFEATURE_PACKAGES_tools = \"x\"\nIMAGE_FEATURES = \"ssh tools debug-tweaks\"\npython () {\n    valid = d.getVarFlag('IMAGE_FEATURES', 'validitems').split()\n    for var in d:\n        if var.startswith('FEATURE_PACKAGES_'):\n            valid.append(var[17:])\n    for f in d.getVar('IMAGE_FEATURES').split():\n        if f not in valid:\n            raise bb.parse.SkipRecipe(\"'%s' in IMAGE_FEATURES is not a valid image feature. Valid features: %s\" % (f, ' '.join(sorted(valid))))\n}\n",
		"recipes-support/late/late_1.0.bb":       "python () {\n    bb.parse.BBHandler.inherit('autotools', d.getVar('FILE'), 0, d)\n}\n",
		"recipes-support/img/not-skipped_1.0.bb": "FEATURE_PACKAGES_x = \"1\"\npython () {\n    if 'FEATURE_PACKAGES_x' not in d.keys():\n        raise bb.parse.SkipRecipe('no')\n}\n",
	})
	cfg, err := NewConfig(target, []Layer{core}, Options{ExtraVars: []string{"CRATES", "SEEN"}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(r *Recipe) {
		t.Helper()
		if r.Uncertain() {
			t.Errorf("%s: uncertain: %v %v", r.Path, r.Failed, r.Diags)
		}
	}

	r := cfg.ParseRecipe("recipes-core/initrd/busybox-initrd.bb")
	check(r)
	if r.PV != "1.38.0" {
		t.Errorf("busybox-initrd PV = %q", r.PV)
	}

	r = cfg.ParseRecipe("recipes-support/upd/upd_1.0.bb")
	check(r)
	if deps := strings.Fields(r.Depends); !reflect.DeepEqual(deps[len(deps)-1:], []string{"lua"}) {
		t.Errorf("upd DEPENDS = %q", r.Depends)
	}
	if r.Vars["CRATES"] != "yes" || !strings.Contains(r.SrcURI, "crate://crates.io/foo/1.0") || r.Vars["SEEN"] != "upd" {
		t.Errorf("upd: CRATES %q SRC_URI %q SEEN %q", r.Vars["CRATES"], r.SrcURI, r.Vars["SEEN"])
	}
	// The .inc parsed from Python is a file dependency, as BitBake's
	// parse.handle marks it; the defconfig is not (BitBake does not).
	if want := []string{"recipes-support/upd/upd-crates.inc", "recipes-support/upd/upd_1.0.bb"}; !reflect.DeepEqual(r.FileDeps, want) {
		t.Errorf("upd filedeps = %v, want %v", r.FileDeps, want)
	}

	r = cfg.ParseRecipe("recipes-support/late/late_1.0.bb")
	check(r)
	if want := []string{"autotools", "pkgconfig"}; !reflect.DeepEqual(r.Inherits, want) || !strings.Contains(r.Depends, "autoconf-native") {
		t.Errorf("late: inherits %v DEPENDS %q", r.Inherits, r.Depends)
	}

	r = cfg.ParseRecipe("recipes-support/img/img.bb")
	check(r)
	if want := "'debug-tweaks' in IMAGE_FEATURES is not a valid image feature. Valid features: ssh tools"; !r.Skipped || r.SkipReason != want {
		t.Errorf("img: skipped %v %q", r.Skipped, r.SkipReason)
	}
	r = cfg.ParseRecipe("recipes-support/img/not-skipped_1.0.bb")
	check(r)
	if r.Skipped {
		t.Errorf("not-skipped: skipped %q", r.SkipReason)
	}
}

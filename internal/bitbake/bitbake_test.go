package bitbake

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
)

// miniCore is a tiny core layer: enough of bitbake.conf and base.bbclass
// to exercise the evaluator without the corpus.
var miniCore = map[string]string{
	"conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "core"
BBFILE_PATTERN_core = "^${LAYERDIR}/"
LAYERVERSION_core = "15"
LAYERSERIES_CORENAMES = "wrynose blacksail"
LAYERSERIES_COMPAT_core = "blacksail"
COREBASE = '${@os.path.normpath("${LAYERDIR}/../")}'
addpylib ${LAYERDIR}/lib oe
`,
	"conf/bitbake.conf": `PN = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[0] or 'defaultpkgname'}"
PV = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[1] or '1.0'}"
PR = "r0"
SPECIAL_PKGSUFFIX = "-native -cross"
BPN = "${@oe.utils.prune_suffix(d.getVar('PN'), d.getVar('SPECIAL_PKGSUFFIX').split(), d)}"
SUMMARY ?= "${PN} version ${PV}-${PR}"
DESCRIPTION ?= "${SUMMARY}."
LICENSE ??= "INVALID"
SECTION = "base"
DEPENDS = ""
PROVIDES = ""
PROVIDES:prepend = "${PN} "
CLASSOVERRIDE ?= "class-target"
MACHINEOVERRIDES ?= "${MACHINE}"
OVERRIDES = "linux:pn-${PN}:${MACHINEOVERRIDES}:${CLASSOVERRIDE}:forcevariable"
BB_DEFER_BBCLASSES = "native"
BUILD_ARCH := "${@os.uname()[4]}"
INHERIT += "globalextra"
include conf/local.conf
include conf/machine/${MACHINE}.conf
`,
	"conf/machine/qemux86.conf":          "#@NAME: QEMU x86\n#@DESCRIPTION: Machine configuration for running an x86 system\nMACHINEOVERRIDES =. \"qemuall:\"\nTARGET_ARCH = \"i686\"\n",
	"classes-global/base.bbclass":        "BASEDEP = \"virtual/cc\"\nDEPENDS:prepend = \"${BASEDEP} \"\nBB_RECIPE_VIRTUAL_PROVIDERS = \"virtual/cc\"\nPREFERRED_PROVIDER_virtual/cc = \"gcc-cross-${TARGET_ARCH}\"\npython () {\n    pn = d.getVar('PN')\n    msg = d.getVarFlag('SKIP_RECIPE', pn)\n    if msg:\n        raise bb.parse.SkipRecipe(\"Recipe will be skipped because: %s\" % msg)\n}\n",
	"classes-global/globalextra.bbclass": "GLOBALEXTRA = \"1\"\n",
	"classes-recipe/native.bbclass":      "CLASSOVERRIDE = \"class-native\"\nBASEDEP = \"\"\n",
	"classes-recipe/autotools.bbclass":   "DEPENDS:prepend = \"autoconf-native \"\ninherit pkgconfig\n",
	"classes-recipe/pkgconfig.bbclass":   "DEPENDS:prepend = \"pkgconf-native \"\n",
	"classes/legacy.bbclass":             "LEGACY = \"yes\"\n",
	"lib/oe/__init__.py":                 "",
	"lib/oe/utils.py":                    "def double(s):\n    return s + s\n",
	"recipes-core/inc/common.inc":        "COMMON = \"from-recipe-dir\"\nINC_PN := \"${PN}\"\n",
	"common.inc":                         "COMMON = \"from-bbpath\"\n",
}

func testLayer(name string, files map[string]string) Layer {
	m := fstest.MapFS{}
	for k, v := range files {
		m[k] = &fstest.MapFile{Data: []byte(v)}
	}
	return Layer{Name: name, FS: m}
}

func withFiles(base map[string]string, extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range base {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func TestRecipeEvaluation(t *testing.T) {
	tests := []struct {
		name   string
		path   string
		recipe string
		extra  map[string]string
		want   map[string]string // variable -> expanded value; "<unset>" for unset
		check  func(t *testing.T, r *Recipe)
	}{
		{
			name: "PN and PV from the file name", path: "recipes-core/foo/foo_1.2.bb", recipe: `LICENSE = "MIT"`,
			want: map[string]string{"PN": "foo", "PV": "1.2", "PR": "r0", "BPN": "foo", "PROVIDES": "foo ", "LICENSE": "MIT"},
		},
		{
			name: "no version part", path: "recipes-core/foo/bar.bb", recipe: ``,
			// layerindex blanks SUMMARY and DESCRIPTION, so the ?= defaults
			// of bitbake.conf never apply.
			want: map[string]string{"PN": "bar", "PV": "1.0", "SUMMARY": "", "DESCRIPTION": ""},
		},
		{
			name: "weak default vs default", path: "recipes-core/foo/foo.bb",
			recipe: "A ??= \"weak\"\nA ?= \"default\"\nB ?= \"first\"\nB ?= \"second\"\nC ??= \"1\"\nC ??= \"2\"\n",
			want:   map[string]string{"A": "default", "B": "first", "C": "2"},
		},
		{
			name: "immediate expansion sees the value at that line", path: "recipes-core/foo/foo.bb",
			recipe: "X = \"early\"\nI := \"${X}\"\nL = \"${X}\"\nX = \"late\"\n",
			want:   map[string]string{"I": "early", "L": "late"},
		},
		{
			name: "append operators", path: "recipes-core/foo/foo.bb",
			recipe: "A = \"a\"\nA += \"b\"\nA =+ \"c\"\nA .= \"d\"\nA =. \"e\"\nN += \"x\"\n",
			want:   map[string]string{"A": "ec a bd", "N": " x"},
		},
		{
			name: "override order and remove", path: "recipes-core/foo/foo_1.0.bb",
			recipe: "V = \"base\"\nV:qemux86 = \"machine\"\nV:pn-foo = \"pn\"\nW = \"a b c\"\nW:remove = \"b\"\nW:append:qemuall = \" d\"\nW:remove:nomatch = \"a\"\n",
			want:   map[string]string{"V": "machine", "W": "a  c d"},
		},
		{
			name: "include searches the including file's directory first", path: "recipes-core/inc/foo.bb",
			recipe: "include common.inc\n",
			want:   map[string]string{"COMMON": "from-recipe-dir", "INC_PN": "defaultpkgname"},
		},
		{
			name: "include falls back to BBPATH", path: "recipes-core/other/foo.bb",
			recipe: "require common.inc\n",
			want:   map[string]string{"COMMON": "from-bbpath"},
		},
		{
			name: "missing include is ignored, missing require is an error", path: "recipes-core/foo/foo.bb",
			recipe: "include nope.inc\nrequire nope2.inc\nA = \"still parsed\"\n",
			want:   map[string]string{"A": "still parsed"},
			check: func(t *testing.T, r *Recipe) {
				if r.Errors != 1 {
					t.Errorf("errors = %d, want 1 (%v)", r.Errors, r.Diags)
				}
			},
		},
		{
			name: "inherit with nested inherit, global classes not reported", path: "recipes-core/foo/foo.bb",
			recipe: "inherit autotools legacy\n",
			// The last :prepend ends up first.
			want: map[string]string{"DEPENDS": "pkgconf-native autoconf-native gcc-cross-i686", "LEGACY": "yes", "GLOBALEXTRA": "1"},
			check: func(t *testing.T, r *Recipe) {
				if want := []string{"autotools", "legacy", "pkgconfig"}; !reflect.DeepEqual(r.Inherits, want) {
					t.Errorf("inherits = %v, want %v", r.Inherits, want)
				}
			},
		},
		{
			name: "deferred inherit resolved at finalize", path: "recipes-core/foo/foo.bb",
			recipe: "inherit_defer ${CLS}\nCLS = \"legacy\"\n",
			want:   map[string]string{"LEGACY": "yes"},
		},
		{
			name: "BB_DEFER_BBCLASSES: native inherited last", path: "recipes-core/foo/foo-native.bb",
			recipe: "inherit native\nCLASSOVERRIDE = \"class-early\"\nX:class-native = \"native\"\n",
			want:   map[string]string{"CLASSOVERRIDE": "class-native", "X": "native", "BPN": "foo", "DEPENDS": ""},
		},
		{
			name: "anonymous python and virtual providers", path: "recipes-core/foo/foo.bb",
			recipe: "python () {\n    if d.getVar('PN') == 'foo':\n        d.appendVar('DEPENDS', ' extra')\n}\n",
			want:   map[string]string{"DEPENDS": "gcc-cross-i686 extra"},
		},
		{
			name: "skip recipe keeps values at the skip", path: "recipes-core/foo/foo.bb",
			recipe: "SKIP_RECIPE[foo] = \"not wanted\"\n",
			want:   map[string]string{"DEPENDS": "virtual/cc "},
			check: func(t *testing.T, r *Recipe) {
				if !r.Skipped || r.SkipReason != "Recipe will be skipped because: not wanted" {
					t.Errorf("skip = %v %q", r.Skipped, r.SkipReason)
				}
			},
		},
		{
			name: "names with expansions are renamed at finalize", path: "recipes-core/foo/foo.bb",
			recipe: "RDEPENDS:${PN}-dev = \"x\"\nOVERRIDES .= \":foo-dev\"\n",
			want:   map[string]string{"RDEPENDS": "x", "RDEPENDS:foo-dev": "x"},
		},
		{
			name: "library helpers and host", path: "recipes-core/foo/foo.bb",
			recipe: "A = \"${@oe.utils.double('ab')}\"\nB = \"${BUILD_ARCH}\"\nC = \"${@bb.utils.contains('MACHINEOVERRIDES', 'qemuall', 'yes', 'no', d)}\"\n",
			// MACHINEOVERRIDES is colon separated: no whitespace word matches.
			want: map[string]string{"A": "abab", "B": "x86_64", "C": "no", "MACHINEOVERRIDES": "qemuall:qemux86"},
		},
		{
			name: "blanked configuration values", path: "recipes-core/foo/foo.bb", recipe: ``,
			want: map[string]string{"LICENSE": "", "HOMEPAGE": ""},
		},
		{
			name: "unparsable line is a diagnostic", path: "recipes-core/foo/foo.bb",
			recipe: "A = \"1\"\nthis is not bitbake\nB = \"2\"\n",
			want:   map[string]string{"A": "1", "B": "2"},
			check: func(t *testing.T, r *Recipe) {
				if len(r.Diags) == 0 || !strings.Contains(r.Diags[0].String(), "foo.bb:2") {
					t.Errorf("diags = %v", r.Diags)
				}
			},
		},
		{
			name: "file dependencies", path: "recipes-core/inc/foo.bb", recipe: "require common.inc\ninherit legacy\n",
			check: func(t *testing.T, r *Recipe) {
				want := []string{"classes-recipe/legacy.bbclass", "classes/legacy.bbclass", "recipes-core/inc/common.inc", "recipes-core/inc/foo.bb"}
				if !reflect.DeepEqual(r.FileDeps, want) {
					t.Errorf("filedeps = %v, want %v", r.FileDeps, want)
				}
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			files := withFiles(miniCore, tc.extra)
			files[tc.path] = tc.recipe
			core := testLayer("meta", files)
			var extra []string
			for k := range tc.want {
				extra = append(extra, k)
			}
			cfg, err := NewConfig(core, nil, Options{ExtraVars: extra})
			if err != nil {
				t.Fatal(err)
			}
			r := cfg.ParseRecipe(tc.path)
			for k, want := range tc.want {
				got, ok := r.Vars[k]
				if !ok {
					got = "<unset>"
				}
				if got != want {
					t.Errorf("%s = %q, want %q", k, got, want)
				}
			}
			if tc.check != nil {
				tc.check(t, r)
			}
		})
	}
}

func TestDependencyLayer(t *testing.T) {
	core := testLayer("meta", miniCore)
	dep := testLayer("meta-dep", map[string]string{
		"conf/layer.conf":          "BBPATH .= \":${LAYERDIR}\"\nBBFILE_COLLECTIONS += \"dep\"\nBBFILE_PATTERN_dep = \"^${LAYERDIR}/\"\nLAYERDEPENDS_dep = \"core\"\n",
		"classes/depclass.bbclass": "FROMDEP = \"yes\"\n",
	})
	target := testLayer("meta-target", map[string]string{
		"conf/layer.conf":                "BBPATH .= \":${LAYERDIR}\"\nBBFILE_COLLECTIONS += \"target\"\nBBFILE_PATTERN_target = \"^${LAYERDIR}/\"\nLAYERDEPENDS_target = \"core (>= 12) dep\"\nLAYERVERSION_target = \"3\"\nLAYERSERIES_COMPAT_target = \"blacksail wrynose\"\n",
		"recipes-x/app/app_2.0.bb":       "inherit depclass autotools\n",
		"recipes-x/app/files/fix.patch":  "Subject: x\nUpstream-Status: Pending [needs work]\n---\ndiff -u a b\n",
		"conf/machine/board.conf":        "#@NAME: Board\n#@DESCRIPTION: Machine configuration for the Board\n",
		"classes-recipe/thing.bbclass":   "",
		"nested/conf/layer.conf":         "",
		"nested/recipes-y/y/y_1.0.bb":    "",
		"recipes-x/app/app.inc":          "",
		"recipes-x/app/app_2.0.bbappend": "",
	})
	cfg, err := NewConfig(target, []Layer{core, dep}, Options{ExtraVars: []string{"FROMDEP", "BBPATH"}})
	if err != nil {
		t.Fatal(err)
	}
	recipes, err := cfg.ParseLayer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(recipes) != 1 {
		t.Fatalf("recipes = %d, want 1 (nested layer skipped)", len(recipes))
	}
	r := recipes[0]
	if r.PN != "app" || r.PV != "2.0" || r.Vars["FROMDEP"] != "yes" {
		t.Errorf("PN %q PV %q FROMDEP %q", r.PN, r.PV, r.Vars["FROMDEP"])
	}
	if want := []string{"autotools", "depclass", "pkgconfig"}; !reflect.DeepEqual(r.Inherits, want) {
		t.Errorf("inherits = %v", r.Inherits)
	}
	// setup_layer parses the target's layer.conf before its dependencies'.
	if want := "<TOPDIR>:<COREBASE>/meta:<LAYERDIR>/meta-target:<LAYERDIR>/meta-dep"; r.Vars["BBPATH"] != want {
		t.Errorf("BBPATH = %q, want %q", r.Vars["BBPATH"], want)
	}
	// classes-recipe/depclass.bbclass and classes/depclass.bbclass were
	// probed in the target layer before the class was found in the
	// dependency.
	if want := []string{"classes-recipe/depclass.bbclass", "classes/depclass.bbclass", "recipes-x/app/app_2.0.bb"}; !reflect.DeepEqual(r.FileDeps, want) {
		t.Errorf("filedeps = %v", r.FileDeps)
	}

	f, err := ReadLayerFacts(target.FS)
	if err != nil {
		t.Fatal(err)
	}
	wantDeps := []Dependency{{Name: "core", Constraints: []string{">= 12"}}, {Name: "dep"}}
	if f.Collection != "target" || f.Version != "3" || !reflect.DeepEqual(f.Depends, wantDeps) ||
		!reflect.DeepEqual(f.SeriesCompat, []string{"blacksail", "wrynose"}) {
		t.Errorf("facts = %+v", f)
	}
	cf, err := ReadLayerFacts(core.FS)
	if err != nil || cf.Collection != "core" || cf.Version != "15" || !reflect.DeepEqual(cf.CoreNames, []string{"wrynose", "blacksail"}) {
		t.Errorf("core facts = %+v, %v", cf, err)
	}

	files, err := WalkLayer(target.FS)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]LayerFile{}
	for _, lf := range files {
		got[lf.Path] = lf
	}
	checks := []LayerFile{
		{Kind: KindRecipe, Path: "recipes-x/app/app_2.0.bb"},
		{Kind: KindBBAppend, Path: "recipes-x/app/app_2.0.bbappend"},
		{Kind: KindInc, Path: "recipes-x/app/app.inc"},
		{Kind: KindPatch, Path: "recipes-x/app/files/fix.patch", UpstreamStatus: "Pending", StatusExtra: "[needs work]"},
		{Kind: KindMachine, Path: "conf/machine/board.conf", Name: "board", Description: " Board"},
		{Kind: KindClass, Path: "classes-recipe/thing.bbclass", Name: "thing", ClassType: "recipe"},
	}
	for _, want := range checks {
		if g := got[want.Path]; !reflect.DeepEqual(g, want) {
			t.Errorf("%s: got %+v, want %+v", want.Path, g, want)
		}
	}
	if _, ok := got["nested/recipes-y/y/y_1.0.bb"]; ok {
		t.Errorf("nested layer not skipped")
	}
}

// TestFileDependencies checks the file dependencies layerindex stores
// (what an incremental update re-parses by): files the target's
// layer.conf pulls in, with the paths probed for them, are every recipe's;
// paths are normalized.
func TestFileDependencies(t *testing.T) {
	core := testLayer("meta", miniCore)
	dep := testLayer("meta-dep", map[string]string{
		"conf/layer.conf":       "BBPATH .= \":${LAYERDIR}\"\nBBFILE_COLLECTIONS += \"dep\"\nBBFILE_PATTERN_dep = \"^${LAYERDIR}/\"\nrequire conf/dep-extra.inc\n",
		"conf/dep-extra.inc":    "DEPEXTRA = \"1\"\n",
		"conf/shared/flags.inc": "FLAGS = \"dep\"\n",
	})
	target := testLayer("meta-target", map[string]string{
		"conf/layer.conf":                  "BBPATH .= \":${LAYERDIR}\"\nBBFILE_COLLECTIONS += \"target\"\nBBFILE_PATTERN_target = \"^${LAYERDIR}/\"\nrequire conf/distro/include/flags.inc\ninclude conf/shared/flags.inc\n",
		"conf/distro/include/flags.inc":    "TARGETFLAGS = \"1\"\n",
		"recipes-ti/bios/bios_1.0.bb":      "require ../includes/ti-paths.inc\n",
		"recipes-ti/includes/ti-paths.inc": "TIPATHS = \"1\"\n",
	})
	cfg, err := NewConfig(target, []Layer{core, dep}, Options{ExtraVars: []string{"TARGETFLAGS", "TIPATHS", "FLAGS"}})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.ParseRecipe("recipes-ti/bios/bios_1.0.bb")
	// The dependency is not on BBPATH yet when the target's layer.conf
	// includes conf/shared/flags.inc: it is not found.
	if _, ok := r.Vars["FLAGS"]; ok || r.Vars["TARGETFLAGS"] != "1" || r.Vars["TIPATHS"] != "1" || r.Errors != 0 {
		t.Errorf("vars %v, diags %v", r.Vars, r.Diags)
	}
	want := []string{
		// layer.conf's require: beside layer.conf first, then BBPATH.
		"conf/conf/distro/include/flags.inc",
		"conf/conf/shared/flags.inc",
		// probed in the target for the dependency's layer.conf
		"conf/dep-extra.inc",
		"conf/distro/include/flags.inc",
		"conf/shared/flags.inc",
		"recipes-ti/bios/bios_1.0.bb",
		"recipes-ti/includes/ti-paths.inc", // recipes-ti/bios/../includes/ti-paths.inc
	}
	if !reflect.DeepEqual(r.FileDeps, want) {
		t.Errorf("filedeps = %v\nwant        %v", r.FileDeps, want)
	}
}

func TestConfigErrors(t *testing.T) {
	if _, err := NewConfig(testLayer("x", map[string]string{"conf/layer.conf": ""}), nil, Options{}); err == nil {
		t.Errorf("expected an error without a core layer")
	}
}

func TestHostileInput(t *testing.T) {
	files := withFiles(miniCore, map[string]string{
		"recipes-core/loop/a.inc":  "include b.inc\n",
		"recipes-core/loop/b.inc":  "include a.inc\n",
		"classes-recipe/x.bbclass": "inherit y\n",
		"classes-recipe/y.bbclass": "inherit x\n",
		"recipes-core/loop/loop.bb": `include a.inc
inherit x
A = "${A}${A}"
B = "${@'x' * 100000000}"
C = "${C1}"
C1 = "${C2}"
C2 = "${C1}"
include ../../../../etc/passwd.inc
python () {
    while True:
        pass
}
`,
	})
	cfg, err := NewConfig(testLayer("meta", files), nil, Options{ExtraVars: []string{"A", "B", "C"}})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.ParseRecipe("recipes-core/loop/loop.bb")
	if r.PN != "loop" {
		t.Errorf("PN = %q", r.PN)
	}
	if len(r.Vars["B"]) > 1<<20 {
		t.Errorf("B not bounded")
	}
}

func TestOldSyntaxLayer(t *testing.T) {
	files := withFiles(miniCore, map[string]string{
		"conf/bitbake.conf": strings.ReplaceAll(strings.ReplaceAll(miniCore["conf/bitbake.conf"],
			"PROVIDES:prepend", "PROVIDES_prepend"), "INHERIT +=", "INHERIT +="),
		"classes-global/base.bbclass": "DEPENDS_prepend = \"virtual/cc \"\nBB_RECIPE_VIRTUAL_PROVIDERS = \"virtual/cc\"\nPREFERRED_PROVIDER_virtual/cc = \"gcc-cross-${TARGET_ARCH}\"\n",
		"recipes-core/foo/foo_1.0.bb": `DEPENDS = "zlib"
DEPENDS_append = " openssl"
DEPENDS_remove = "zlib"
SRC_URI = "http://x/foo.tar.gz"
SRC_URI_append_qemux86 = " file://qemu.patch"
SRC_URI_append_arm = " file://arm.patch"
RDEPENDS_${PN} = "bash"
V = "base"
V_qemuall = "qemuall"
V_qemux86 = "qemux86"
W:append = " colon"
`,
	})
	core := testLayer("meta", files)
	if !DetectOldSyntax(core.FS) {
		t.Fatalf("old syntax not detected")
	}
	if DetectOldSyntax(testLayer("meta", miniCore).FS) {
		t.Fatalf("new syntax detected as old")
	}
	cfg, err := NewConfig(core, nil, Options{OldSyntax: true, ExtraVars: []string{"V", "W", "RDEPENDS_foo", "RDEPENDS"}})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.ParseRecipe("recipes-core/foo/foo_1.0.bb")
	want := map[string]string{
		"DEPENDS": "gcc-cross-i686 openssl", "PROVIDES": "foo ", "SRC_URI": "http://x/foo.tar.gz file://qemu.patch",
		"V": "qemux86", "W": " colon", "RDEPENDS_foo": "bash",
	}
	for k, v := range want {
		if got := r.Vars[k]; got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if !reflect.DeepEqual(r.Sources, []string{"http://x/foo.tar.gz"}) {
		t.Errorf("sources = %v", r.Sources)
	}
}

func TestDistroName(t *testing.T) {
	files := withFiles(miniCore, map[string]string{
		"conf/distro/mydistro.conf": "#@NAME: My Distro\nDISTRO_NAME = \"My ${MACHINE} distro\"\n",
	})
	cfg, err := NewConfig(testLayer("meta", files), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if name, diags := cfg.DistroName("conf/distro/mydistro.conf"); name != "My qemux86 distro" || len(diags) != 0 {
		t.Errorf("DistroName = %q, %v", name, diags)
	}
}

// TestIncludeTreeBounded: files that include each other more than once
// make a tree of readings that grows as 2^MaxIncludeDepth (the hostile
// suite's "recursive includes" layer kept a parser child busy for minutes);
// the count of files read ends it with a diagnostic that says why.
func TestIncludeTreeBounded(t *testing.T) {
	files := withFiles(miniCore, map[string]string{
		"recipes-rec/cycle/cycle_1.0.bb": "LICENSE = \"MIT\"\ninclude a.inc\n",
		"recipes-rec/cycle/a.inc":        "include b.inc\n",
		"recipes-rec/cycle/b.inc":        "include a.inc\nrequire cycle_1.0.bb\n",
		"recipes-rec/self/self_1.0.bb":   "LICENSE = \"MIT\"\nrequire self.inc\n",
		"recipes-rec/self/self.inc":      "A += \"x\"\nrequire self.inc\n",
		"recipes-rec/long/long_1.0.bb":   "LICENSE = \"MIT\"\nX = \"${X}${X}\"\nrequire ${X}.inc\ninherit ${X}\n",
	})
	cfg, err := NewConfig(testLayer("meta", files), nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.ParseRecipe("recipes-rec/cycle/cycle_1.0.bb")
	var found bool
	for _, d := range r.Diags {
		found = found || strings.Contains(d.Msg, "more than 10000 files read through include, require and inherit")
	}
	if !found || r.Errors == 0 {
		t.Errorf("cycle: want the files-read limit in the diagnostics: %d errors, %v", r.Errors, r.Diags)
	}
	if r.PN != "cycle" {
		t.Errorf("cycle: PN %q", r.PN)
	}
	// A self-referencing variable makes a megabyte-long file name: it is
	// refused, neither probed nor recorded (PostgreSQL cannot index it).
	r = cfg.ParseRecipe("recipes-rec/long/long_1.0.bb")
	for _, f := range r.FileDeps {
		if len(f) > MaxPathLen {
			t.Errorf("long: a dependency of %d bytes", len(f))
		}
	}
	if len(r.Diags) == 0 || !strings.Contains(fmt.Sprint(r.Diags), "bytes refused (the limit is 4096)") {
		t.Errorf("long: %.500v", r.Diags)
	}
	// A single chain ends at the depth limit, far below the files limit.
	r = cfg.ParseRecipe("recipes-rec/self/self_1.0.bb")
	if len(r.Diags) == 0 || !strings.Contains(r.Diags[0].Msg, "nesting deeper than 48") {
		t.Errorf("self: %v", r.Diags)
	}
}

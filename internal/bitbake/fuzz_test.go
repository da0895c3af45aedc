package bitbake

import (
	"testing"
	"time"
)

var recipeSeeds = []string{
	"SUMMARY = \"x\"\nLICENSE = \"MIT\"\nDEPENDS = \"zlib\"\nDEPENDS:append:qemux86 = \" y\"\nDEPENDS:remove = \"zlib\"\ninherit autotools\n",
	"PN = \"${BPN}-x\"\nBPN = \"${PN}\"\nA = \"${A}\"\nB := \"${@d.getVar('B')}\"\n",
	"inherit_defer ${C}\nC = \"legacy\"\nrequire common.inc\ninclude nope.inc\n",
	"python () {\n    d.setVar('X', d.getVar('X') or '' + 'y')\n    raise bb.parse.SkipRecipe('no')\n}\n",
	"RDEPENDS:${PN}-dev = \"x\"\nFILES:${PN} += \"/usr\"\nOVERRIDES .= \":${PN}-dev\"\n",
	"SRC_URI = \"git://h/p;branch=main file://a.patch https://x/y-${PV}.tar.gz;name=t\"\nSRCREV = \"${AUTOREV}\"\n",
	"X = \"${@bb.utils.contains('DISTRO_FEATURES', 'x11', '${Y}', '', d)}\"\nY = \"${X}\"\n",
	"def f(d):\n    return f(d)\nZ = \"${@f(d)}\"\n",
	"inherit ${@'x' * 40}\nrequire ${@'../' * 20}etc/passwd\n",
}

// FuzzRecipe evaluates arbitrary recipe text on a small core layer: no
// panic, bounded time.
func FuzzRecipe(f *testing.F) {
	for _, s := range recipeSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, recipe string) {
		files := withFiles(miniCore, map[string]string{"recipes-core/fuzz/fuzz_1.0.bb": recipe})
		cfg, err := NewConfig(testLayer("meta", files), nil, Options{ExtraVars: []string{"X", "Y", "Z"}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		r := cfg.ParseRecipe("recipes-core/fuzz/fuzz_1.0.bb")
		if r == nil || r.Path == "" {
			t.Fatal("no result")
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Fatalf("parse took %v", el)
		}
	})
}

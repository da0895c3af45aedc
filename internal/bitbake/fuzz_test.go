package bitbake

import (
	"runtime"
	"strings"
	"testing"
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

// checkRecipeSteps bounds a recipe's Python work by its count of
// evaluation steps rather than by the clock, which a loaded machine moves:
// the recipe's evaluations must stop at their shared budget (the step that
// exceeds it is the last one). Expansion is bounded by its own byte limits.
func checkRecipeSteps(t *testing.T, r *Recipe) {
	t.Helper()
	if r.PythonSteps > RecipeStepBudget+1 {
		t.Fatalf("the recipe ran %d Python steps, over the budget of %d", r.PythonSteps, RecipeStepBudget)
	}
}

// FuzzRecipe evaluates arbitrary recipe text on a small core layer: no
// panic, bounded work.
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
		r := cfg.ParseRecipe("recipes-core/fuzz/fuzz_1.0.bb")
		if r == nil || r.Path == "" {
			t.Fatal("no result")
		}
		checkRecipeSteps(t, r)
	})
}

// pythonSeeds are Python expressions for FuzzPythonInLayer, among them the
// memory bombs of issue 11.
var pythonSeeds = []string{
	`d.getVar('DISTRO_FEATURES') or ''`,
	`'%09999999999d' % 1`,
	`'{:>1000000000}'.format(1)`,
	`f'{1:>1000000000}'`,
	`'x' * 10**9`,
	`['x'] * 10**9`,
	`' '.join(['x' * 1000000] * 1000)`,
	`('x' * 1000000).replace('x', 'yy')`,
	`'x'.center(10**9)`,
	`(chr(9) * 1000000).expandtabs(1000)`,
	`10**10**10`,
	`9**9**9`,
	`str(list(range(10**9)))`,
	`bb.utils.contains('DISTRO_FEATURES', 'x11', 'a' * 100, '', d)`,
}

// fuzzLayerAllocBudget bounds what parsing the fuzz layer may allocate.
// The interpreter's default limits let one evaluation produce values of
// 64 MB in total (pyeval.DefaultLimits.MaxAlloc), and a recipe several
// evaluations; the bombs this guards against allocated gigabytes.
const fuzzLayerAllocBudget = 256 << 20

// FuzzPythonInLayer evaluates a Python expression where a hostile layer
// puts it: in an immediate assignment of its conf/layer.conf and in a
// recipe's inline expression and anonymous function. Whatever it does, the
// configuration and the recipe parse within a memory budget.
func FuzzPythonInLayer(f *testing.F) {
	for _, s := range pythonSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		if strings.ContainsAny(code, "\n\"$\\") {
			t.Skip("the expression must stay one expression in each place")
		}
		files := withFiles(miniCore, map[string]string{
			"conf/layer.conf": miniCore["conf/layer.conf"] + "FUZZ_CONF := \"${@" + code + "}\"\n",
			"recipes-core/fuzz/fuzz_1.0.bb": "X = \"${@" + code + "}\"\nDEPENDS = \"${X}\"\n" +
				"python () {\n    d.setVar('Y', str(" + code + "))\n}\n",
		})
		runtime.GC()
		before := heapAllocated()
		cfg, err := NewConfig(testLayer("meta", files), nil, Options{ExtraVars: []string{"X", "Y"}})
		if err != nil {
			return // a refused configuration is a fine outcome
		}
		r := cfg.ParseRecipe("recipes-core/fuzz/fuzz_1.0.bb")
		if r == nil || r.Path == "" {
			t.Fatal("no result")
		}
		if n := heapAllocated() - before; n > fuzzLayerAllocBudget {
			t.Fatalf("parsing allocated %d MB", n>>20)
		}
		checkRecipeSteps(t, r)
	})
}

func heapAllocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

package pyeval

import (
	"strings"
	"testing"
)

// recipeRun runs body as one recipe's anonymous function with its own
// shared state over cache, and returns the instance of module name the
// recipe used.
func recipeRun(t *testing.T, h *mapHost, cache *ModuleCache, name, body string) *Module {
	t.Helper()
	sh := NewShared(1 << 30)
	sh.Modules = cache
	in := NewInterpShared(h, sh)
	if err := in.RunFunction("anon", "    "+strings.ReplaceAll(strings.TrimSpace(body), "\n", "\n    ")); err != nil {
		t.Fatalf("run %q: %v", body, err)
	}
	if len(in.Failed) > 0 {
		t.Fatalf("run %q: failed %v", body, in.Failed)
	}
	e := sh.libMods[name]
	if e == nil || e.m == nil {
		t.Fatalf("module %s not instantiated", name)
	}
	return e.m
}

func TestModuleCacheReuseIsUnobservable(t *testing.T) {
	h := newHost()
	h.mods["oe.m"] = `import re
ITEMS = []
NAMES = {"a": 1}
PAT = re.compile("x+")
class K(object):
    n = 1
    def get(self):
        return K.n
cache = None

def add(x):
    ITEMS.append(x)
    return len(ITEMS)

def fill(v):
    global cache
    cache = v

def setn(v):
    K.n = v

def state():
    return "%d %s %d %s %s" % (len(ITEMS), cache, K().get(), sorted(NAMES), PAT.sub("y", "axxb"))
`
	cache := NewModuleCache()
	read := "import oe.m\nd.setVar('S', oe.m.state())\n"
	m1 := recipeRun(t, h, cache, "oe.m", read)
	if h.vars["S"] != "0 None 1 ['a'] ayb" {
		t.Fatalf("state %q", h.vars["S"])
	}
	// A recipe that only reads gets the same instance...
	if m2 := recipeRun(t, h, cache, "oe.m", read); m2 != m1 {
		t.Fatal("an unchanged module was instantiated again")
	}
	// ...and every kind of change a recipe makes stays with that recipe.
	for _, change := range []string{"oe.m.add(1)", "oe.m.fill('x')", "oe.m.setn(2)", "oe.m.NAMES['b'] = 2",
		"oe.m.NAMES['a'] = 3"} {
		m := recipeRun(t, h, cache, "oe.m", "import oe.m\n"+change+"\n")
		if m != m1 {
			t.Fatalf("%s: the recipe did not get the cached instance", change)
		}
		m1 = recipeRun(t, h, cache, "oe.m", read)
		if m1 == m {
			t.Errorf("%s: a changed instance was reused", change)
		}
		if h.vars["S"] != "0 None 1 ['a'] ayb" {
			t.Errorf("%s: the next recipe saw %q", change, h.vars["S"])
		}
	}
	// A module whose source changed is instantiated again.
	h.mods["oe.m"] = "def state():\n    return 'new'\n"
	if m := recipeRun(t, h, cache, "oe.m", read); m == m1 || h.vars["S"] != "new" {
		t.Errorf("changed source: same instance %v, state %q", m == m1, h.vars["S"])
	}
}

func TestModuleCacheSkipsModulesThatReadTheLayers(t *testing.T) {
	h := newHost()
	h.mods["file:/layer/data.txt"] = "v1"
	h.mods["oe.io"] = "DATA = open('/layer/data.txt').read()\n"
	h.mods["oe.uses"] = "import oe.io\nfrom oe.io import DATA\n"
	h.mods["oe.pure"] = "X = 1\n"
	h.funcs["helper"] = "def helper():\n    return 1\n"
	h.mods["oe.meta"] = "H = helper\n"
	cache := NewModuleCache()
	for _, name := range []string{"oe.io", "oe.uses", "oe.meta"} {
		body := "import " + name + "\nv = " + name + "\n"
		first := recipeRun(t, h, cache, name, body)
		if recipeRun(t, h, cache, name, body) == first {
			t.Errorf("%s was shared although its top level reads the recipe or the layers", name)
		}
	}
	first := recipeRun(t, h, cache, "oe.pure", "v = oe.pure.X\n")
	if recipeRun(t, h, cache, "oe.pure", "v = oe.pure.X\n") != first {
		t.Error("oe.pure was not shared")
	}
}

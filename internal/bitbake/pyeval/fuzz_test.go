package pyeval

import (
	"runtime"
	"testing"
)

// fuzzLimits are the limits of the fuzz targets; fuzzAllocBudget is what
// one input may allocate in total under them. MaxAlloc charges the values
// produced; the budget leaves room for what building them costs on the
// way (builders growing, copies) but not for a value beyond the limits:
// the memory bombs of issue 11 allocated gigabytes.
var fuzzLimits = Limits{Steps: 100_000, Depth: 40, MaxBytes: 1 << 20, MaxAlloc: 16 << 20}

const fuzzAllocBudget = 96 << 20

// heapAllocated is the total of the heap allocations so far.
func heapAllocated() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

var exprSeeds = []string{
	`bb.utils.contains('DISTRO_FEATURES', 'x11', 'libx11', '', d)`,
	`bb.utils.filter('DISTRO_FEATURES', 'wayland x11', d)`,
	`'a' if d.getVar('A') == 'yes' else 'b'`,
	`['x', ''][d.getVar('A') != 'no']`,
	`' '.join([x for x in d.getVar('A').split() if x])`,
	`oe.utils.conditional('A', 'yes', 't', 'f', d)`,
	`"%s-%d" % ("a", 3) + "{0}".format(1) + f"{d.getVar('A')!r:>5}"`,
	`{'a': [1, 2.5, None, True], (1, 2): {1, 2}}['a'][1:]`,
	`d.getVar('A')[::-1].replace('a', 'b').startswith(('x', 'y'))`,
	`lambda x, *a, k=1, **kw: x`,
	`int("0x1f", 16) ** 2 // 3 % 5 << 2 >> 1 | 4 & 5 ^ 6`,
	`not (1 < 2 <= 3 != 4) and None or "x" * 3`,
	`os.path.join("/a", "b") + os.path.basename("/c/d") + os.uname()[4]`,
	`"a" * 99999999999`,
	`'%09999999999d' % 1`,
	`'{:>1000000000}'.format(1)`,
	`f'{1.0:.99999999f}'`,
	`'x'.ljust(999999, '\u20ac') * 9`,
	`10**10**10 + 9**9**9`,
	`int('9' * 40) << 70`,
	`((((((((((((((((((((1))))))))))))))))))))`,
	`"unterminated`,
	`bb.fetch.URI("git://h/p;branch=m").params['branch']`,
}

var bodySeeds = []string{
	"    x = d.getVar('A') or ''\n    for w in x.split():\n        d.appendVar('B', ' ' + w)\n",
	"    while True:\n        pass\n",
	"    def f(n):\n        return f(n + 1)\n    f(0)\n",
	"    try:\n        {}['k']\n    except KeyError as e:\n        d.setVar('E', str(e))\n    finally:\n        pass\n",
	"    class C(object):\n        def __init__(self, v):\n            self.v = v\n    c = C(1)\n    d.setVar('C', str(c.v))\n",
	"    import re\n    if re.match('(a|b)+$', d.getVar('A') or ''):\n        raise bb.parse.SkipRecipe('skip')\n",
	"    l = []\n    for i in range(1000):\n        l.append(str(i) * 1000)\n    d.setVar('L', ''.join(l))\n",
	"    x = [1]\n    for i in range(40):\n        x = x + x\n",
	"    s = '%0999999d' % 1\n    while True:\n        s = s.replace('0', '00')\n",
	"    n = 2\n    for i in range(100):\n        n = n * n\n    d.setVar('N', str(n))\n",
	"    l = [' ' * 500000]\n    while True:\n        l = l + l\n        d.setVar('J', ''.join(l))\n",
	"\tbad indentation\n",
}

func fuzzHost() *mapHost {
	h := newHost("A", "a b yes", "DISTRO_FEATURES", "x11 opengl")
	h.funcs["rec"] = "def rec(n):\n    return rec(n + 1)\n"
	return h
}

// FuzzEvalInline checks that inline expressions never panic and finish
// within the limits.
func FuzzEvalInline(f *testing.F) {
	for _, s := range exprSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		in := NewInterp(fuzzHost())
		in.Limits = fuzzLimits
		before := heapAllocated()
		v, _ := in.EvalInline(code)
		if len(v) > 2<<20 {
			t.Fatalf("result of %d bytes exceeds the size limit", len(v))
		}
		if n := heapAllocated() - before; n > fuzzAllocBudget {
			t.Fatalf("evaluation allocated %d MB", n>>20)
		}
		checkSteps(t, in)
	})
}

// checkSteps bounds an evaluation's work by its count of steps rather
// than by the clock, which a loaded machine moves: the interpreter must
// stop at its step limit (the step that exceeds it is the last one).
func checkSteps(t *testing.T, in *Interp) {
	t.Helper()
	if n := in.Steps(); n > fuzzLimits.Steps+1 {
		t.Fatalf("evaluation ran %d steps, over the limit of %d", n, fuzzLimits.Steps)
	}
}

// FuzzRunFunction checks anonymous-function bodies the same way.
func FuzzRunFunction(f *testing.F) {
	for _, s := range bodySeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		h := fuzzHost()
		in := NewInterp(h)
		in.Limits = fuzzLimits
		before := heapAllocated()
		_ = in.RunFunction("__anon_fuzz", body)
		if n := heapAllocated() - before; n > fuzzAllocBudget {
			t.Fatalf("evaluation allocated %d MB", n>>20)
		}
		checkSteps(t, in)
		for k, v := range h.vars {
			if len(v) > 4<<20 {
				t.Fatalf("variable %s of %d bytes", k, len(v))
			}
		}
	})
}

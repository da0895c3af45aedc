package pyeval

import (
	"errors"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// mapHost is a minimal datastore for tests: plain variables, flags and
// ${VAR} expansion without overrides.
type mapHost struct {
	vars     map[string]string
	flags    map[string]map[string]string
	funcs    map[string]string
	mods     map[string]string
	inherits map[string]bool
	files    map[string]bool
	filters  map[string]string
}

func newHost(kv ...string) *mapHost {
	h := &mapHost{vars: map[string]string{}, flags: map[string]map[string]string{}, funcs: map[string]string{},
		mods: map[string]string{}, inherits: map[string]bool{}, files: map[string]bool{}, filters: map[string]string{}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.vars[kv[i]] = kv[i+1]
	}
	return h
}

var refRe = regexp.MustCompile(`\$\{[a-zA-Z0-9\-_+./~:]+\}`)

func (h *mapHost) GetVar(n string, expand bool) (string, bool) {
	v, ok := h.vars[n]
	if ok && expand {
		v, _ = h.Expand(v)
	}
	return v, ok
}
func (h *mapHost) GetVarFlag(n, f string, expand bool) (string, bool) {
	v, ok := h.flags[n][f]
	return v, ok
}
func (h *mapHost) VarFlags(n string) map[string]string { return h.flags[n] }
func (h *mapHost) SetVar(n, v string)                  { h.vars[n] = v }
func (h *mapHost) SetVarFlag(n, f, v string) {
	if h.flags[n] == nil {
		h.flags[n] = map[string]string{}
	}
	h.flags[n][f] = v
}
func (h *mapHost) AppendVar(n, v string)         { h.vars[n] += v }
func (h *mapHost) PrependVar(n, v string)        { h.vars[n] = v + h.vars[n] }
func (h *mapHost) AppendVarFlag(n, f, v string)  { h.SetVarFlag(n, f, h.flags[n][f]+v) }
func (h *mapHost) PrependVarFlag(n, f, v string) { h.SetVarFlag(n, f, v+h.flags[n][f]) }
func (h *mapHost) DelVar(n string)               { delete(h.vars, n) }
func (h *mapHost) DelVarFlag(n, f string)        { delete(h.flags[n], f) }
func (h *mapHost) RenameVar(a, b string)         { h.vars[b] = h.vars[a]; delete(h.vars, a) }
func (h *mapHost) Expand(s string) (string, error) {
	for i := 0; i < 10 && strings.Contains(s, "${"); i++ {
		s = refRe.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := h.vars[m[2:len(m)-1]]; ok {
				return v
			}
			return m
		})
	}
	return s, nil
}
func (h *mapHost) Inherits(c string) bool { return h.inherits[c] }
func (h *mapHost) CreateCopy() Host {
	n := newHost()
	for k, v := range h.vars {
		n.vars[k] = v
	}
	n.funcs, n.mods, n.inherits = h.funcs, h.mods, h.inherits
	return n
}
func (h *mapHost) Function(n string) (string, bool)       { s, ok := h.funcs[n]; return s, ok }
func (h *mapHost) FileExists(p string) (bool, bool)       { return h.files[p], false }
func (h *mapHost) SetFilter(n, e string)                  { h.filters[n] = e }
func (h *mapHost) PyModule(n string) (string, bool)       { s, ok := h.mods[n]; return s, ok }
func (h *mapHost) MarkDependency(p string)                {}
func (h *mapHost) SetVarObject(n string, v any, s string) { h.vars[n] = s }
func (h *mapHost) VarObject(n string) (any, bool)         { return nil, false }
func (h *mapHost) ReadFile(p string) (string, bool, bool) {
	s, ok := h.mods["file:"+p]
	return s, ok, strings.HasPrefix(p, "/layer/")
}
func (h *mapHost) InLayers(p string) bool     { return strings.HasPrefix(p, "/layer/") }
func (h *mapHost) Glob(p string) []string     { return nil }
func (h *mapHost) HasOverrides(n string) bool { return false }

func TestInlineExpressions(t *testing.T) {
	h := newHost(
		"DISTRO_FEATURES", "x11 opengl wayland ipv6",
		"USE_NLS", "yes",
		"PN", "foo-native",
		"PV", "1.2.3",
		"MLPREFIX", "",
		"SPECIAL_PKGSUFFIX", "-native -cross",
		"baselib", "lib64",
		"EMPTY", "",
		"DEBUG_BUILD", "0",
		"TUNE_PKGARCH", "core2-32",
		"MACHINE", "qemux86-64",
		"FILE", "/l/recipes/foo/foo-native_1.2.bb",
		"PE", "",
		"COMMERCIAL_PLUGINS", "good-ugly",
	)
	h.funcs["gnome_verdir"] = "def gnome_verdir(v):\n    return \".\".join(v.split(\".\")[:-1]) or v"
	h.funcs["get_base_dep"] = "def get_base_dep(d):\n    if d.getVar('INHIBIT_DEFAULT_DEPS', False):\n        return \"\"\n    return \"${BASE_DEFAULT_DEPS}\""
	h.funcs["resub"] = "def resub(s):\n    import re\n    return re.sub(r'(\\d+)\\.(\\d+)', r'\\2.\\1', s)"
	h.funcs["rematch"] = "def rematch(s):\n    import re\n    return re.match('qemu.*', s) is not None"
	tests := []struct{ code, want string }{
		{`bb.utils.contains('DISTRO_FEATURES', 'x11', 'libx11', '', d)`, "libx11"},
		{`bb.utils.contains('DISTRO_FEATURES', 'x11 vulkan', 'a', 'b', d)`, "b"},
		{`bb.utils.contains('DISTRO_FEATURES', ['x11', 'ipv6'], 'a', 'b', d)`, "a"},
		{`bb.utils.contains('NOPE', 'x11', 'a', 'b', d)`, "b"},
		{`bb.utils.contains_any('DISTRO_FEATURES', 'vulkan opengl', 'yes', 'no', d)`, "yes"},
		{`bb.utils.filter('DISTRO_FEATURES', 'wayland x11 lto', d)`, "wayland x11"},
		{`'textstyle' if d.getVar('USE_NLS') == 'yes' else ''`, "textstyle"},
		{`['--enable-clocale=generic', ''][d.getVar('USE_NLS') != 'no']`, ""},
		{`d.getVar('baselib').replace('lib', '')`, "64"},
		{`oe.utils.conditional('USE_NLS', 'yes', 'nls', 'nonls', d)`, "nls"},
		{`oe.utils.vartrue('DEBUG_BUILD', '-Og', '-O2', d)`, "-O2"},
		{`oe.utils.prune_suffix(d.getVar('PN'), d.getVar('SPECIAL_PKGSUFFIX').split(), d)`, "foo"},
		{`oe.utils.trim_version("1.2.3", 2)`, "1.2"},
		{`bb.parse.vars_from_file(d.getVar('FILE', False),d)[0] or 'defaultpkgname'`, "foo-native"},
		{`bb.parse.vars_from_file(d.getVar('FILE', False),d)[1] or '1.0'`, "1.2"},
		{`os.uname()[4]`, "x86_64"},
		{`os.uname()[0].lower()`, "linux"},
		{`[d.getVar('TUNE_PKGARCH'), d.getVar('MACHINE')][bool(d.getVar('MACHINE'))].replace('-', '_')`, "qemux86_64"},
		{`['','${PE}_'][int(d.getVar('PE') or 0) > 0]`, ""},
		{`gnome_verdir("3.42.1")`, "3.42"},
		{`get_base_dep(d)`, "${BASE_DEFAULT_DEPS}"},
		{`' '.join(['mcextend:'+x for x in 'a b'.split()])`, "mcextend:a mcextend:b"},
		{`'ugly' in COMMERCIAL_PLUGINS.split('-')`, "True"},
		{`{'ppc': 'powerpc', 'x86_64': 'amd64'}.get('x86_64', 'x')`, "amd64"},
		{`"%s-%d" % ("a", 3)`, "a-3"},
		{`"{}-{name}".format(1, name="b")`, "1-b"},
		{`f"v{d.getVar('PV')}x"`, "v1.2.3x"},
		{`os.path.join("/a", "b", "c.bb")`, "/a/b/c.bb"},
		{`os.path.dirname("/a/b/c.bb")`, "/a/b"},
		{`os.path.basename("/a/b/c.bb")`, "c.bb"},
		{`os.path.splitext("foo.tar.gz")[1]`, ".gz"},
		{`os.path.normpath("/a/b/../c/")`, "/a/c"},
		{`os.path.relpath("/a/b/c", "/a/d")`, "../b/c"},
		{`len("abc") + 1`, "4"},
		{`sorted(set("c a b".split()))`, "['a', 'b', 'c']"},
		{`None`, "None"},
		{`not ""`, "True"},
		{`"a" and "b" or "c"`, "b"},
		{`"abc"[1:]`, "bc"},
		{`"abc"[::-1]`, "cba"},
		{`"a-b-c".rsplit("-", 1)[0]`, "a-b"},
		{`' '.join(x for x in "a b c".split() if x != "b")`, "a c"},
		{`' '.join(filter(lambda f: f != 'b', 'a b'.split()))`, "a"},
		{`str(3 // 2) + str(-3 // 2) + str(7 % 3) + str(-7 % 3)`, "1-212"},
		{`resub('1.2')`, "2.1"},
		{`rematch('qemux86')`, "True"},
		{`int("0x10", 16)`, "16"},
		{`"%(a)s/%(b)s" % {"a": 1, "b": 2}`, "1/2"},
		{`bb.utils.to_boolean("Yes")`, "True"},
		{`oe.utils.set_difference('DISTRO_FEATURES', 'EMPTY', d)`, "x11 opengl wayland ipv6"},
		{`"x" if None else "y"`, "y"},
		{`max([3, 1, 2]) - min(3, 1, 2)`, "2"},
		{`any(x in "abc" for x in ["z", "b"])`, "True"},
		{`"{0:>4}|{1:<3}|{2:03d}".format("a", "b", 7)`, "   a|b  |007"},
	}
	for _, tc := range tests {
		in := NewInterp(h)
		got, err := in.EvalInline(tc.code)
		if err != nil {
			t.Errorf("%s: error %v", tc.code, err)
			continue
		}
		if got != tc.want {
			t.Errorf("%s = %q, want %q", tc.code, got, tc.want)
		}
	}
}

func TestInlineUnsupported(t *testing.T) {
	h := newHost()
	for _, code := range []string{
		`time.strftime('%Y%m%d',time.gmtime())`,
		`os.path.dirname(bb.utils.which(d.getVar('PATH'),'bitbake'))`,
		`undefined_function(d)`,
		`sys.executable`,
	} {
		_, err := NewInterp(h).EvalInline(code)
		var u *Unsupported
		if !errors.As(err, &u) {
			t.Errorf("%s: got %v, want Unsupported", code, err)
		}
	}
	for _, code := range []string{`1 +`, `"unterminated`, `(`} {
		if _, err := NewInterp(h).EvalInline(code); err == nil {
			t.Errorf("%s: expected a syntax error", code)
		}
	}
}

func TestRunFunction(t *testing.T) {
	h := newHost("PN", "foo", "DEPENDS", "a", "PACKAGECONFIG", "x y")
	h.flags["PACKAGECONFIG"] = map[string]string{"x": "--with-x,--without-x,libx", "y": "--y,,liby,rliby", "z": ",,libz"}
	body := `
    pkgconfigflags = d.getVarFlags("PACKAGECONFIG") or {}
    pkgconfig = (d.getVar('PACKAGECONFIG') or "").split()
    extradeps = []
    for flag, flagval in sorted(pkgconfigflags.items()):
        items = flagval.split(",")
        num = len(items)
        if flag in pkgconfig:
            if num >= 3 and items[2]:
                extradeps.append(items[2])
    d.appendVar('DEPENDS', " " + " ".join(extradeps))
    out = bb.process.run("ls")   # unknown, skipped without effect
    if out[0] == "x":
        d.setVar('NEVER', '1')
    if d.getVar('PN') == 'foo':
        raise bb.parse.SkipRecipe("skipped because %s" % d.getVar('PN'))
`
	in := NewInterp(h)
	err := in.RunFunction("__anon", body)
	var exc *Exception
	if !errors.As(err, &exc) || exc.Class != ExcSkipRecipe || exc.Message() != "skipped because foo" {
		t.Fatalf("got %v, want SkipRecipe", err)
	}
	if got := h.vars["DEPENDS"]; got != "a libx liby" {
		t.Errorf("DEPENDS = %q", got)
	}
	if _, ok := h.vars["NEVER"]; ok {
		t.Errorf("branch on unknown value was taken")
	}
	if len(in.Failed) == 0 {
		t.Errorf("expected the unknown branch to be reported")
	}
}

func TestStatements(t *testing.T) {
	h := newHost("V", "1.2.3")
	h.funcs["f"] = `def f(d, n=2, *args, **kw):
    out = []
    i = 0
    while i < 10:
        i += 1
        if i % 2:
            continue
        if i > 6:
            break
        out.append(str(i))
    else:
        out.append("never")
    try:
        x = {}["missing"]
    except KeyError as e:
        out.append("caught")
    finally:
        out.append("fin")
    a, *b = "x y z".split()
    out.append(a + "".join(b))
    def inner(v):
        return v * n
    out.append(inner("ab"))
    out += [k for k in sorted(kw)]
    return "-".join(out)
`
	in := NewInterp(h)
	got, err := in.EvalInline(`f(d, 3, 1, 2, z=1, y=2)`)
	if err != nil {
		t.Fatal(err)
	}
	if want := "2-4-6-caught-fin-xyz-ababab-y-z"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func TestLimits(t *testing.T) {
	h := newHost()
	h.funcs["loop"] = "def loop(d):\n    while True:\n        pass\n"
	h.funcs["rec"] = "def rec(n):\n    return rec(n + 1)\n"
	in := NewInterp(h)
	in.Limits.Steps = 10000
	if _, err := in.EvalInline(`loop(d)`); !IsBudget(err) {
		t.Errorf("infinite loop: got %v", err)
	}
	if _, err := NewInterp(h).EvalInline(`rec(0)`); err == nil {
		t.Errorf("infinite recursion: expected an error")
	}
	if _, err := NewInterp(h).EvalInline(`"x" * (1 << 40)`); !IsBudget(err) {
		t.Errorf("huge string: got %v", err)
	}
	if _, err := NewInterp(h).EvalInline(`"((((" * 1000`); err != nil {
		t.Errorf("benign: %v", err)
	}
	deep := strings.Repeat("(", 5000) + "1" + strings.Repeat(")", 5000)
	if _, err := NewInterp(h).EvalInline(deep); err == nil {
		t.Errorf("deep nesting: expected a syntax error")
	}
}

func TestClasses(t *testing.T) {
	h := newHost("V", "x")
	h.mods["oe.ce"] = `class Base(object):
    kind = "base"
    def __init__(self, ext, d):
        self.ext = ext
        self.d = d
    def name(self, v):
        return self.ext + "-" + v + "-" + self.kind
    @staticmethod
    def st(a):
        return a * 2

class Child(Base):
    kind = "child"
    def name(self, v):
        return "<" + Base.name(self, v) + ">"

class MyError(Exception):
    pass

def use(d):
    c = Child("nativesdk", d)
    try:
        raise MyError("boom")
    except MyError as e:
        msg = str(e)
    return c.name(d.getVar("V")) + " " + c.st("ab") + " " + msg + " " + str(isinstance(c, Base))
`
	got, err := NewInterp(h).EvalInline(`oe.ce.use(d)`)
	if want := "<nativesdk-x-child> abab boom True"; err != nil || got != want {
		t.Errorf("got %q, %v, want %q", got, err, want)
	}
}

func TestLookahead(t *testing.T) {
	h := newHost()
	h.funcs["m"] = "def m(p, s):\n    import re\n    return re.match(p, s) is not None"
	tests := []struct {
		pat, s string
		want   string
	}{
		{"^(?!riscv32).*", "i686-oe-linux", "True"},
		{"^(?!riscv32).*", "riscv32-oe-linux", "False"},
		{"(?!i.86).*", "i686-oe-linux", "False"},
		{"^(?=x86)(?!x86_64).*linux", "x86-oe-linux", "True"},
		{"(i.86|x86_64).*-linux", "i686-oe-linux", "True"},
	}
	for _, tc := range tests {
		got, err := NewInterp(h).EvalInline("m('" + tc.pat + "', '" + tc.s + "')")
		if err != nil || got != tc.want {
			t.Errorf("re.match(%q, %q) = %q, %v, want %s", tc.pat, tc.s, got, err, tc.want)
		}
	}
}

func TestFilesAndJSON(t *testing.T) {
	h := newHost()
	h.mods["file:/layer/m.json"] = "# header\n# EOC\n{\"b\": {\"files\": [\"/x\"]}, \"a\": [1, 2.5, true, null]}"
	h.funcs["f"] = `def f(d):
    import json
    with open("/layer/m.json") as mf:
        s = mf.read()
        mf.seek(s.find("# EOC") + 6)
        m = json.load(mf)
    out = list(m.keys()) + m["b"]["files"] + [str(x) for x in m["a"]]
    try:
        open("/layer/missing")
    except FileNotFoundError:
        out.append("missing")
    return " ".join(out)
`
	got, err := NewInterp(h).EvalInline(`f(d)`)
	if want := "b a /x 1 2.5 True None missing"; err != nil || got != want {
		t.Errorf("got %q, %v, want %q", got, err, want)
	}
	if _, err := NewInterp(h).EvalInline(`open("/etc/passwd").read()`); err == nil {
		t.Errorf("reading outside the layers must be unknown")
	}
}

func TestGetSrcrev(t *testing.T) {
	tests := []struct {
		vars []string
		want string
	}{
		{[]string{"SRC_URI", "git://h/p;branch=m file://a.patch", "SRCREV", "0123456789abcdef"}, "AUTOINC+0123456789"},
		{[]string{"SRC_URI", "git://h/a;name=a git://h/b;name=b", "SRCREV_a", "aaaaaaaaaaaa", "SRCREV_b", "bbbb", "SRCREV_FORMAT", "a_b"}, "AUTOINC+aaaaaaaaaa_bbbb"},
	}
	for _, tc := range tests {
		got, err := NewInterp(newHost(tc.vars...)).EvalInline(`bb.fetch2.get_srcrev(d)`)
		if err != nil || got != tc.want {
			t.Errorf("%v: got %q, %v, want %q", tc.vars, got, err, tc.want)
		}
	}
}

func TestURI(t *testing.T) {
	h := newHost()
	h.funcs["u"] = "def u(s):\n    x = bb.fetch.URI(s)\n    return '%s|%s|%s|%s|%s' % (x.scheme, x.hostname, x.path, x.params.get('branch', '-'), x.relative)"
	tests := []struct{ in, want string }{
		{"git://github.com/a/b.git;branch=main;protocol=https", "git|github.com|/a/b.git|main|False"},
		{"file://foo.patch", "file||foo.patch|-|True"},
		{"https://example.com:8080/x.tar.gz", "https|example.com|/x.tar.gz|-|False"},
	}
	for _, tc := range tests {
		got, err := NewInterp(h).EvalInline("u('" + tc.in + "')")
		if err != nil || got != tc.want {
			t.Errorf("%s: got %q, %v, want %q", tc.in, got, err, tc.want)
		}
	}
}

func TestLibModule(t *testing.T) {
	h := newHost("TARGET_ARCH", "i686")
	h.mods["oe.kernel"] = `import re
import bb

def map_kernel_arch(a, d):
    valid_archs = "x86_64 i386".split()
    if re.match('(i.86|athlon|x86.64)$', a):
        return 'x86'
    elif a in valid_archs:
        return a
    else:
        bb.fatal("cannot map '%s'" % a)
`
	got, err := NewInterp(h).EvalInline(`oe.kernel.map_kernel_arch(d.getVar('TARGET_ARCH'), d)`)
	if err != nil || got != "x86" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestExplodeDepVersions(t *testing.T) {
	tests := []struct{ in, want string }{
		{"core (>= 12) openembedded-layer", "core:>= 12;openembedded-layer:"},
		{"a b (= 1.0) c", "a:;b:= 1.0;c:"},
		{"x (>=1.0) y (< 2)", "x:>= 1.0;y:< 2"},
	}
	for _, tc := range tests {
		m, order, err := ExplodeDepVersions(tc.in, true)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, k := range order {
			parts = append(parts, k+":"+strings.Join(m[k], ","))
		}
		sort.Strings(parts)
		if got := strings.Join(parts, ";"); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.in, got, tc.want)
		}
	}
}

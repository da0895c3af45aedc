package pyeval

import (
	"reflect"
	"strings"
	"testing"
)

// layerHost is a mapHost that also lists directories and variables, as
// the parser's host does.
type layerHost struct {
	*mapHost
	dirs map[string][]string
}

func (h *layerHost) ListDir(p string) ([]string, bool, bool) {
	names, ok := h.dirs[p]
	return names, ok, strings.HasPrefix(p, "/layer/")
}

func (h *layerHost) FileExists(p string) (bool, bool) {
	if _, ok := h.dirs[p]; ok {
		return true, true
	}
	return h.files[p], false
}

func (h *layerHost) Keys(local bool) []string {
	var out []string
	for k := range h.vars {
		out = append(out, k)
	}
	return out
}

func TestSplitLines(t *testing.T) {
	tests := []struct {
		in   string
		keep bool
		want []string
	}{
		{"a\nb\r\nc\rd", false, []string{"a", "b", "c", "d"}},
		{"a\nb\r\nc\rd\n", true, []string{"a\n", "b\r\n", "c\r", "d\n"}},
		{"", true, nil},
		{"x\n\ny", true, []string{"x\n", "\n", "y"}},
		{"p\u2028q\x0cr", false, []string{"p", "q", "r"}},
	}
	for _, tc := range tests {
		if got := splitLines(tc.in, tc.keep); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitLines(%q, %v) = %q, want %q", tc.in, tc.keep, got, tc.want)
		}
	}
	got, err := NewInterp(newHost()).EvalInline(`str('CONFIG_A=y\nCONFIG_B=y\n'.splitlines(True))`)
	if want := `['CONFIG_A=y\n', 'CONFIG_B=y\n']`; err != nil || got != want {
		t.Errorf("splitlines(True) = %q, %v, want %q", got, err, want)
	}
}

// TestVirtualPaths: the parser's absolute paths may start with a virtual
// root ("<COREBASE>/meta"), which os.path treats as absolute.
func TestVirtualPaths(t *testing.T) {
	for code, want := range map[string]string{
		`os.path.join("<TOPDIR>/downloads", "<TOPDIR>/downloads/git2/x")`: "<TOPDIR>/downloads/git2/x",
		`os.path.join("<COREBASE>", "meta", "recipes-core")`:              "<COREBASE>/meta/recipes-core",
		`str(os.path.isabs("<LAYERDIR>/x"))`:                              "True",
		`str(os.path.isabs("<x"))`:                                        "False",
		`str(bb.fetch2.decodeurl("http://example.com"))`:                  "('http', 'example.com', '/', '', '', {})",
	} {
		if got, err := NewInterp(newHost()).EvalInline(code); err != nil || got != want {
			t.Errorf("%s = %q, %v, want %q", code, got, err, want)
		}
	}
}

func TestListdir(t *testing.T) {
	h := &layerHost{mapHost: newHost("COREBASE", "/layer"), dirs: map[string][]string{
		"/layer/meta/recipes-core/busybox": {"files", "busybox_1.38.0.bb", "busybox.inc"},
	}}
	h.files["/layer/meta/recipes-core/busybox/busybox.inc"] = true
	h.funcs["pv"] = `def pv(d):
    import re
    bb_dir = os.path.join(d.getVar('COREBASE'), 'meta', 'recipes-core', 'busybox')
    if os.path.isdir(bb_dir):
        for f in os.listdir(bb_dir):
            m = re.match(r"busybox_([0-9.]*)\.bb", f)
            if m:
                return m.group(1)
    bb.fatal("no busybox")
`
	if got, err := NewInterp(h).EvalInline(`pv(d)`); err != nil || got != "1.38.0" {
		t.Errorf("pv = %q, %v", got, err)
	}
	for code, want := range map[string]string{
		`str(os.listdir("/layer/meta/recipes-core/busybox"))`: "['busybox.inc', 'busybox_1.38.0.bb', 'files']",
		`str(os.listdir("/etc"))`:                             "", // unknown outside the layers
	} {
		got, err := NewInterp(h).EvalInline(code)
		if want == "" {
			if err == nil {
				t.Errorf("%s: expected unknown, got %q", code, got)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("%s = %q, %v, want %q", code, got, err, want)
		}
	}
	h.funcs["missing"] = `def missing(d):
    try:
        os.listdir("/layer/nope")
    except FileNotFoundError:
        return "missing"
    return "found"
`
	if got, err := NewInterp(h).EvalInline(`missing(d)`); err != nil || got != "missing" {
		t.Errorf("listdir of a missing directory: %q, %v", got, err)
	}
	if got, err := NewInterp(newHost()).EvalInline(`str(os.listdir("/layer/x"))`); err == nil {
		t.Errorf("a host that cannot list directories must give unknown, got %q", got)
	}
}

func TestDatastoreKeys(t *testing.T) {
	h := &layerHost{mapHost: newHost("FEATURE_PACKAGES_a", "x", "FEATURE_PACKAGES_b", "y", "OTHER", "z")}
	h.funcs["valid"] = `def valid(d):
    v = []
    for var in d:
        if var.startswith("FEATURE_PACKAGES_"):
            v.append(var[17:])
    return " ".join(v) + "|" + str(len(d.keys()))
`
	if got, err := NewInterp(h).EvalInline(`valid(d)`); err != nil || got != "a b|3" {
		t.Errorf("got %q, %v", got, err)
	}
}

func TestGlobalStatement(t *testing.T) {
	h := newHost()
	h.funcs["setit"] = "def setit(v):\n    global cpath\n    cpath = v\n"
	h.funcs["getit"] = "def getit():\n    return cpath\n"
	h.funcs["outer"] = `def outer():
    n = 1
    def bump():
        nonlocal n
        n += 1
    bump()
    bump()
    return n
`
	body := `
    setit("first")
    d.setVar("A", getit())
    setit("second")
    d.setVar("B", getit())
    d.setVar("C", str(outer()))
`
	in := NewInterpShared(h, NewShared(1_000_000))
	if err := in.RunFunction("__anon", body); err != nil || len(in.Failed) > 0 {
		t.Fatalf("%v %v", err, in.Failed)
	}
	if h.vars["A"] != "first" || h.vars["B"] != "second" || h.vars["C"] != "3" {
		t.Errorf("A %q B %q C %q", h.vars["A"], h.vars["B"], h.vars["C"])
	}

	// A library module's functions share the module's namespace.
	h.mods["oe.cache"] = "cache = None\n\ndef fill(v):\n    global cache\n    cache = v\n\ndef get():\n    return cache\n"
	got, err := NewInterp(h).EvalInline(`oe.cache.fill("x") or oe.cache.get()`)
	if err != nil || got != "x" {
		t.Errorf("module global: %q, %v", got, err)
	}
}

func TestFetchData(t *testing.T) {
	h := newHost("DL_DIR", "/build/downloads", "PN", "swupdate",
		"FILESPATH", "/layer/r/swupdate-1.0:/layer/r/swupdate:/layer/r/files",
		"SRC_URI", "git://github.com/sbabic/swupdate.git;protocol=https;branch=master file://defconfig https://example.com/a/b-1.0.tar.gz;name=b file://fix.cfg",
		"SRCREV", "2196dcfbc39c3c30320309409e6fc875d42cd8d4")
	h.files["/layer/r/swupdate/defconfig"] = true
	h.funcs["paths"] = `def paths(d):
    fetch = bb.fetch2.Fetch([], d)
    out = []
    for url in fetch.urls:
        out.append(fetch.localpath(url))
    ud = fetch.ud[fetch.urls[2]]
    out.append(ud.type + " " + ud.host + " " + ud.path + " " + ud.parm["name"])
    out.append(bb.fetch2.localpath("file://defconfig", d))
    return "|".join(out)
`
	want := strings.Join([]string{
		"/build/downloads/git2/github.com.sbabic.swupdate.git",
		"/layer/r/swupdate/defconfig",
		"/build/downloads/b-1.0.tar.gz",
		"/layer/r/files/fix.cfg", // not found: the last path tried
		"https example.com /a/b-1.0.tar.gz b",
		"/layer/r/swupdate/defconfig",
	}, "|")
	if got, err := NewInterp(h).EvalInline(`paths(d)`); err != nil || got != want {
		t.Errorf("got  %q, %v\nwant %q", got, err, want)
	}

	// Errors are the fetcher's, with its classes.
	h.funcs["classes"] = `def classes(d, url):
    try:
        bb.fetch2.Fetch([url], d)
    except bb.fetch2.FetchError:
        return "FetchError"
    except bb.fetch2.ParameterError:
        return "ParameterError"
    return "ok"
`
	for url, want := range map[string]string{
		"git://h/p.git":                   "ParameterError", // no branch
		"git://h/p.git;branch=m;rev=1234": "FetchError",     // conflicts with SRCREV
		"file://a*.patch":                 "ParameterError",
		"http://h/x.tgz":                  "ok",
	} {
		if got, err := NewInterp(h).EvalInline(`classes(d, "` + url + `")`); err != nil || got != want {
			t.Errorf("%s: got %q, %v, want %q", url, got, err, want)
		}
	}
	// A revision only the network knows leaves the URL data unknown.
	h2 := newHost("DL_DIR", "/build/downloads", "SRCREV", "AUTOINC")
	if got, err := NewInterp(h2).EvalInline(`bb.fetch2.Fetch(["git://h/p.git;branch=m"], d).localpath("git://h/p.git;branch=m")`); err == nil {
		t.Errorf("AUTOREV localpath: got %q, want unknown", got)
	}
}

package comparison

import (
	"regexp"
	"sort"
	"strings"

	"layerindex/internal/store"
)

// The automatic matcher. For each package it tries candidate recipe names,
// in this order, and takes the first that a recipe of the match branch has
// as its name (PN) or, failing that, in its PROVIDES:
//
//  1. the package name, lowercased with "_" as "-" (upstream's rule);
//  2. a known alias (zlib1g → zlib, libssl → openssl, libc6 → glibc…: the
//     table below);
//  3. the name without a packaging suffix (-dev, -devel, -dbg, -dbgsym,
//     -doc, -static, -libs, -common, -data), then without a library's
//     soname version (libcurl4 → libcurl, libfoo-2.0-0 → libfoo), then
//     without the lib prefix (libcurl → curl), each also through the
//     alias table;
//  4. language conventions: python-foo, py3-foo and pyfoo → python3-foo;
//     perl-Foo-Bar (RPM) → libfoo-bar-perl; golang-x → go-x;
//  5. the names the package itself Provides, through the same steps.
//
// A match on a recipe's name is a Direct match (D); on its PROVIDES,
// Replaced (R: a recipe of another name covers it). foo-native and
// nativesdk-foo are Provided (BBCLASSEXTEND) (P) by a recipe foo that
// extends to native or nativesdk. Several recipes of one name: the layer
// with the highest index preference wins, then the core layer, then the
// layer name. Nothing found: Unknown (U), with rubygem-*, R-* and the
// like put in a category when they have none.

// knownAliases maps names other distributions use to OpenEmbedded's.
var knownAliases = map[string]string{
	"zlib1g": "zlib", "libz": "zlib", "libssl": "openssl", "libcrypto": "openssl", "libc6": "glibc", "libc": "glibc",
	"libstdc++": "gcc-runtime", "libgcc-s": "libgcc", "libgcc": "libgcc", "libncurses": "ncurses", "libncursesw": "ncurses",
	"libtinfo": "ncurses", "libbz2": "bzip2", "liblzma": "xz", "libzstd": "zstd", "libudev": "systemd", "libsystemd": "systemd",
	"libglib2.0": "glib-2.0", "libglib": "glib-2.0", "glib2": "glib-2.0", "libgtk-3": "gtk+3", "gtk3": "gtk+3", "libdbus-1": "dbus", "dbus-libs": "dbus",
	"libreadline": "readline", "libexpat": "expat", "libexpat1": "expat", "libpcre2": "libpcre2", "libffi": "libffi",
	"python3-minimal": "python3", "libpython3": "python3", "perl-base": "perl", "libperl": "perl", "openssh-client": "openssh",
	"openssh-server": "openssh", "util-linux-ng": "util-linux", "procps-ng": "procps", "libuuid": "util-linux",
	"libblkid": "util-linux", "libmount": "util-linux", "libattr": "attr", "libacl": "acl", "libcap2": "libcap",
	"libselinux1": "libselinux", "libsqlite3": "sqlite3", "sqlite": "sqlite3", "libxml2-utils": "libxml2", "libjpeg-turbo": "libjpeg-turbo",
	"libjpeg62-turbo": "libjpeg-turbo", "libpng16": "libpng", "libtiff": "tiff", "libtiff5": "tiff", "libtiff6": "tiff",
	"libcurl": "curl", "libkmod": "kmod", "libelf": "elfutils", "libdw": "elfutils", "e2fslibs": "e2fsprogs", "libext2fs": "e2fsprogs",
	"libcom-err": "e2fsprogs", "libss": "e2fsprogs", "vim-tiny": "vim", "vim-minimal": "vim", "bind9": "bind", "dnsutils": "bind",
	"iproute": "iproute2", "libgmp": "gmp", "libmpfr": "mpfr", "libmpc": "libmpc", "libgnutls": "gnutls", "libgcrypt20": "libgcrypt",
	"libgpg-error0": "libgpg-error", "libidn2-0": "libidn2", "libpam": "libpam", "pam": "libpam", "libpam0g": "libpam",
	"libusb-1.0": "libusb1", "libusbx": "libusb1", "libusb1": "libusb1", "xz-utils": "xz", "xz-libs": "xz", "bzip2-libs": "bzip2",
}

var (
	packagingSuffixes = []string{"-dev", "-devel", "-dbg", "-dbgsym", "-doc", "-static", "-libs", "-common", "-data"}
	sonameRe          = regexp.MustCompile(`^(lib[a-z0-9+.-]*?[a-z+])[-.]?[0-9]+(\.[0-9]+)*(-[0-9]+)?g?$`)
	libVersionRe      = regexp.MustCompile(`^(lib[a-z0-9+.]*?[a-z+])-[0-9]+(\.[0-9]+)*-[0-9]+$`)
)

// candidate is a recipe name to try and why.
type candidate struct{ name, rule string }

// candidates lists the names to try for a package name, most likely
// first, each once.
func candidates(pkg string, provides []string) []candidate {
	var out []candidate
	seen := map[string]bool{}
	add := func(name, rule string) {
		if name == "" || seen[name] {
			return
		}
		seen[name] = true
		out = append(out, candidate{name, rule})
		if a, ok := knownAliases[name]; ok && !seen[a] {
			seen[a] = true
			out = append(out, candidate{a, rule + ", known alias " + name + " → " + a})
		}
	}
	forName := func(raw, origin string) {
		n := strings.ReplaceAll(strings.ToLower(raw), "_", "-")
		add(n, origin)
		base, rule := n, origin
		for _, sfx := range packagingSuffixes {
			if strings.HasSuffix(base, sfx) && len(base) > len(sfx) {
				base = strings.TrimSuffix(base, sfx)
				rule = origin + ", without " + sfx
				add(base, rule)
				break
			}
		}
		if m := libVersionRe.FindStringSubmatch(base); m != nil {
			base, rule = m[1], rule+", without the library version"
			add(base, rule)
		} else if m := sonameRe.FindStringSubmatch(base); m != nil {
			base, rule = m[1], rule+", without the soname version"
			add(base, rule)
		}
		if strings.HasPrefix(base, "lib") && len(base) > 4 && !strings.HasSuffix(base, "-perl") {
			add(strings.TrimPrefix(base, "lib"), rule+", without lib")
		}
		switch {
		case strings.HasPrefix(base, "python3-"):
		case strings.HasPrefix(base, "python-"):
			add("python3-"+strings.TrimPrefix(base, "python-"), rule+", python- as python3-")
		case strings.HasPrefix(base, "py3-"):
			add("python3-"+strings.TrimPrefix(base, "py3-"), rule+", py3- as python3-")
		case strings.HasPrefix(base, "perl-"):
			add("lib"+strings.TrimPrefix(base, "perl-")+"-perl", rule+", perl-X as libX-perl")
		case strings.HasPrefix(base, "golang-github-"):
			add("go-"+strings.TrimPrefix(base, "golang-github-"), rule+", golang-github-X as go-X")
		case strings.HasPrefix(base, "golang-"):
			add("go-"+strings.TrimPrefix(base, "golang-"), rule+", golang-X as go-X")
		case strings.HasPrefix(base, "py") && len(base) > 3:
			add("python3-"+base, rule+", pyX as python3-pyX")
			add("python3-"+strings.TrimPrefix(base, "py"), rule+", pyX as python3-X")
		}
	}
	forName(pkg, "name")
	for _, p := range provides {
		forName(p, "the package provides "+p)
	}
	return out
}

// Match is the matcher's verdict for one package.
type Match struct {
	Status        string // a store.Cover* code
	PN            string
	LayerBranchID *int64
	Rule          string
	Category      string // a category to set when the package has none
}

// Matcher matches packages against the recipes of one release branch.
type Matcher struct {
	byPN       map[string]*store.MatchRecipe
	byProvides map[string]*store.MatchRecipe
}

// NewMatcher indexes the recipes of the match branch.
func NewMatcher(recipes []store.MatchRecipe) *Matcher {
	m := &Matcher{byPN: map[string]*store.MatchRecipe{}, byProvides: map[string]*store.MatchRecipe{}}
	// Best first: a later, worse recipe never replaces a better one.
	sort.SliceStable(recipes, func(i, j int) bool { return better(&recipes[i], &recipes[j]) })
	for i := range recipes {
		r := &recipes[i]
		if _, ok := m.byPN[r.PN]; !ok {
			m.byPN[r.PN] = r
		}
		for _, p := range strings.Fields(r.Provides) {
			if _, ok := m.byProvides[p]; !ok && p != r.PN {
				m.byProvides[p] = r
			}
		}
	}
	return m
}

// better orders recipes of the same name: layer index preference, the
// core layer, then the layer name.
func better(a, b *store.MatchRecipe) bool {
	if a.IndexPreference != b.IndexPreference {
		return a.IndexPreference > b.IndexPreference
	}
	ac, bc := a.LayerType == store.TypeBase, b.LayerType == store.TypeBase
	if ac != bc {
		return ac
	}
	if a.LayerName != b.LayerName {
		return a.LayerName < b.LayerName
	}
	return a.ID < b.ID
}

// Recipe finds a recipe by name on the match branch (nil: none).
func (m *Matcher) Recipe(pn string) *store.MatchRecipe { return m.byPN[pn] }

// Match decides the cover of one package.
func (m *Matcher) Match(p *Package) Match {
	name := strings.ReplaceAll(strings.ToLower(p.Name), "_", "-")
	// foo-native, foo-nativesdk, nativesdk-foo: a BBCLASSEXTEND of foo.
	for _, v := range []struct{ base, ext string }{
		{strings.TrimSuffix(name, "-native"), "native"},
		{strings.TrimSuffix(name, "-nativesdk"), "nativesdk"},
		{strings.TrimPrefix(name, "nativesdk-"), "nativesdk"},
	} {
		if v.base == name {
			continue
		}
		if r := m.byPN[v.base]; r != nil && hasWord(r.BBClassExtend, v.ext) {
			return found(store.CoverBBClassExt, r, "BBCLASSEXTEND "+v.ext+" of "+r.PN)
		}
	}
	for _, c := range candidates(p.Name, p.Provides) {
		if r := m.byPN[c.name]; r != nil {
			return found(store.CoverDirect, r, c.rule)
		}
		if r := m.byProvides[c.name]; r != nil {
			return found(store.CoverReplaced, r, c.rule+", in the PROVIDES of "+r.PN)
		}
	}
	out := Match{Status: store.CoverUnknown}
	if p.Category == "" {
		switch {
		case strings.HasPrefix(name, "rubygem-") || strings.HasPrefix(name, "ruby-"):
			out.Category = "ruby"
		case strings.HasPrefix(name, "r-"):
			out.Category = "R"
		case strings.HasPrefix(name, "perl-") || strings.HasSuffix(name, "-perl"):
			out.Category = "perl"
		case strings.HasPrefix(name, "python"):
			out.Category = "python"
		case strings.HasPrefix(name, "golang-"):
			out.Category = "go"
		case strings.HasPrefix(name, "node-") || strings.HasPrefix(name, "nodejs-"):
			out.Category = "nodejs"
		}
	}
	return out
}

func found(status string, r *store.MatchRecipe, rule string) Match {
	lb := r.LayerBranchID
	return Match{Status: status, PN: r.PN, LayerBranchID: &lb, Rule: rule}
}

func hasWord(list, w string) bool {
	for _, x := range strings.Fields(list) {
		if x == w {
			return true
		}
	}
	return false
}

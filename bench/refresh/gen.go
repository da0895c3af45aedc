package main

import (
	"bytes"
	"fmt"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"layerindex/internal/gitrepo"
	"layerindex/internal/store"
)

func policyLocal() gitrepo.Policy { return gitrepo.Policy{AllowLocal: true} }

// repoPlan is one generated repository and the layers in it.
type repoPlan struct {
	name   string
	layers []*layerPlan
}

type layerPlan struct {
	name, subdir, collection, kind, summary string
	recipes                                 int
	dependsOE                               bool // LAYERDEPENDS also on openembedded-layer
	machines                                int
	appends                                 int
}

var words = []string{"audio", "video", "net", "secure", "cloud", "robot", "iot", "gfx", "qt", "rust", "java",
	"python", "perl", "ruby", "go", "node", "web", "db", "mesh", "can", "auto", "med", "edge", "ai", "vision",
	"sensor", "mqtt", "lora", "zigbee", "ble", "virt", "container", "boot", "update", "trust", "crypto", "fw",
	"power", "time", "log", "mon", "test", "bench", "tools", "sdk", "devel", "desktop", "kiosk", "hmi", "voice"}

var coreRecipes = []string{"zlib", "openssl", "glibc", "busybox", "systemd", "dbus", "glib-2.0", "libffi", "ncurses",
	"readline", "util-linux", "curl", "expat", "libxml2", "sqlite3", "python3", "perl", "bash", "coreutils", "e2fsprogs"}

// plan lays out the layers: the core layer alone in its repository, a
// meta-openembedded-like repository of ten layers, a repository of 3–6
// layers every eighth, and single-layer repositories (at the root or in a
// subdirectory) for the rest. Recipe counts follow the public index's
// spread: many small layers, some of a few dozen recipes.
func (b *bench) plan() []*repoPlan {
	r := b.rng
	recipes := func() int {
		switch x := r.Float64(); {
		case x < 0.4:
			return 3 + r.Intn(8)
		case x < 0.85:
			return 10 + r.Intn(20)
		default:
			return 30 + r.Intn(50)
		}
	}
	kinds := []string{store.TypeSoftware, store.TypeSoftware, store.TypeSoftware, store.TypeBSP, store.TypeMisc, store.TypeDistro}
	newLayer := func(name, subdir string) *layerPlan {
		l := &layerPlan{name: name, subdir: subdir, collection: strings.TrimPrefix(name, "meta-"), kind: kinds[r.Intn(len(kinds))],
			recipes: recipes(), dependsOE: r.Float64() < 0.3, appends: r.Intn(4)}
		if l.kind == store.TypeBSP {
			l.machines = 1 + r.Intn(6)
		}
		l.summary = fmt.Sprintf("Generated %s layer %s", store.LayerTypeLabel(l.kind), name)
		return l
	}
	core := &layerPlan{name: "openembedded-core", subdir: "meta", collection: "core", kind: store.TypeBase, recipes: 400,
		summary: "Core metadata"}
	oe := &repoPlan{name: "meta-openembedded"}
	for i, n := range []string{"meta-oe", "meta-python", "meta-networking", "meta-multimedia", "meta-gnome", "meta-xfce",
		"meta-perl", "meta-filesystems", "meta-webserver", "meta-initramfs"} {
		l := newLayer(n, n)
		l.kind, l.machines, l.recipes = store.TypeSoftware, 0, 60+r.Intn(60)
		if i == 0 {
			l.collection, l.dependsOE = "openembedded-layer", false
		} else {
			l.dependsOE = true
		}
		oe.layers = append(oe.layers, l)
	}
	repos := []*repoPlan{{name: "openembedded-core", layers: []*layerPlan{core}}, oe}
	n := 1 + len(oe.layers)
	used := map[string]bool{}
	name := func() string {
		for {
			s := "meta-" + words[r.Intn(len(words))] + "-" + words[r.Intn(len(words))]
			if !used[s] {
				used[s] = true
				return s
			}
		}
	}
	for i := 0; n < b.nLayers; i++ {
		rp := &repoPlan{name: name()}
		count := 1
		if i%8 == 0 {
			count = min(3+r.Intn(4), b.nLayers-n)
		}
		for j := 0; j < count; j++ {
			switch {
			case count > 1:
				rp.layers = append(rp.layers, newLayer(fmt.Sprintf("%s-%d", rp.name, j), fmt.Sprintf("%s-%d", rp.name, j)))
			case r.Intn(3) == 0:
				rp.layers = append(rp.layers, newLayer(rp.name, rp.name))
			default:
				rp.layers = append(rp.layers, newLayer(rp.name, ""))
			}
		}
		n += count
		repos = append(repos, rp)
	}
	return repos
}

// write creates the bare repository with one commit per release branch
// (git fast-import), and returns how many files and recipes it holds over
// all branches.
func (rp *repoPlan) write(gitDir string) (files, recipes int, err error) {
	dir := filepath.Join(gitDir, rp.name+".git")
	if err := run("", "git", "init", "-q", "--bare", "-b", "master", dir); err != nil {
		return 0, 0, err
	}
	var stream bytes.Buffer
	for bi, branch := range releases {
		content := map[string]string{"README.md": "# " + rp.name + "\n\nGenerated for bench/refresh (" + branch + ").\n"}
		for _, l := range rp.layers {
			n := l.files(content, bi, branch)
			recipes += n
		}
		files += len(content)
		keys := make([]string, 0, len(content))
		for k := range content {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&stream, "commit refs/heads/%s\ncommitter Bench <bench@example.org> %d +0000\ndata %d\n%s\ndeleteall\n",
			branch, 1733000000+bi*86400, len("release "+branch), "release "+branch)
		for _, k := range keys {
			fmt.Fprintf(&stream, "M 100644 inline %s\ndata %d\n%s\n", k, len(content[k]), content[k])
		}
		stream.WriteString("\n")
	}
	cmd := exec.Command("git", "fast-import", "--quiet")
	cmd.Dir = dir
	cmd.Stdin = &stream
	if out, err := cmd.CombinedOutput(); err != nil {
		return 0, 0, fmt.Errorf("git fast-import in %s: %v\n%s", dir, err, out)
	}
	return files, recipes, nil
}

// files adds the layer's files on release branch number bi (0 is master):
// its conf/layer.conf, recipes in recipes-*/<pn>/, some with an .inc they
// require, machine configurations for a BSP, bbappends to core recipes,
// and a class. Versions move on newer branches. It returns the recipes.
func (l *layerPlan) files(content map[string]string, bi int, branch string) int {
	p := func(rel string) string { return path.Join(l.subdir, rel) }
	c := l.collection
	deps := "core"
	if l.dependsOE {
		deps += " openembedded-layer"
	}
	if c == "core" {
		content[p("conf/layer.conf")] = fmt.Sprintf(`BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "core"
BBFILE_PATTERN_core = "^${LAYERDIR}/"
BBFILE_PRIORITY_core = "5"
LAYERVERSION_core = "15"
LAYERSERIES_CORENAMES = "%[1]s"
LAYERSERIES_COMPAT_core = "%[1]s"
BBLAYERS_LAYERINDEX_NAME_core = "openembedded-core"
`, branch)
		content[p("conf/bitbake.conf")] = `PN = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[0] or 'defaultpkgname'}"
PV = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[1] or '1.0'}"
PR = "r0"
BP = "${BPN}-${PV}"
BPN = "${PN}"
SECTION = "base"
`
		content[p("classes-global/base.bbclass")] = "# base\nPACKAGES = \"${PN} ${PN}-dev ${PN}-doc\"\n"
		content[p("classes-recipe/autotools.bbclass")] = "# autotools\nDEPENDS:append = \" autoconf-native\"\n"
		content[p("classes-recipe/cmake.bbclass")] = "# cmake\nDEPENDS:append = \" cmake-native\"\n"
		content[p("conf/machine/qemux86-64.conf")] = "#@NAME: QEMU x86-64\nTARGET_ARCH = \"x86_64\"\n"
		content[p("conf/distro/nodistro.conf")] = "DISTRO_NAME = \"OpenEmbedded\"\n"
	} else {
		content[p("conf/layer.conf")] = fmt.Sprintf(`# Layer configuration of %[1]s
BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb ${LAYERDIR}/recipes-*/*/*.bbappend"
BBFILE_COLLECTIONS += "%[2]s"
BBFILE_PATTERN_%[2]s = "^${LAYERDIR}/"
BBFILE_PRIORITY_%[2]s = "6"
LAYERVERSION_%[2]s = "1"
LAYERDEPENDS_%[2]s = "%[3]s"
LAYERSERIES_COMPAT_%[2]s = "%[4]s"
`, l.name, c, deps, branch)
		content[p("classes/"+c+"-helper.bbclass")] = "# helper class of " + l.name + "\nEXTRA_OECONF:append = \" --disable-docs\"\n"
		for m := 0; m < l.machines; m++ {
			content[p(fmt.Sprintf("conf/machine/%s-board%d.conf", c, m))] = fmt.Sprintf("#@NAME: %s board %d\n#@DESCRIPTION: Machine configuration of board %d\nTARGET_ARCH = \"aarch64\"\nMACHINE_FEATURES = \"usbhost wifi\"\n", c, m, m)
		}
		if l.kind == store.TypeDistro {
			content[p("conf/distro/"+c+".conf")] = "DISTRO = \"" + c + "\"\nDISTRO_NAME = \"" + l.name + " distribution\"\nDISTRO_VERSION = \"1." + fmt.Sprint(5-bi) + "\"\n"
		}
		for a := 0; a < l.appends; a++ {
			pn := coreRecipes[(a*7+len(c))%len(coreRecipes)]
			content[p(fmt.Sprintf("recipes-core/%s/%s_%%.bbappend", pn, pn))] = "FILESEXTRAPATHS:prepend := \"${THISDIR}/files:\"\nSRC_URI += \"file://" + c + ".patch\"\n"
		}
	}
	n := l.recipes
	for i := 0; i < n; i++ {
		pn := fmt.Sprintf("%s-%s%d", c, words[(i*13+len(c))%len(words)], i)
		if c == "core" && i < len(coreRecipes) {
			pn = coreRecipes[i]
		}
		group := []string{"recipes-core", "recipes-support", "recipes-connectivity", "recipes-graphics", "recipes-devtools"}[i%5]
		pv := fmt.Sprintf("%d.%d.%d", 1+i%4, (i*3)%10, 5-bi)
		dir := path.Join(group, pn)
		inherit := []string{"autotools", "cmake", "", ""}[i%4]
		var body strings.Builder
		fmt.Fprintf(&body, "SUMMARY = \"%s: %s support for %s\"\n", pn, words[i%len(words)], c)
		fmt.Fprintf(&body, "DESCRIPTION = \"The %s package provides %s and %s tools, generated for the refresh benchmark.\"\n", pn, words[(i+3)%len(words)], words[(i+5)%len(words)])
		fmt.Fprintf(&body, "HOMEPAGE = \"https://example.org/%s\"\nLICENSE = \"MIT\"\nLIC_FILES_CHKSUM = \"file://COPYING;md5=0835ade698e0bcf8506ecda2f7b4f302\"\n", pn)
		if c != "core" {
			fmt.Fprintf(&body, "DEPENDS = \"%s %s\"\n", coreRecipes[i%len(coreRecipes)], coreRecipes[(i*5+1)%len(coreRecipes)])
		} else if i > 0 {
			fmt.Fprintf(&body, "DEPENDS = \"%s\"\n", coreRecipes[(i-1)%len(coreRecipes)])
		}
		fmt.Fprintf(&body, "SRC_URI = \"https://example.org/releases/%s-${PV}.tar.gz\"\n", pn)
		fmt.Fprintf(&body, "SRC_URI[sha256sum] = \"%064x\"\n", i*7919+bi)
		if i%5 == 0 {
			content[p(path.Join(dir, pn+".inc"))] = "PACKAGECONFIG ??= \"ssl\"\nPACKAGECONFIG[ssl] = \"--with-ssl,--without-ssl,openssl\"\n"
			fmt.Fprintf(&body, "require %s.inc\n", pn)
		}
		if inherit != "" {
			fmt.Fprintf(&body, "inherit %s\n", inherit)
		}
		if i%6 == 0 && c != "core" {
			fmt.Fprintf(&body, "inherit %s-helper\n", c)
		}
		if i%9 == 0 {
			content[p(path.Join(dir, "files", "fix-build.patch"))] = "--- a/Makefile\n+++ b/Makefile\n@@ -1 +1 @@\n-CC=gcc\n+CC ?= gcc\n"
			body.WriteString("SRC_URI += \"file://fix-build.patch\"\n")
		}
		content[p(path.Join(dir, pn+"_"+pv+".bb"))] = body.String()
	}
	return n
}

func run(dir, name string, args ...string) error {
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("%s %v: %v\n%s", name, args, err, out)
	}
	return nil
}

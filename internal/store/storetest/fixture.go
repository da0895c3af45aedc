// Package storetest builds index fixtures through the same store code the
// ingestion uses: a small, hand-written index for handler and API tests, and
// a synthetic one of realistic size for benchmarks.
package storetest

import (
	"context"
	"fmt"
	"time"

	"layerindex/internal/store"
)

// Fixture is the small index: two branches (master, scarthgap), four
// published layers, one new (unpublished) layer, with dependencies,
// maintainers, notes, recipes, machines, distros, classes, appends and inc
// files. Names are what tests look up.
type Fixture struct {
	Branches     map[string]*store.Branch
	Layers       map[string]*store.Layer
	LayerBranch  map[string]*store.LayerBranch // key "layer/branch"
	Recipes      map[string]int64              // key "layer/branch/pn"
	Maintainers  []store.LayerMaintainer
	Dependencies []store.LayerDependency
}

// Must fails the test on error; the fixture is only used from tests.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Load writes the fixture into s and returns it.
func Load(t tb, s *store.Store) *Fixture {
	t.Helper()
	f, err := load(context.Background(), s)
	if err != nil {
		t.Fatalf("loading the fixture index: %v", err)
	}
	return f
}

func load(ctx context.Context, s *store.Store) (*Fixture, error) {
	f := &Fixture{
		Branches:    map[string]*store.Branch{},
		Layers:      map[string]*store.Layer{},
		LayerBranch: map[string]*store.LayerBranch{},
		Recipes:     map[string]int64{},
	}
	one, two := 1, 2
	for _, b := range []*store.Branch{
		{Name: "master", BitbakeBranch: "master", ShortDescription: "Development", SortPriority: &one, UpdatesEnabled: true},
		{Name: "scarthgap", BitbakeBranch: "2.8", ShortDescription: "Yocto Project 5.0", SortPriority: &two, UpdatesEnabled: true},
	} {
		if err := s.CreateBranch(ctx, b); err != nil {
			return nil, err
		}
		f.Branches[b.Name] = b
	}
	layers := []*store.Layer{
		{Name: "openembedded-core", LayerType: store.TypeBase, Summary: "Core metadata", Description: "The core of OpenEmbedded.",
			VCSURL: "https://git.openembedded.org/openembedded-core", VCSWebURL: "https://git.openembedded.org/openembedded-core",
			VCSWebTreeBaseURL: "https://git.openembedded.org/openembedded-core/tree/%path%?h=%branch%",
			VCSWebFileBaseURL: "https://git.openembedded.org/openembedded-core/tree/%path%?h=%branch%",
			VCSWebCommitURL:   "https://git.openembedded.org/openembedded-core/commit/?id=%hash%", IndexPreference: 10},
		{Name: "meta-oe", LayerType: store.TypeSoftware, Summary: "Additional shared OE metadata", Description: "Extra recipes.",
			VCSURL: "https://git.openembedded.org/meta-openembedded", VCSWebURL: "https://git.openembedded.org/meta-openembedded"},
		{Name: "meta-python", LayerType: store.TypeSoftware, Summary: "Python modules", Description: "Python recipes.",
			VCSURL: "https://git.openembedded.org/meta-openembedded"},
		{Name: "meta-raspberrypi", LayerType: store.TypeBSP, Summary: "Raspberry Pi BSP", Description: "Machines for the Raspberry Pi.",
			VCSURL: "https://github.com/agherzan/meta-raspberrypi", VCSWebURL: "https://github.com/agherzan/meta-raspberrypi",
			VCSWebTreeBaseURL: "https://github.com/agherzan/meta-raspberrypi/tree/%branch%/%path%",
			VCSWebFileBaseURL: "https://github.com/agherzan/meta-raspberrypi/blob/%branch%/%path%",
			VCSWebCommitURL:   "https://github.com/agherzan/meta-raspberrypi/commit/%hash%"},
		{Name: "meta-submitted", LayerType: store.TypeMisc, Status: store.StatusNew, Summary: "Awaiting review", Description: "New.",
			VCSURL: "https://example.org/meta-submitted.git"},
	}
	for _, l := range layers {
		if l.Status == "" {
			l.Status = store.StatusPublished
		}
		if err := s.CreateLayer(ctx, l); err != nil {
			return nil, err
		}
		f.Layers[l.Name] = l
	}
	if err := s.DB().WithContext(ctx).Create(&store.LayerNote{LayerID: f.Layers["meta-raspberrypi"].ID, Text: "Use the kirkstone branch for the Pi 1."}).Error; err != nil {
		return nil, err
	}

	type lbSpec struct {
		layer, branch, subdir, collection, version, actual string
		deps                                               []string
		recommends                                         []string
	}
	specs := []lbSpec{
		{"openembedded-core", "master", "meta", "core", "15", "", nil, nil},
		{"openembedded-core", "scarthgap", "meta", "core", "14", "", nil, nil},
		{"meta-oe", "master", "meta-oe", "openembedded-layer", "1", "", []string{"openembedded-core"}, nil},
		{"meta-oe", "scarthgap", "meta-oe", "openembedded-layer", "1", "", []string{"openembedded-core"}, nil},
		{"meta-python", "master", "meta-python", "meta-python", "1", "", []string{"openembedded-core", "meta-oe"}, nil},
		{"meta-raspberrypi", "master", "", "raspberrypi", "", "", []string{"openembedded-core"}, []string{"meta-python"}},
		{"meta-submitted", "master", "", "submitted", "", "main", []string{"openembedded-core"}, nil},
	}
	commit := time.Date(2026, 8, 22, 13, 45, 59, 0, time.UTC)
	for _, sp := range specs {
		lb := &store.LayerBranch{LayerID: f.Layers[sp.layer].ID, BranchID: f.Branches[sp.branch].ID,
			VCSSubdir: sp.subdir, ActualBranch: sp.actual, UpdatesEnabled: true}
		if err := s.CreateLayerBranch(ctx, lb); err != nil {
			return nil, err
		}
		rev := fmt.Sprintf("%040x", lb.ID*7919)
		if err := s.SetIndexedState(ctx, lb.ID, store.IndexedState{Collection: sp.collection, Version: sp.version,
			Rev: rev, CommitTime: commit, ParserVersion: "fixture"}); err != nil {
			return nil, err
		}
		lb.Collection, lb.Version, lb.VCSLastRev = sp.collection, sp.version, rev
		f.LayerBranch[sp.layer+"/"+sp.branch] = lb
		var deps []store.LayerDependency
		for _, d := range sp.deps {
			deps = append(deps, store.LayerDependency{DependencyID: f.Layers[d].ID, Required: true})
		}
		for _, d := range sp.recommends {
			deps = append(deps, store.LayerDependency{DependencyID: f.Layers[d].ID, Required: false})
		}
		if err := s.SetDependencies(ctx, lb.ID, deps); err != nil {
			return nil, err
		}
		f.Dependencies = append(f.Dependencies, deps...)
		ms := []store.LayerMaintainer{{Name: "Maintainer of " + sp.layer, Email: sp.layer + "@lists.example.org", Responsibility: "everything", Status: "A"},
			{Name: "Former Maintainer", Email: "former@example.org", Status: "I"}}
		if err := s.SetMaintainers(ctx, lb.ID, ms); err != nil {
			return nil, err
		}
		f.Maintainers = append(f.Maintainers, ms...)
	}

	idx := map[string]*store.IndexChange{
		"openembedded-core/master": {
			Full: true,
			Upserts: []store.RecipeData{
				Recipe("recipes-core/busybox", "busybox_1.38.0.bb", "busybox", "1.38.0", "Tiny versions of many common UNIX utilities in a single small executable",
					"GPL-2.0-only & bzip2-1.0.4", []string{"kernel-headers", "virtual/crypt"}, "https://busybox.net/downloads/busybox-1.38.0.tar.bz2"),
				Recipe("recipes-core/zlib", "zlib_1.3.1.bb", "zlib", "1.3.1", "Zlib Compression Library", "Zlib", nil,
					"https://zlib.net/zlib-1.3.1.tar.xz"),
				Recipe("recipes-core/glib-2.0", "glib-2.0_2.86.0.bb", "glib-2.0", "2.86.0", "A general-purpose utility library",
					"LGPL-2.1-or-later", []string{"zlib", "libffi", "virtual/libiconv"}, "https://download.gnome.org/sources/glib/2.86/glib-2.86.0.tar.xz"),
				Recipe("recipes-core/images", "core-image-minimal.bb", "core-image-minimal", "1.0", "A small image just capable of allowing a device to boot",
					"MIT", nil),
			},
			Machines: []store.Machine{{Name: "qemux86", Description: "QEMU x86 machine"}, {Name: "qemuarm64", Description: "QEMU ARMv8 machine"}},
			Distros:  []store.Distro{{Name: "defaultsetup", Description: "Default setup"}},
			Classes:  []store.BBClass{{Name: "base", BBClassType: "Global"}, {Name: "autotools", BBClassType: "Recipe"}, {Name: "image", BBClassType: "Recipe"}},
			IncFiles: []store.IncFile{{Path: "recipes-core/busybox/busybox.inc"}},
		},
		"openembedded-core/scarthgap": {
			Full: true,
			Upserts: []store.RecipeData{
				Recipe("recipes-core/busybox", "busybox_1.36.1.bb", "busybox", "1.36.1", "Tiny versions of many common UNIX utilities in a single small executable",
					"GPL-2.0-only & bzip2-1.0.4", []string{"kernel-headers"}, "https://busybox.net/downloads/busybox-1.36.1.tar.bz2"),
				Recipe("recipes-core/zlib", "zlib_1.3.1.bb", "zlib", "1.3.1", "Zlib Compression Library", "Zlib", nil,
					"https://zlib.net/zlib-1.3.1.tar.xz"),
			},
			Machines: []store.Machine{{Name: "qemux86", Description: "QEMU x86 machine"}},
		},
		"meta-oe/master": {
			Full: true,
			Upserts: []store.RecipeData{
				Recipe("recipes-support/glibmm", "glibmm_2.66.7.bb", "glibmm", "2.66.7", "C++ bindings for the glib library", "LGPL-2.1-only",
					[]string{"glib-2.0", "libsigc++-2.0"}, "https://download.gnome.org/sources/glibmm/2.66/glibmm-2.66.7.tar.xz"),
				Recipe("recipes-support/zlib-ng", "zlib-ng_2.2.5.bb", "zlib-ng", "2.2.5", "Zlib replacement with optimizations", "Zlib",
					nil, "git://github.com/zlib-ng/zlib-ng.git"),
			},
			Appends: []store.BBAppend{{Filepath: "recipes-core/busybox", Filename: "busybox_%.bbappend"}},
		},
		"meta-raspberrypi/master": {
			Full: true,
			Upserts: []store.RecipeData{
				Recipe("recipes-kernel/linux", "linux-raspberrypi_6.6.bb", "linux-raspberrypi", "6.6.63+git", "Linux kernel for Raspberry Pi",
					"GPL-2.0-only", []string{"bc-native"}, "git://github.com/raspberrypi/linux.git"),
			},
			Machines: []store.Machine{{Name: "raspberrypi4-64", Description: "RaspberryPi 4 Development Board (64bit)"}, {Name: "raspberrypi5", Description: "RaspberryPi 5 Development Board"}},
			Distros:  []store.Distro{},
			Classes:  []store.BBClass{{Name: "sdcard_image-rpi", BBClassType: ""}},
			Appends:  []store.BBAppend{{Filepath: "recipes-core/busybox", Filename: "busybox_%.bbappend"}},
		},
	}
	for key, ch := range idx {
		lb := f.LayerBranch[key]
		if _, err := s.ApplyIndex(ctx, lb.ID, ch); err != nil {
			return nil, fmt.Errorf("%s: %w", key, err)
		}
		for _, r := range ch.Upserts {
			f.Recipes[key+"/"+r.Recipe.PN] = r.Recipe.ID
		}
	}
	return f, nil
}

// Recipe builds a RecipeData with the fields tests look at; sources are
// URLs. The inherits are derived from the name (images inherit image).
func Recipe(dir, file, pn, pv, summary, license string, depends []string, sources ...string) store.RecipeData {
	inherits := "autotools pkgconfig"
	if len(pn) > 11 && pn[:11] == "core-image-" {
		inherits = "core-image image"
	}
	r := store.RecipeData{
		Recipe: store.Recipe{Filepath: dir, Filename: file, PN: pn, PV: pv, PR: "r0", Summary: summary,
			Description: summary + ".", Section: "base", License: license, Homepage: "https://example.org/" + pn,
			Provides: pn, Inherits: inherits},
		BuildDeps: depends,
		FileDeps:  []string{dir + "/" + pn + ".inc"},
		PackageConfigs: []store.RecipePackageConfig{
			{Feature: "ssl", WithOption: "--with-ssl", WithoutOption: "--without-ssl", BuildDeps: "openssl"},
		},
	}
	for _, src := range sources {
		r.Sources = append(r.Sources, store.RecipeSource{URL: src})
	}
	return r
}

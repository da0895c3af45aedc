package ingest

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"layerindex/internal/bitbake"
	"layerindex/internal/store"
)

// recipeData turns a parsed recipe into the rows the store keeps. subdir is
// the layer's directory in its repository: file dependencies are stored
// relative to the repository, so a change anywhere in it can be matched.
func recipeData(r *bitbake.Recipe, subdir string, patches map[string]bitbake.LayerFile) store.RecipeData {
	dir, file := path.Split(r.Path)
	rec := store.Recipe{
		Filepath:      strings.TrimSuffix(dir, "/"),
		Filename:      file,
		PN:            r.PN,
		PV:            r.PV,
		PR:            r.PR,
		PE:            r.PE,
		Summary:       fold(r.Summary),
		Description:   fold(r.Description),
		Section:       r.Section,
		License:       fold(r.License),
		Homepage:      strings.TrimSpace(r.Homepage),
		Bugtracker:    strings.TrimSpace(r.BugTracker),
		Provides:      fold(r.Provides),
		BBClassExtend: fold(r.BBClassExtend),
		Inherits:      strings.Join(r.Inherits, " "),
		ConfigOpts:    fold(r.ConfigOpts),
		SrcRev:        r.SrcRev,
		SkipReason:    r.SkipReason,
		Unevaluated:   r.PythonFailed + len(r.Failed),
	}
	if r.Skipped && rec.SkipReason == "" {
		rec.SkipReason = "skipped"
	}
	if rec.PN == "" {
		rec.PN = strings.SplitN(strings.TrimSuffix(file, ".bb"), "_", 2)[0]
	}
	d := store.RecipeData{Recipe: rec}
	for _, s := range r.Sources {
		d.Sources = append(d.Sources, store.RecipeSource{URL: s})
	}
	seen := map[string]bool{}
	for _, dep := range strings.Fields(r.Depends) {
		if !seen[dep] {
			seen[dep] = true
			d.BuildDeps = append(d.BuildDeps, dep)
		}
	}
	features := make([]string, 0, len(r.PackageConfig))
	for f := range r.PackageConfig {
		if bitbake.PackageConfigFeature(f) {
			features = append(features, f)
		}
	}
	sort.Strings(features)
	for _, f := range features {
		parts := strings.Split(r.PackageConfig[f], ",")
		for len(parts) < 3 {
			parts = append(parts, "")
		}
		d.PackageConfigs = append(d.PackageConfigs, store.RecipePackageConfig{
			Feature: f, WithOption: strings.TrimSpace(parts[0]), WithoutOption: strings.TrimSpace(parts[1]),
			BuildDeps: strings.Join(strings.Fields(parts[2]), " "),
		})
	}
	for _, f := range r.FileDeps {
		d.FileDeps = append(d.FileDeps, path.Join(subdir, f))
	}
	d.Patches = recipePatches(r, patches)
	return d
}

// fold collapses runs of whitespace, as values spanning continued lines
// are shown on one line.
func fold(s string) string { return strings.Join(strings.Fields(s), " ") }

// patchIndex maps layer-relative paths of patches to their classification.
func patchIndex(files []bitbake.LayerFile) map[string]bitbake.LayerFile {
	m := map[string]bitbake.LayerFile{}
	for _, f := range files {
		if f.Kind == bitbake.KindPatch {
			m[f.Path] = f
		}
	}
	return m
}

// patchStatus maps Upstream-Status values to upstream's one-letter codes.
var patchStatus = map[string]string{
	"accepted": "A", "pending": "P", "inappropriate": "I", "backport": "B",
	"submitted": "S", "denied": "D", "inactive-upstream": "N",
}

// recipePatches lists the local patches a recipe's SRC_URI applies, found
// where BitBake's default FILESPATH looks (the recipe's directory, then its
// ${BP}, ${BPN} and files/ subdirectories), with their Upstream-Status.
func recipePatches(r *bitbake.Recipe, patches map[string]bitbake.LayerFile) []store.RecipePatch {
	dir := path.Dir(r.Path)
	bpn := r.Vars["BPN"]
	if bpn == "" {
		bpn = r.PN
	}
	searchDirs := []string{path.Join(dir, bpn+"-"+r.PV), path.Join(dir, bpn), path.Join(dir, "files"), dir}
	var out []store.RecipePatch
	order := 0
	for _, entry := range strings.Fields(r.SrcURI) {
		if !strings.HasPrefix(entry, "file://") {
			continue
		}
		fields := strings.Split(strings.TrimPrefix(entry, "file://"), ";")
		name, params := fields[0], fields[1:]
		apply := ""
		strip := 1
		for _, p := range params {
			k, v, _ := strings.Cut(p, "=")
			switch k {
			case "apply":
				apply = v
			case "striplevel", "pnum":
				var n int
				if _, err := fmt.Sscan(v, &n); err == nil {
					strip = n
				}
			}
		}
		isPatch := strings.HasSuffix(name, ".patch") || strings.HasSuffix(name, ".diff")
		if apply == "no" || (!isPatch && apply != "yes") {
			continue
		}
		for _, sd := range searchDirs {
			p := path.Join(sd, name)
			f, ok := patches[p]
			if !ok {
				continue
			}
			status := patchStatus[strings.ToLower(f.UpstreamStatus)]
			if status == "" {
				status = "U"
			}
			o := order
			out = append(out, store.RecipePatch{Path: p, SrcPath: strings.TrimPrefix(p, dir+"/"), Status: status,
				StatusExtra: strings.TrimSpace(f.StatusExtra), ApplyOrder: &o, Applied: true, Striplevel: strip})
			order++
			break
		}
	}
	return out
}

// layerContents lists what the layer holds besides recipes.
func layerContents(files []bitbake.LayerFile) (ms []store.Machine, ds []store.Distro, cs []store.BBClass, as []store.BBAppend, is []store.IncFile) {
	ms, ds, cs, as, is = []store.Machine{}, []store.Distro{}, []store.BBClass{}, []store.BBAppend{}, []store.IncFile{}
	for _, f := range files {
		switch f.Kind {
		case bitbake.KindMachine:
			ms = append(ms, store.Machine{Name: f.Name, Description: f.Description})
		case bitbake.KindDistro:
			ds = append(ds, store.Distro{Name: f.Name, Description: f.Description})
		case bitbake.KindClass:
			typ := ""
			switch f.ClassType {
			case "global":
				typ = "Global"
			case "recipe":
				typ = "Recipe"
			}
			cs = append(cs, store.BBClass{Name: f.Name, BBClassType: typ})
		case bitbake.KindBBAppend:
			dir, file := path.Split(f.Path)
			as = append(as, store.BBAppend{Filepath: strings.TrimSuffix(dir, "/"), Filename: file})
		case bitbake.KindInc:
			is = append(is, store.IncFile{Path: f.Path})
		}
	}
	return
}

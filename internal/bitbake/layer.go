package bitbake

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"sync"

	"layerindex/internal/bitbake/data"
	"layerindex/internal/bitbake/pyeval"
)

// Dependency is one LAYERDEPENDS/LAYERRECOMMENDS entry with its version
// constraints (e.g. "core" with [">= 12"]).
type Dependency struct {
	Name        string   `json:"name"`
	Constraints []string `json:"constraints,omitempty"`
}

// LayerFacts are the values layerindex reads from conf/layer.conf.
type LayerFacts struct {
	// Collection is the layer's collection: the first word of
	// BBFILE_COLLECTIONS, or the second when the first is "core".
	Collection   string       `json:"collection"`
	Collections  []string     `json:"collections"`
	Version      string       `json:"version,omitempty"`
	Priority     string       `json:"priority,omitempty"`
	Pattern      string       `json:"pattern,omitempty"`
	Depends      []Dependency `json:"depends,omitempty"`
	Recommends   []Dependency `json:"recommends,omitempty"`
	SeriesCompat []string     `json:"series_compat,omitempty"`
	// CoreNames is LAYERSERIES_CORENAMES: the release codenames a core
	// layer (openembedded-core's meta) provides; other layers leave it
	// empty. A layer is compatible with a release when its SeriesCompat
	// names one of them, as BitBake checks.
	CoreNames []string `json:"core_names,omitempty"`
	// FilesDynamic are the BBFILES_DYNAMIC entries ("collection:pattern",
	// "!collection:pattern").
	FilesDynamic []string `json:"files_dynamic,omitempty"`
	Diags        []Diag   `json:"diags,omitempty"`
}

// ReadLayerFacts parses fsys's conf/layer.conf on its own (LAYERDIR is
// the layer) and extracts the layer facts.
func ReadLayerFacts(fsys fs.FS) (*LayerFacts, error) {
	c := &Config{vfs: newVFS(), stmts: &sync.Map{}, files: &sync.Map{}}
	c.vfs.add(LayerDir, fsys)
	conf := LayerDir + "/conf/layer.conf"
	if !c.vfs.isFile(conf) {
		// A file system may know why it has none (a symbolic link it
		// does not follow): say so.
		var pe *fs.PathError
		if _, err := fs.Stat(fsys, "conf/layer.conf"); errors.As(err, &pe) && pe.Err != fs.ErrNotExist {
			return nil, fmt.Errorf("no conf/layer.conf: it is %w", pe.Err)
		}
		return nil, errors.New("no conf/layer.conf")
	}
	d := data.New()
	d.Inline = inlineEval
	ev := &evaluator{cfg: c, d: d, classType: "global", dependSet: map[string]bool{}}
	ev.py = newPyState(ev)
	d.Host = ev
	d.SetVar("LAYERDIR", LayerDir)
	d.SetVar("LAYERDIR_RE", reEscape(LayerDir))
	d.SetVar("BBPATH", "")
	if err := ev.handle(conf, true); err != nil {
		return nil, err
	}
	f := &LayerFacts{Diags: ev.diags}
	f.Collections = strings.Fields(d.GetString("BBFILE_COLLECTIONS"))
	switch {
	case len(f.Collections) > 1 && f.Collections[0] == "core":
		f.Collection = f.Collections[1]
	case len(f.Collections) > 0:
		f.Collection = f.Collections[0]
	}
	if f.Collection == "" {
		return f, nil
	}
	col := f.Collection
	f.Version = strings.TrimSpace(d.GetString("LAYERVERSION_" + col))
	f.Priority = strings.TrimSpace(d.GetString("BBFILE_PRIORITY_" + col))
	f.Pattern = d.GetString("BBFILE_PATTERN_" + col)
	var err error
	if f.Depends, err = parseDeps(d.GetString("LAYERDEPENDS_" + col)); err != nil {
		f.Diags = append(f.Diags, Diag{File: "conf/layer.conf", Msg: "LAYERDEPENDS: " + err.Error()})
	}
	if f.Recommends, err = parseDeps(d.GetString("LAYERRECOMMENDS_" + col)); err != nil {
		f.Diags = append(f.Diags, Diag{File: "conf/layer.conf", Msg: "LAYERRECOMMENDS: " + err.Error()})
	}
	f.SeriesCompat = strings.Fields(d.GetString("LAYERSERIES_COMPAT_" + col))
	f.CoreNames = strings.Fields(d.GetString("LAYERSERIES_CORENAMES"))
	f.FilesDynamic = strings.Fields(d.GetString("BBFILES_DYNAMIC"))
	return f, nil
}

// parseDeps is bb.utils.explode_dep_versions2 in file order.
func parseDeps(s string) ([]Dependency, error) {
	m, order, err := pyeval.ExplodeDepVersions(s, false)
	if err != nil {
		return nil, err
	}
	out := make([]Dependency, 0, len(order))
	for _, k := range order {
		dep := Dependency{Name: k}
		if len(m[k]) > 0 {
			dep.Constraints = m[k]
		}
		out = append(out, dep)
	}
	return out, nil
}

// FileKind is the kind of a layer file as layerindex-web classifies it.
type FileKind string

// File kinds.
const (
	KindRecipe   FileKind = "recipe"
	KindBBAppend FileKind = "bbappend"
	KindInc      FileKind = "incfile"
	KindClass    FileKind = "bbclass"
	KindMachine  FileKind = "machine"
	KindDistro   FileKind = "distro"
	KindPatch    FileKind = "patch"
)

// LayerFile is one classified file of a layer.
type LayerFile struct {
	Kind FileKind `json:"kind"`
	// Path is relative to the layer directory.
	Path string `json:"path"`
	// Name is the machine, distro or class name.
	Name string `json:"name,omitempty"`
	// ClassType is "", "global" or "recipe" for classes/, classes-global/
	// and classes-recipe/.
	ClassType string `json:"class_type,omitempty"`
	// Description is a machine's or distro's #@DESCRIPTION (or #@NAME).
	Description string `json:"description,omitempty"`
	// UpstreamStatus and StatusExtra are a patch's Upstream-Status.
	UpstreamStatus string `json:"upstream_status,omitempty"`
	StatusExtra    string `json:"status_extra,omitempty"`
}

var (
	machineConfRe = regexp.MustCompile(`^conf/machine/([^/.]*).conf$`)
	distroConfRe  = regexp.MustCompile(`^conf/distro/([^/.]*).conf$`)
	bbclassRe     = regexp.MustCompile(`^classes(-global|-recipe)?/([^/.]*).bbclass$`)
)

// ClassifyFile returns the kind of a layer-relative path
// (recipeparse.detect_file_type, plus patches).
func ClassifyFile(rel string) (LayerFile, bool) {
	lf := LayerFile{Path: rel}
	switch {
	case strings.HasSuffix(rel, ".bb"):
		lf.Kind = KindRecipe
	case strings.HasSuffix(rel, ".bbappend"):
		lf.Kind = KindBBAppend
	case strings.HasSuffix(rel, ".inc"):
		lf.Kind = KindInc
	case strings.HasSuffix(rel, ".patch") || strings.HasSuffix(rel, ".diff"):
		lf.Kind = KindPatch
	default:
		if m := machineConfRe.FindStringSubmatch(rel); m != nil {
			lf.Kind, lf.Name = KindMachine, m[1]
		} else if m := bbclassRe.FindStringSubmatch(rel); m != nil {
			lf.Kind, lf.Name, lf.ClassType = KindClass, m[2], strings.TrimPrefix(m[1], "-")
		} else if m := distroConfRe.FindStringSubmatch(rel); m != nil {
			lf.Kind, lf.Name = KindDistro, m[1]
		} else {
			return lf, false
		}
	}
	return lf, true
}

// WalkLayer lists and classifies a layer's files in path order, skipping
// sub-directories that hold their own conf/layer.conf (nested layers) and
// .git. Machines and distros get their #@ descriptions, patches their
// Upstream-Status.
func WalkLayer(fsys fs.FS) ([]LayerFile, error) { return walkLayer(fsys, true) }

func walkLayer(fsys fs.FS, details bool) ([]LayerFile, error) {
	var out []LayerFile
	err := fs.WalkDir(fsys, ".", func(p string, de fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		if de.IsDir() {
			if p == "." {
				return nil
			}
			if de.Name() == ".git" {
				return fs.SkipDir
			}
			if st, err := fs.Stat(fsys, p+"/conf/layer.conf"); err == nil && !st.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !de.Type().IsRegular() {
			return nil
		}
		lf, ok := ClassifyFile(p)
		if !ok {
			return nil
		}
		if !details {
			if lf.Kind == KindRecipe {
				out = append(out, lf)
			}
			return nil
		}
		switch lf.Kind {
		case KindMachine, KindDistro:
			if b, err := readLimited(fsys, p); err == nil {
				lf.Description = confDescription(b, lf.Kind)
			}
		case KindPatch:
			if b, err := readLimited(fsys, p); err == nil {
				lf.UpstreamStatus, lf.StatusExtra = PatchStatus(b)
			}
		}
		out = append(out, lf)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, err
}

// Recipes returns the layer-relative paths of the recipes of a layer, as
// WalkLayer finds them.
func Recipes(fsys fs.FS) ([]string, error) {
	files, err := walkLayer(fsys, false)
	var out []string
	for _, f := range files {
		if f.Kind == KindRecipe {
			out = append(out, f.Path)
		}
	}
	return out, err
}

func readLimited(fsys fs.FS, p string) ([]byte, error) {
	st, err := fs.Stat(fsys, p)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxFileSize {
		return nil, errTooLarge
	}
	return fs.ReadFile(fsys, p)
}

var descPrefixRe = map[FileKind]*regexp.Regexp{
	KindMachine: regexp.MustCompile(`Machine configuration for( running)*( an)*( the)*`),
	KindDistro:  regexp.MustCompile(`Distribution configuration for( running)*( an)*( the)*`),
}

// confDescription reads #@NAME / #@DESCRIPTION comment lines like
// update_layer.update_machine_conf_file.
func confDescription(b []byte, kind FileKind) string {
	desc := ""
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64*1024), MaxFileSize)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#@NAME:") {
			desc = strings.TrimSpace(line[7:])
		}
		if strings.HasPrefix(line, "#@DESCRIPTION:") {
			desc = strings.TrimSpace(line[14:])
			desc = descPrefixRe[kind].ReplaceAllString(desc, "")
			break
		}
	}
	return desc
}

var upstreamStatusRe = regexp.MustCompile(`^[\t ]*(Upstream[-_ ]Status:?)[\t ]*([\w\-]+)([\t ]+.*)?`)

// PatchStatus extracts a patch's Upstream-Status value and the text after
// it, reading the header up to the diff itself.
func PatchStatus(b []byte) (status, extra string) {
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.HasPrefix(line, "Index: ") || strings.HasPrefix(line, "diff -") || strings.HasPrefix(line, "+++ ") {
			break
		}
		if m := upstreamStatusRe.FindStringSubmatch(line); m != nil {
			return m[2], strings.TrimSpace(m[3])
		}
	}
	return "", ""
}

// DistroName parses a distro configuration file of the target layer
// (layer-relative path, e.g. "conf/distro/poky.conf") on a copy of the
// configuration and returns its DISTRO_NAME, which layerindex-web prefers
// to the #@ comments as the distro's description.
func (c *Config) DistroName(rel string) (string, []Diag) {
	d := c.base.d.Child()
	ev := c.base.fork(d, "global")
	if err := ev.handle(c.TargetRoot()+"/"+strings.TrimPrefix(rel, "/"), true); err != nil {
		ev.diag(rel, 0, "%v", err)
	}
	name, _ := d.Get("DISTRO_NAME")
	return name, ev.diags
}

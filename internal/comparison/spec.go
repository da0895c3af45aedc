package comparison

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// RPM spec files are read statically: rpm is never run, and of its macro
// language only simple definitions (%define and %global with a one-line
// body, or lines joined by a trailing backslash) and %{name}, %{version}
// and the like are expanded; anything else (%{?dist}, %(shell), %if
// blocks, parametric macros) stays as written. Only the main package's
// preamble is read: Name, Version, Summary, License, Group (the category)
// and Provides, up to the first section (%description, %package, %prep…).

// SpecFile is one .spec file to parse.
type SpecFile struct {
	Name string // for messages and the origin
	Data []byte
}

// ParseSpecs parses spec files; a file whose Name cannot be resolved is
// skipped with a warning, a malformed one too (the directory is imported
// without it).
func ParseSpecs(files []SpecFile) ([]Package, []string, error) {
	rs := make([]specResult, 0, len(files))
	for _, f := range files {
		p, err := ParseSpec(f.Data, f.Name)
		rs = append(rs, specResult{f.Name, p, err})
	}
	return finishSpecs(rs)
}

// specResult is one spec file parsed: its package or why not.
type specResult struct {
	file string
	p    *Package
	err  error
}

// finishSpecs keeps one package per name, the one of the first file by
// name, and turns the failures into warnings.
func finishSpecs(rs []specResult) ([]Package, []string, error) {
	sort.Slice(rs, func(i, j int) bool { return rs[i].file < rs[j].file })
	var out []Package
	var warnings []string
	seen := map[string]string{}
	for _, r := range rs {
		if r.err != nil {
			warnings = append(warnings, r.err.Error())
			continue
		}
		if prev, dup := seen[r.p.Name]; dup {
			warnings = append(warnings, fmt.Sprintf("%s: package %s already read from %s; skipped", r.file, r.p.Name, prev))
			continue
		}
		seen[r.p.Name] = r.file
		if len(out) >= MaxPackages {
			return nil, nil, fmt.Errorf("more than %d packages", MaxPackages)
		}
		out = append(out, *r.p)
	}
	if len(out) == 0 {
		msg := "no .spec file with a package name found"
		if len(warnings) > 0 {
			msg += " (" + warnings[0] + ")"
		}
		return nil, warnings, errors.New(msg)
	}
	return out, warnings, nil
}

// ParseSpec reads the main package of one spec file.
func ParseSpec(data []byte, file string) (*Package, error) {
	if len(data) > MaxSpecFile {
		return nil, perr(file, 1, "larger than %d KiB", MaxSpecFile>>10)
	}
	m := macros{defs: map[string]string{}}
	tags := map[string]string{}
	tagLine := map[string]int{}
	var provides []string
	ln := newLines(strings.NewReader(string(data)), file)
	pending := ""
	for {
		line, ok := ln.next()
		if !ok {
			break
		}
		if pending != "" {
			line = pending + "\n" + line
			pending = ""
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasSuffix(trimmed, "\\") && (strings.HasPrefix(trimmed, "%define") || strings.HasPrefix(trimmed, "%global")) {
			if len(line) > MaxLine {
				return nil, perr(file, ln.n, "macro definition longer than %d KiB", MaxLine>>10)
			}
			pending = strings.TrimSuffix(trimmed, "\\")
			continue
		}
		if f := strings.Fields(trimmed); len(f) > 0 && (f[0] == "%define" || f[0] == "%global") {
			if len(f) < 2 || strings.Contains(f[1], "(") || !macroNameOK(f[1]) {
				continue // a parametric macro or a malformed line: not expanded
			}
			body := strings.TrimSpace(trimmed[len(f[0]):])
			body = strings.TrimSpace(body[len(f[1]):])
			if len(m.defs) < 1000 {
				m.defs[f[1]] = body
			}
			continue
		}
		if strings.HasPrefix(trimmed, "%") && isSection(trimmed) {
			break
		}
		k, v, ok := strings.Cut(trimmed, ":")
		if !ok || strings.ContainsAny(k, " \t") {
			continue
		}
		tag := strings.ToLower(k)
		v = strings.TrimSpace(v)
		switch tag {
		case "name", "version", "summary", "license", "group":
			if _, dup := tags[tag]; !dup {
				tags[tag], tagLine[tag] = v, ln.n
				if tag == "name" || tag == "version" {
					m.defs[tag] = v
				}
			}
		case "provides":
			provides = append(provides, v)
		}
	}
	if err := ln.err(); err != nil {
		return nil, err
	}
	if _, ok := tags["name"]; !ok {
		return nil, perr(file, 1, "no Name: tag")
	}
	name, err := m.expand(tags["name"])
	if err != nil {
		return nil, perr(file, tagLine["name"], "Name: %v", err)
	}
	if msg := checkName(name); msg != "" {
		return nil, perr(file, tagLine["name"], "Name: %s", msg)
	}
	p := &Package{Name: name, Origin: fmt.Sprintf("%s:%d", file, tagLine["name"])}
	get := func(tag string) string {
		v, err := m.expand(tags[tag])
		if err != nil {
			return tags[tag]
		}
		return v
	}
	p.Version = clip(get("version"), maxVersion)
	p.Summary = text(get("summary"))
	p.License = text(get("license"))
	p.Category = text(get("group"))
	for _, v := range provides {
		ex, err := m.expand(v)
		if err != nil {
			ex = v
		}
		p.Provides = append(p.Provides, rpmProvides(ex)...)
		if len(p.Provides) > maxProvides {
			p.Provides = p.Provides[:maxProvides]
			break
		}
	}
	return p, nil
}

// isSection reports whether a line starts a spec section (the preamble
// ends there).
func isSection(line string) bool {
	word, _, _ := strings.Cut(line, " ")
	switch word {
	case "%description", "%package", "%prep", "%build", "%install", "%check", "%files", "%changelog",
		"%pre", "%post", "%preun", "%postun", "%clean", "%triggerin", "%pretrans", "%posttrans":
		return true
	}
	return false
}

// rpmProvides splits a Provides line: "a = 1.0, b >= 2 c" → [a b c].
func rpmProvides(v string) []string {
	var out []string
	words := strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	for i := 0; i < len(words); i++ {
		w := words[i]
		switch w {
		case "=", "<", ">", "<=", ">=":
			i++ // the version that follows
			continue
		}
		if checkName(w) == "" {
			out = append(out, w)
		}
	}
	return out
}

func macroNameOK(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for _, r := range name {
		if !(r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

// macros holds a spec's simple definitions.
type macros struct{ defs map[string]string }

var errExpansion = errors.New("macro expansion too large or too deep")

// expand replaces %{name}, %name and %{?name} for defined simple macros;
// others stay as written. "%%" is a literal percent sign.
func (m *macros) expand(s string) (string, error) {
	return m.expandDepth(s, 0)
}

func (m *macros) expandDepth(s string, depth int) (string, error) {
	if depth > maxDepth {
		return "", errExpansion
	}
	if !strings.Contains(s, "%") {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if b.Len() > maxExpand {
			return "", errExpansion
		}
		c := s[i]
		if c != '%' || i+1 >= len(s) {
			b.WriteByte(c)
			i++
			continue
		}
		switch n := s[i+1]; {
		case n == '%':
			b.WriteByte('%')
			i += 2
		case n == '{':
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				b.WriteString(s[i:])
				i = len(s)
				continue
			}
			inner := s[i+2 : i+end]
			name := strings.TrimPrefix(inner, "?")
			if body, ok := m.defs[name]; ok && macroNameOK(name) {
				v, err := m.expandDepth(body, depth+1)
				if err != nil {
					return "", err
				}
				b.WriteString(v)
			} else {
				b.WriteString(s[i : i+end+1])
			}
			i += end + 1
		default:
			j := i + 1
			for j < len(s) && (s[j] == '_' || s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] >= '0' && s[j] <= '9') {
				j++
			}
			name := s[i+1 : j]
			if body, ok := m.defs[name]; ok && name != "" {
				v, err := m.expandDepth(body, depth+1)
				if err != nil {
					return "", err
				}
				b.WriteString(v)
			} else {
				b.WriteString(s[i:j])
				if j == i+1 {
					b.WriteByte(s[j])
					j++
				}
			}
			i = j
		}
	}
	if b.Len() > maxExpand {
		return "", errExpansion
	}
	return b.String(), nil
}

// SpecsFromFS reads the .spec files of a directory tree: regular files
// only (symbolic links are not followed), each at most MaxSpecFile bytes,
// at most MaxSpecs of them.
func SpecsFromFS(fsys fs.FS) ([]SpecFile, error) {
	var out []SpecFile
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !strings.HasSuffix(p, ".spec") || !d.Type().IsRegular() {
			return nil
		}
		if len(out) >= MaxSpecs {
			return fmt.Errorf("more than %d .spec files", MaxSpecs)
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.Size() > MaxSpecFile {
			return fmt.Errorf("%s: larger than %d KiB", p, MaxSpecFile>>10)
		}
		f, err := fsys.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		data, err := io.ReadAll(io.LimitReader(f, MaxSpecFile+1))
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		if len(data) > MaxSpecFile {
			return fmt.Errorf("%s: larger than %d KiB", p, MaxSpecFile>>10)
		}
		out = append(out, SpecFile{Name: p, Data: data})
		return nil
	})
	return out, err
}

// ParseSpecTar parses the .spec files of a tar archive (gunzipped already
// by Decompress) one at a time, keeping only their packages: regular files
// only, with the same limits as a directory.
func ParseSpecTar(r io.Reader) ([]Package, []string, error) {
	tr := tar.NewReader(r)
	var rs []specResult
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("reading the tar archive: %w", err)
		}
		if h.Typeflag != tar.TypeReg || !strings.HasSuffix(h.Name, ".spec") {
			continue
		}
		name := path.Clean(strings.TrimPrefix(h.Name, "/"))
		if len(rs) >= MaxSpecs {
			return nil, nil, fmt.Errorf("more than %d .spec files", MaxSpecs)
		}
		if h.Size > MaxSpecFile || h.Size < 0 {
			return nil, nil, fmt.Errorf("%s: larger than %d KiB", name, MaxSpecFile>>10)
		}
		data, err := io.ReadAll(io.LimitReader(tr, h.Size))
		if err != nil {
			return nil, nil, fmt.Errorf("reading %s: %w", name, err)
		}
		p, err := ParseSpec(data, name)
		rs = append(rs, specResult{name, p, err})
	}
	if len(rs) == 0 {
		return nil, nil, errors.New("the archive holds no .spec file")
	}
	return finishSpecs(rs)
}

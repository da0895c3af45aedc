package comparison

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"
)

// Package is one package of another distribution as a list describes it.
type Package struct {
	Name, Version, Summary, License, Category string
	Provides                                  []string
	Origin                                    string // file:line where it was read
}

// Formats of package lists.
const (
	FormatDeb     = "deb"     // a Debian Packages file
	FormatRPMSpec = "rpmspec" // a directory (or tar archive) of RPM .spec files
	FormatCSV     = "csv"     // name, version, summary, license, category
)

// Limits on what an import reads. Every list is hostile until parsed: the
// limits are checked before anything of that size is allocated.
const (
	MaxUpload   = 64 << 20  // bytes of an uploaded file (compressed or not)
	MaxInput    = 256 << 20 // bytes after decompression
	MaxLine     = 64 << 10  // bytes of one line
	MaxPackages = 200_000
	MaxSpecFile = 1 << 20 // bytes of one .spec file
	MaxSpecs    = 50_000  // .spec files in a directory or archive
	maxName     = 100
	maxVersion  = 100
	maxText     = 500 // summary, license, category: longer values are cut
	maxProvides = 64  // names a package provides
	maxExpand   = 4096
	maxDepth    = 16
)

// ParseError is a refused list: where and why.
type ParseError struct {
	Origin string // file:line
	Msg    string
}

func (e *ParseError) Error() string { return e.Origin + ": " + e.Msg }

func perr(file string, line int, format string, args ...any) error {
	return &ParseError{Origin: fmt.Sprintf("%s:%d", file, line), Msg: fmt.Sprintf(format, args...)}
}

// nameRe is what a package name may be in any of the formats: Debian's
// and RPM's rules, together.
var nameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+~-]*$`)

func checkName(name string) string {
	switch {
	case name == "":
		return "no package name"
	case len(name) > maxName:
		return fmt.Sprintf("package name longer than %d characters", maxName)
	case !nameRe.MatchString(name):
		return fmt.Sprintf("%q is not a package name", clip(name, 60))
	}
	return ""
}

// clip cuts s to n bytes on a rune boundary, for messages and stored text.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// text cleans a value for storage: valid UTF-8, one line, bounded.
func text(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Join(strings.Fields(s), " ")
	return clip(s, maxText)
}

// Decompress returns a reader of r's content, gunzipped when it starts
// with gzip's magic, bounded to MaxInput bytes either way (a larger content
// is an error, not a silent cut).
func Decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReader(r)
	magic, _ := br.Peek(2)
	var src io.Reader = br
	if bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("reading the gzip header: %w", err)
		}
		src = zr
	}
	return &capReader{r: src, left: MaxInput}, nil
}

// ErrTooLarge is an input beyond MaxInput.
var ErrTooLarge = fmt.Errorf("the list is larger than %d MiB", MaxInput>>20)

type capReader struct {
	r    io.Reader
	left int64
}

func (c *capReader) Read(p []byte) (int, error) {
	if c.left <= 0 {
		var one [1]byte
		if n, _ := c.r.Read(one[:]); n > 0 {
			return 0, ErrTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.r.Read(p)
	c.left -= int64(n)
	return n, err
}

// lines scans r line by line with MaxLine as the longest line, counting
// line numbers for errors.
type lines struct {
	sc   *bufio.Scanner
	file string
	n    int
}

func newLines(r io.Reader, file string) *lines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), MaxLine)
	return &lines{sc: sc, file: file}
}

func (l *lines) next() (string, bool) {
	if !l.sc.Scan() {
		return "", false
	}
	l.n++
	return strings.TrimRight(l.sc.Text(), "\r"), true
}

func (l *lines) err() error {
	if err := l.sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return perr(l.file, l.n+1, "line longer than %d KiB", MaxLine>>10)
		}
		var pe *ParseError
		if errors.As(err, &pe) || errors.Is(err, ErrTooLarge) {
			return err
		}
		return fmt.Errorf("%s: reading line %d: %w", l.file, l.n+1, err)
	}
	return nil
}

// ParseDeb reads a Debian Packages file (RFC 822 stanzas separated by
// blank lines): Package, Version, the first line of Description as the
// summary, Section (without its archive area, "contrib/libs" → "libs") as
// the category, License when present, and Provides (without version
// constraints). A package listed twice (several architectures) is kept
// once, the first time.
func ParseDeb(r io.Reader, file string) ([]Package, []string, error) {
	ln := newLines(r, file)
	var out []Package
	var warnings []string
	seen := map[string]bool{}
	fields := map[string]string{}
	start, last := 0, ""
	flush := func() error {
		if len(fields) == 0 {
			return nil
		}
		defer clear(fields)
		name := strings.TrimSpace(fields["package"])
		if msg := checkName(name); msg != "" {
			return perr(file, start, "stanza: %s", msg)
		}
		if seen[name] {
			return nil
		}
		seen[name] = true
		if len(out) >= MaxPackages {
			return perr(file, start, "more than %d packages", MaxPackages)
		}
		p := Package{Name: name, Origin: fmt.Sprintf("%s:%d", file, start)}
		p.Version = strings.TrimSpace(fields["version"])
		if len(p.Version) > maxVersion {
			return perr(file, start, "%s: version longer than %d characters", name, maxVersion)
		}
		desc, _, _ := strings.Cut(fields["description"], "\n")
		p.Summary = text(desc)
		p.License = text(fields["license"])
		sec := strings.TrimSpace(fields["section"])
		if i := strings.LastIndexByte(sec, '/'); i >= 0 {
			sec = sec[i+1:]
		}
		p.Category = text(sec)
		p.Provides = debProvides(fields["provides"])
		out = append(out, p)
		return nil
	}
	for {
		line, ok := ln.next()
		if !ok {
			break
		}
		switch {
		case strings.TrimSpace(line) == "":
			if err := flush(); err != nil {
				return nil, nil, err
			}
			last = ""
		case line[0] == ' ' || line[0] == '\t':
			if last == "" {
				return nil, nil, perr(file, ln.n, "continuation line outside a field")
			}
			if last == "description" && len(fields[last]) < maxText*4 {
				fields[last] += "\n" + strings.TrimSpace(line)
			}
		case line[0] == '#':
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || strings.ContainsAny(k, " \t") || k == "" {
				return nil, nil, perr(file, ln.n, "expected \"Field: value\", got %q", clip(line, 60))
			}
			if len(fields) == 0 {
				start = ln.n
			}
			last = strings.ToLower(k)
			if _, dup := fields[last]; dup {
				return nil, nil, perr(file, ln.n, "field %s given twice in one stanza", k)
			}
			if len(fields) > 100 {
				return nil, nil, perr(file, ln.n, "more than 100 fields in one stanza")
			}
			fields[last] = strings.TrimSpace(v)
		}
	}
	if err := ln.err(); err != nil {
		return nil, nil, err
	}
	if err := flush(); err != nil {
		return nil, nil, err
	}
	if len(out) == 0 {
		return nil, nil, perr(file, ln.n, "no package stanzas found")
	}
	return out, warnings, nil
}

// debProvides splits a Provides field: "a (= 1.0), b" → [a b].
func debProvides(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		// Alternatives ("a | b") do not belong in Provides; take each.
		for _, alt := range strings.Split(item, "|") {
			name, _, _ := strings.Cut(strings.TrimSpace(alt), " ")
			name, _, _ = strings.Cut(name, "(")
			if checkName(name) == "" && len(out) < maxProvides {
				out = append(out, name)
			}
		}
	}
	return out
}

// ParseCSV reads name, version, summary, license, category rows (only the
// name is required; a first row whose first field is "name" is a header).
func ParseCSV(r io.Reader, file string) ([]Package, []string, error) {
	lr := &lineCap{r: r}
	cr := csv.NewReader(lr)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var out []Package
	var warnings []string
	seen := map[string]bool{}
	for first := true; ; first = false {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			if errors.Is(err, errLineTooLong) || errors.Is(err, ErrTooLarge) {
				return nil, nil, perr(file, lr.line, "%v", err)
			}
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				return nil, nil, perr(file, pe.Line, "%v", pe.Err)
			}
			return nil, nil, fmt.Errorf("%s: %w", file, err)
		}
		line, _ := cr.FieldPos(0)
		if len(rec) > 5 {
			return nil, nil, perr(file, line, "%d fields; expected name, version, summary, license, category", len(rec))
		}
		name := strings.TrimSpace(rec[0])
		if first && strings.EqualFold(name, "name") {
			continue
		}
		if name == "" && len(rec) == 1 {
			continue // an empty line
		}
		if msg := checkName(name); msg != "" {
			return nil, nil, perr(file, line, "%s", msg)
		}
		if seen[name] {
			warnings = append(warnings, fmt.Sprintf("%s:%d: %s listed again; the first row is kept", file, line, name))
			continue
		}
		seen[name] = true
		if len(out) >= MaxPackages {
			return nil, nil, perr(file, line, "more than %d packages", MaxPackages)
		}
		get := func(i int) string {
			if i < len(rec) {
				return rec[i]
			}
			return ""
		}
		p := Package{Name: name, Version: strings.TrimSpace(get(1)), Summary: text(get(2)), License: text(get(3)),
			Category: text(get(4)), Origin: fmt.Sprintf("%s:%d", file, line)}
		if len(p.Version) > maxVersion {
			return nil, nil, perr(file, line, "%s: version longer than %d characters", name, maxVersion)
		}
		out = append(out, p)
	}
	if len(out) == 0 {
		return nil, nil, perr(file, 1, "no packages found")
	}
	return out, warnings, nil
}

var errLineTooLong = fmt.Errorf("line longer than %d KiB (or a quoted field spanning lines)", MaxLine>>10)

// lineCap passes r through, failing on a record longer than MaxLine (a
// line, or several lines inside one quoted field), so a CSV reader never
// builds a huge field.
type lineCap struct {
	r      io.Reader
	run    int // bytes of the current record
	line   int // current line, from 1
	quoted bool
}

func (l *lineCap) Read(p []byte) (int, error) {
	if l.line == 0 {
		l.line = 1
	}
	n, err := l.r.Read(p)
	for i, b := range p[:n] {
		switch b {
		case '"':
			l.quoted = !l.quoted // "" inside a field toggles twice
		case '\n':
			l.line++
			if !l.quoted {
				l.run = 0
				continue
			}
		}
		l.run++
		if l.run > MaxLine {
			return i, errLineTooLong
		}
	}
	return n, err
}

// ReadList parses an uploaded or named file in a format: a Debian
// Packages file or a CSV, gzipped or not; for rpmspec, one .spec file or a
// tar archive (gzipped or not) of a spec directory. It returns the
// packages and the warnings (entries skipped).
func ReadList(format string, r io.Reader, name string) ([]Package, []string, error) {
	in, err := Decompress(r)
	if err != nil {
		return nil, nil, err
	}
	switch format {
	case FormatDeb:
		return ParseDeb(in, name)
	case FormatCSV:
		return ParseCSV(in, name)
	case FormatRPMSpec:
		if strings.HasSuffix(name, ".spec") {
			data, err := io.ReadAll(io.LimitReader(in, MaxSpecFile+1))
			if err != nil {
				return nil, nil, fmt.Errorf("reading %s: %w", name, err)
			}
			return ParseSpecs([]SpecFile{{Name: name, Data: data}})
		}
		return ParseSpecTar(in)
	}
	return nil, nil, fmt.Errorf("unknown format %q: deb, rpmspec or csv", format)
}

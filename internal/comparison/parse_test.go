package comparison

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const debPackages = `Package: zlib1g
Version: 1:1.3.dfsg-3.1
Architecture: amd64
Section: libs
Provides: libz1 (= 1:1.3.dfsg-3.1)
Description: compression library - runtime
 zlib is a library implementing the deflate compression method found
 in gzip and PKZIP.

Package: zlib1g
Version: 1:1.3.dfsg-3.1
Architecture: i386
Section: libs
Description: compression library - runtime (again)

Package: mawk
Version: 1.3.4.20240123-1
Section: interpreters
Provides: awk
License: GPL-2
Description: Pattern scanning and text processing language

Package: fortune-mod
Version: 1:1.99.1-7.3
Section: contrib/games
Description: provides fortune cookies on demand
`

func TestParseDeb(t *testing.T) {
	ps, _, err := ParseDeb(strings.NewReader(debPackages), "Packages")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if !slices.Equal(names, []string{"zlib1g", "mawk", "fortune-mod"}) {
		t.Fatalf("packages %v", names)
	}
	z := ps[0]
	if z.Version != "1:1.3.dfsg-3.1" || z.Summary != "compression library - runtime" || z.Category != "libs" ||
		!slices.Equal(z.Provides, []string{"libz1"}) || z.Origin != "Packages:1" {
		t.Errorf("zlib1g: %+v", z)
	}
	if m := ps[1]; m.License != "GPL-2" || !slices.Equal(m.Provides, []string{"awk"}) || m.Origin != "Packages:16" {
		t.Errorf("mawk: %+v", m)
	}
	if f := ps[2]; f.Category != "games" {
		t.Errorf("fortune-mod: section %q, want games (without contrib/)", f.Category)
	}
}

func TestParseDebRefusesWithLineNumbers(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Package: ok\nVersion: 1\n\nthis is not a field\n", "x:4: expected \"Field: value\""},
		{" continuation\n", "x:1: continuation line outside a field"},
		{"Package: a\nPackage: b\n", "x:2: field Package given twice"},
		{"Version: 1\nDescription: no name\n", "x:1: stanza: no package name"},
		{"Package: bad/name\n", "x:1: stanza: \"bad/name\" is not a package name"},
		{"Package: a\nDescription: " + strings.Repeat("x", MaxLine+10) + "\n", "x:2: line longer than 64 KiB"},
		{"\n\n", "no package stanzas found"},
	} {
		_, _, err := ParseDeb(strings.NewReader(c.in), "x")
		var pe *ParseError
		if err == nil || !strings.Contains(err.Error(), c.want) || !errors.As(err, &pe) {
			t.Errorf("%.40q: error %v, want %q", c.in, err, c.want)
		}
	}
}

func TestDecompressCapsAndGunzips(t *testing.T) {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write([]byte(debPackages))
	zw.Close()
	r, err := Decompress(&buf)
	if err != nil {
		t.Fatal(err)
	}
	ps, _, err := ParseDeb(r, "Packages.gz")
	if err != nil || len(ps) != 3 {
		t.Fatalf("gzipped list: %d packages, %v", len(ps), err)
	}
	// A gzip bomb: more than MaxInput once inflated is refused, not cut.
	buf.Reset()
	zw = gzip.NewWriter(&buf)
	chunk := bytes.Repeat([]byte("Package: a\n\n"), 1<<16)
	for written := 0; written <= MaxInput; written += len(chunk) {
		zw.Write(chunk)
	}
	zw.Close()
	if buf.Len() > MaxUpload {
		t.Fatalf("the bomb is %d bytes compressed", buf.Len())
	}
	r, _ = Decompress(&buf)
	if _, err := io.Copy(io.Discard, r); !errors.Is(err, ErrTooLarge) {
		t.Errorf("reading the bomb: %v, want ErrTooLarge", err)
	}
}

func TestParseCSV(t *testing.T) {
	in := "name,version,summary,license,category\n" +
		"glibc,2.39,GNU C Library,LGPL-2.1-or-later,libs\n" +
		"busybox-native,1.36.1,,,\n" +
		"\"rubygem-rails\",7.1,\"Web framework, full stack\",MIT\n" +
		"glibc,2.40,again,,\n"
	ps, warnings, err := ParseCSV(strings.NewReader(in), "list.csv")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 3 || ps[0].Name != "glibc" || ps[0].License != "LGPL-2.1-or-later" || ps[0].Category != "libs" ||
		ps[2].Summary != "Web framework, full stack" || ps[2].Origin != "list.csv:4" {
		t.Errorf("packages %+v", ps)
	}
	if len(warnings) != 1 || !strings.Contains(warnings[0], "list.csv:5: glibc listed again") {
		t.Errorf("warnings %v", warnings)
	}
	// Only the name is required.
	if ps, _, err := ParseCSV(strings.NewReader("zlib\n"), "x"); err != nil || len(ps) != 1 || ps[0].Name != "zlib" {
		t.Errorf("a name alone: %+v %v", ps, err)
	}
	// At most MaxPackages packages.
	var many strings.Builder
	for i := 0; i <= MaxPackages; i++ {
		fmt.Fprintf(&many, "p%d\n", i)
	}
	if _, _, err := ParseCSV(strings.NewReader(many.String()), "x"); err == nil || !strings.Contains(err.Error(), "more than 200000 packages") {
		t.Errorf("%d packages: %v", MaxPackages+1, err)
	}
	for _, c := range []struct{ in, want string }{
		{"a,1,s,l,c,extra\n", "x:1: 6 fields"},
		{"ok\n\"unterminated,1\n", "x:2:"},
		{"ok\nbad name,1\n", "x:2: \"bad name\" is not a package name"},
		{"ok\n" + strings.Repeat("y", MaxLine+1) + "\n", "x:2: line longer than 64 KiB"},
		{"ok\n\"" + strings.Repeat("short line\n", MaxLine/10) + "\"\n", "line longer than 64 KiB (or a quoted field spanning lines)"},
		{"ok,\"a \"\"quoted\"\" word\"\n" + strings.Repeat("z", MaxLine+1), "x:2: line longer than 64 KiB"},
	} {
		_, _, err := ParseCSV(strings.NewReader(c.in), "x")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%.40q: error %v, want %q", c.in, err, c.want)
		}
	}
}

const curlSpec = `%global ver 8.5.0
%define _hardened_build 1
Name:           curl
Version:        %{ver}
Release:        1%{?dist}
Summary:        A utility for getting files from remote servers (FTP, HTTP, and others)
License:        curl
Group:          Applications/Internet
Provides:       webclient, curl-full = %{version}-%{release}
Provides:       %{name}-minimal

%description
curl is a command line tool for transferring data with URL syntax.

%package -n libcurl
Summary: A library for getting files from web servers
Name: not-this-one
`

func TestParseSpec(t *testing.T) {
	p, err := ParseSpec([]byte(curlSpec), "SPECS/curl.spec")
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "curl" || p.Version != "8.5.0" || p.License != "curl" || p.Category != "Applications/Internet" ||
		!strings.HasPrefix(p.Summary, "A utility for getting files") || p.Origin != "SPECS/curl.spec:3" {
		t.Errorf("curl: %+v", p)
	}
	if !slices.Equal(p.Provides, []string{"webclient", "curl-full", "curl-minimal"}) {
		t.Errorf("provides %v", p.Provides)
	}
	// Macros it does not know stay as written; definitions are bounded.
	for _, c := range []struct{ spec, name, version, err string }{
		{"Name: python-%{srcname}\n%global srcname requests\nVersion: %{?pyver}2.31\n", "python-requests", "%{?pyver}2.31", ""},
		{"%define a %{b}%{b}\n%define b %{a}%{a}\nName: %{a}\n", "", "", "macro expansion too large or too deep"},
		{"%define b x\n%define a %{b}%{b}%{b}%{b}%{b}%{b}%{b}%{b}\n%define c %{a}%{a}%{a}%{a}%{a}%{a}%{a}%{a}\n%define d %{c}%{c}%{c}%{c}%{c}%{c}%{c}%{c}\n%define e %{d}%{d}%{d}%{d}%{d}%{d}%{d}%{d}\n%define f %{e}%{e}\nName: %{f}\n", "", "", "macro expansion too large"},
		{"Name: %{pkgname}\n", "", "", "is not a package name"},
		{"Summary: no name\n", "", "", "no Name: tag"},
		{"Name: 100%%-pure\n", "", "", "\"100%-pure\" is not a package name"},
		{"Name: %name\n", "", "", "macro expansion too large or too deep"},
	} {
		p, err := ParseSpec([]byte(c.spec), "t.spec")
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: %v, want error %q", c.spec, err, c.err)
			}
		case err != nil:
			t.Errorf("%q: %v", c.spec, err)
		case p.Name != c.name || p.Version != c.version:
			t.Errorf("%q: name %q version %q, want %q %q", c.spec, p.Name, p.Version, c.name, c.version)
		}
	}
}

func TestSpecsFromDirAndTar(t *testing.T) {
	dir := t.TempDir()
	write := func(p, body string) {
		full := filepath.Join(dir, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("curl/curl.spec", curlSpec)
	write("bad/bad.spec", "Name: %{undefined}\n")
	write("README", "not a spec")
	write("big/big.spec", "Name: big\n"+strings.Repeat("#\n", MaxSpecFile))
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link.spec")); err != nil {
		t.Fatal(err)
	}
	if _, err := SpecsFromFS(os.DirFS(dir)); err == nil || !strings.Contains(err.Error(), "big/big.spec: larger than 1024 KiB") {
		t.Fatalf("a spec over the limit: %v", err)
	}
	os.Remove(filepath.Join(dir, "big/big.spec"))
	files, err := SpecsFromFS(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 2 {
		t.Fatalf("read %d files (symbolic links and other files must be left out)", len(files))
	}
	ps, warnings, err := ParseSpecs(files)
	if err != nil || len(ps) != 1 || ps[0].Name != "curl" {
		t.Fatalf("packages %+v, %v", ps, err)
	}
	if len(warnings) != 1 || !strings.HasPrefix(warnings[0], "bad/bad.spec:1: Name:") {
		t.Errorf("warnings %v", warnings)
	}

	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(h *tar.Header, body string) {
		h.Size = int64(len(body))
		if h.Typeflag == 0 {
			h.Typeflag = tar.TypeReg
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	add(&tar.Header{Name: "specs/curl.spec", Mode: 0o644}, curlSpec)
	add(&tar.Header{Name: "specs/evil.spec", Typeflag: tar.TypeSymlink, Linkname: "/etc/shadow"}, "")
	tw.Close()
	ps, _, err = ParseSpecTar(&buf)
	if err != nil || len(ps) != 1 || ps[0].Name != "curl" || ps[0].Origin != "specs/curl.spec:3" {
		t.Fatalf("tar: %+v, %v", ps, err)
	}
}

// TestReadList: the form's and the command line's entry point, per format.
func TestReadList(t *testing.T) {
	var tb bytes.Buffer
	zw := gzip.NewWriter(&tb)
	tw := tar.NewWriter(zw)
	tw.WriteHeader(&tar.Header{Name: "SPECS/curl.spec", Mode: 0o644, Size: int64(len(curlSpec)), Typeflag: tar.TypeReg})
	tw.Write([]byte(curlSpec))
	tw.Close()
	zw.Close()
	for _, c := range []struct {
		format, name string
		data         []byte
		want         string
	}{
		{FormatRPMSpec, "specs.tar.gz", tb.Bytes(), "curl"},
		{FormatRPMSpec, "curl.spec", []byte(curlSpec), "curl"},
		{FormatDeb, "Packages", []byte(debPackages), "zlib1g"},
		{FormatCSV, "list.csv", []byte("name\nglibc\n"), "glibc"},
	} {
		ps, _, err := ReadList(c.format, bytes.NewReader(c.data), c.name)
		if err != nil || len(ps) == 0 || ps[0].Name != c.want {
			t.Errorf("%s %s: %+v %v", c.format, c.name, ps, err)
		}
	}
	if _, _, err := ReadList("rpm", strings.NewReader("x"), "x"); err == nil || !strings.Contains(err.Error(), "unknown format") {
		t.Errorf("unknown format: %v", err)
	}
	if _, _, err := ReadList(FormatRPMSpec, strings.NewReader("not a tar archive at all, just text"), "x.tar"); err == nil {
		t.Error("a file that is no tar archive was read")
	}
}

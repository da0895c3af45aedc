package comparison_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"layerindex/internal/comparison"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/store"
)

// TinyCore is a small core layer whose recipes the matcher is tested
// against once indexed by the real ingestion. Exported to the web tests
// through IndexTinyCore.
var tinyCore = map[string]string{
	"meta/conf/layer.conf": `BBPATH .= ":${LAYERDIR}"
BBFILES += "${LAYERDIR}/recipes-*/*/*.bb"
BBFILE_COLLECTIONS += "core"
BBFILE_PATTERN_core = "^${LAYERDIR}/"
BBFILE_PRIORITY_core = "5"
LAYERVERSION_core = "15"
LAYERSERIES_CORENAMES = "walnascar"
LAYERSERIES_COMPAT_core = "walnascar"
`,
	"meta/conf/bitbake.conf": `PN = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[0] or 'defaultpkgname'}"
PV = "${@bb.parse.vars_from_file(d.getVar('FILE', False),d)[1] or '1.0'}"
PR = "r0"
`,
	"meta/classes-global/base.bbclass":                        "# base\n",
	"meta/recipes-core/zlib/zlib_1.3.1.bb":                    "SUMMARY = \"Zlib compression library\"\nLICENSE = \"Zlib\"\n",
	"meta/recipes-connectivity/openssl/openssl_3.4.0.bb":      "SUMMARY = \"Secure Socket Layer\"\nLICENSE = \"Apache-2.0\"\n",
	"meta/recipes-extended/gawk/gawk_5.3.1.bb":                "SUMMARY = \"GNU awk\"\nLICENSE = \"GPL-3.0-only\"\nPROVIDES += \"awk\"\n",
	"meta/recipes-core/busybox/busybox_1.37.0.bb":             "SUMMARY = \"Tiny versions of many common UNIX utilities\"\nLICENSE = \"GPL-2.0-only\"\nBBCLASSEXTEND = \"native nativesdk\"\n",
	"meta/recipes-devtools/python/python3-requests_2.32.3.bb": "SUMMARY = \"HTTP for humans\"\nLICENSE = \"Apache-2.0\"\n",
	"meta/recipes-devtools/perl/libxml-parser-perl_2.47.bb":   "SUMMARY = \"XML parser\"\nLICENSE = \"Artistic-1.0 | GPL-1.0-or-later\"\n",
	"meta/recipes-support/curl/curl_8.11.0.bb":                "SUMMARY = \"Command line tool and library for client-side URL transfers\"\nLICENSE = \"curl\"\n",
	"meta/recipes-core/glibc/glibc_2.40.bb":                   "SUMMARY = \"GLIBC\"\nLICENSE = \"GPL-2.0-only & LGPL-2.1-or-later\"\n",
	"meta/recipes-extended/fortune/not-fortune_1.0.bb":        "SUMMARY = \"Not fortune\"\nLICENSE = \"MIT\"\n",
}

type env struct {
	t      *testing.T
	ctx    context.Context
	conn   *db.DB
	st     *store.Store
	svc    *comparison.Service
	master *store.Branch
	coreLB *store.LayerBranch
}

func newEnv(t *testing.T, d db.Dialect) *env {
	t.Helper()
	repo := filepath.Join(t.TempDir(), "core")
	for p, body := range tinyCore {
		full := filepath.Join(repo, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "master"}, {"add", "-A"}, {"commit", "-qm", "core"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	conn := dbtest.Migrated(t, d)
	e := &env{t: t, ctx: context.Background(), conn: conn, st: store.New(conn.Gorm), svc: comparison.New(conn.Gorm)}
	e.master = &store.Branch{Name: "master", BitbakeBranch: "master", UpdatesEnabled: true}
	if err := e.st.CreateBranch(e.ctx, e.master); err != nil {
		t.Fatal(err)
	}
	core := &store.Layer{Name: "openembedded-core", Status: store.StatusPublished, LayerType: store.TypeBase, VCSURL: repo, Summary: "Core"}
	if err := e.st.CreateLayer(e.ctx, core); err != nil {
		t.Fatal(err)
	}
	e.coreLB = &store.LayerBranch{LayerID: core.ID, BranchID: e.master.ID, VCSSubdir: "meta", UpdatesEnabled: true}
	if err := e.st.CreateLayerBranch(e.ctx, e.coreLB); err != nil {
		t.Fatal(err)
	}
	cache := gitrepo.NewCache(t.TempDir(), gitrepo.Policy{AllowLocal: true}, gitrepo.DefaultLimits)
	res, err := ingest.New(conn.Gorm, cache, nil).UpdateLayerBranch(e.ctx, ingest.Request{LayerBranchID: e.coreLB.ID})
	if err != nil || res.Status != store.UpdateSucceeded {
		t.Fatalf("indexing the tiny core: %v %+v", err, res)
	}
	return e
}

// byName loads a comparison branch's packages by name.
func (e *env) byName(branch string) map[string]store.ComparisonPackage {
	e.t.Helper()
	ci, err := e.st.ComparisonBranchByName(e.ctx, branch)
	if err != nil {
		e.t.Fatal(err)
	}
	ps, err := e.st.ComparisonPackages(e.ctx, ci.Branch.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]store.ComparisonPackage{}
	for _, p := range ps {
		out[p.Name] = p
	}
	return out
}

const packagesFile = `Package: zlib1g
Version: 1:1.3.dfsg-3.1
Section: libs
Description: compression library - runtime

Package: zlib1g-dev
Version: 1:1.3.dfsg-3.1
Section: libdevel
Description: compression library - development

Package: libssl3t64
Version: 3.3.2-2
Section: libs
Description: Secure Sockets Layer toolkit - shared libraries

Package: mawk
Version: 1.3.4-1
Section: interpreters
Provides: awk
Description: Pattern scanning and text processing language

Package: python3-requests
Version: 2.32.3+dfsg-1
Section: python
Description: elegant and simple HTTP library for Python3, built for human beings

Package: libxml-parser-perl
Version: 2.47-1
Section: perl
Description: Perl module for parsing XML files

Package: libcurl4
Version: 8.11.0-1
Section: libs
Description: easy-to-use client-side URL transfer library

Package: fortune-mod
Version: 1:1.99.1-7.3
Section: games
Description: provides fortune cookies on demand
`

// TestImportAndMatch imports a Debian Packages file, a spec directory and
// a CSV into comparison branches, matched against the indexed tiny core,
// then changes covers and re-imports, on both databases.
func TestImportAndMatch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		ps, _, err := comparison.ParseDeb(strings.NewReader(packagesFile), "Packages")
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Import(e.ctx, comparison.CLI, comparison.ImportRequest{Branch: "debian-trixie", Description: "Debian 13",
			Format: comparison.FormatDeb, Source: "Packages", Packages: ps})
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 8 || res.Matched.Changed != 6 || !res.Branch.Comparison {
			t.Errorf("import: %+v", res)
		}
		got := e.byName("debian-trixie")
		for name, want := range map[string]struct{ status, pn string }{
			"zlib1g":             {store.CoverDirect, "zlib"},
			"zlib1g-dev":         {store.CoverDirect, "zlib"},
			"libssl3t64":         {store.CoverUnknown, ""}, // t64: not a rule
			"mawk":               {store.CoverReplaced, "gawk"},
			"python3-requests":   {store.CoverDirect, "python3-requests"},
			"libxml-parser-perl": {store.CoverDirect, "libxml-parser-perl"},
			"libcurl4":           {store.CoverDirect, "curl"},
			"fortune-mod":        {store.CoverUnknown, ""},
		} {
			p := got[name]
			if p.CoverStatus != want.status || p.CoverPN != want.pn {
				t.Errorf("%s: %s %q (%s), want %s %q", name, p.CoverStatus, p.CoverPN, p.MatchRule, want.status, want.pn)
			}
			if want.pn != "" && (p.CoverLayerBranchID == nil || *p.CoverLayerBranchID != e.coreLB.ID || p.CoverVerified) {
				t.Errorf("%s: cover layer branch %v verified %v", name, p.CoverLayerBranchID, p.CoverVerified)
			}
		}
		if r := got["mawk"].MatchRule; r != "the package provides awk, in the PROVIDES of gawk" {
			t.Errorf("mawk's rule: %q", r)
		}
		// The comparison branch stays out of the release lists.
		if bs, _ := e.st.VisibleBranches(e.ctx); len(bs) != 1 {
			t.Errorf("visible branches %+v", bs)
		}
		// A release branch's name is refused.
		_, err = e.svc.Import(e.ctx, comparison.CLI, comparison.ImportRequest{Branch: "master", Format: comparison.FormatDeb, Packages: ps})
		if !errors.Is(err, comparison.ErrInvalid) {
			t.Errorf("importing into master: %v", err)
		}

		// A person decides: fortune-mod is obsolete, zlib1g is confirmed.
		editor := &store.User{Email: "ed@example.org", Name: "Ed", Verified: true, IsActive: true}
		if err := e.st.CreateUser(e.ctx, editor); err != nil {
			t.Fatal(err)
		}
		ed := comparison.Actor{User: editor}
		if _, err := e.svc.SetCover(e.ctx, ed, got["fortune-mod"].ID, comparison.Cover{Status: store.CoverObsolete, Comment: "not in our images"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetCover(e.ctx, ed, got["zlib1g"].ID, comparison.Cover{Status: store.CoverDirect, PN: "zlib"}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.SetCover(e.ctx, ed, got["libssl3t64"].ID, comparison.Cover{Status: store.CoverDirect, PN: "no-such-recipe"}); !errors.Is(err, comparison.ErrInvalid) {
			t.Errorf("a cover by a recipe that does not exist: %v", err)
		}
		if _, err := e.svc.SetCover(e.ctx, ed, got["libssl3t64"].ID, comparison.Cover{Status: store.CoverDirect}); !errors.Is(err, comparison.ErrInvalid) {
			t.Errorf("a direct match without a recipe: %v", err)
		}
		if _, err := e.svc.SetCover(e.ctx, ed, got["libssl3t64"].ID, comparison.Cover{Status: "Z"}); !errors.Is(err, comparison.ErrInvalid) {
			t.Errorf("an unknown status: %v", err)
		}
		if _, err := e.svc.SetCover(e.ctx, ed, got["libssl3t64"].ID, comparison.Cover{Status: store.CoverReplaced, PN: "openssl", Layer: "openembedded-core", Comment: "t64 transition"}); err != nil {
			t.Fatal(err)
		}
		hist, err := e.st.CoverChanges(e.ctx, got["fortune-mod"].ID)
		if err != nil || len(hist) != 1 || hist[0].UserName != "Ed" || hist[0].NewStatus != store.CoverObsolete || hist[0].Comment != "not in our images" {
			t.Fatalf("history %+v, %v", hist, err)
		}
		hist, _ = e.st.CoverChanges(e.ctx, got["libssl3t64"].ID)
		if len(hist) != 1 || hist[0].OldStatus != store.CoverUnknown || hist[0].NewCover != "openssl (openembedded-core)" {
			t.Errorf("libssl3t64 history %+v", hist)
		}
		hist, _ = e.st.CoverChanges(e.ctx, got["zlib1g"].ID)
		if len(hist) != 2 || hist[1].Origin != "automatic" || hist[0].Origin != "user" || !hist[0].Verified {
			t.Errorf("zlib1g history %+v", hist)
		}

		// Re-import: zlib1g's version changes (verified: needs attention),
		// fortune-mod is gone (deleted, cover kept), a new package comes.
		next := strings.Replace(packagesFile, "Version: 1:1.3.dfsg-3.1\nSection: libs", "Version: 1:1.3.1-1\nSection: libs", 1)
		next = next[:strings.Index(next, "Package: fortune-mod")] + "Package: busybox\nVersion: 1:1.37.0-4\nSection: utils\nDescription: Tiny utilities\n"
		ps, _, err = comparison.ParseDeb(strings.NewReader(next), "Packages")
		if err != nil {
			t.Fatal(err)
		}
		res, err = e.svc.Import(e.ctx, comparison.CLI, comparison.ImportRequest{Branch: "debian-trixie", Format: comparison.FormatDeb, Packages: ps})
		if err != nil {
			t.Fatal(err)
		}
		if res.Added != 1 || res.Updated != 1 || res.Removed != 1 || res.VerifiedNeedingAttention != 1 || res.Matched.Changed != 1 {
			t.Errorf("re-import: %+v", res)
		}
		got = e.byName("debian-trixie")
		if p := got["zlib1g"]; !p.NeedsAttention || !p.CoverVerified || p.Version != "1:1.3.1-1" {
			t.Errorf("zlib1g after re-import: %+v", p)
		}
		if p := got["fortune-mod"]; !p.Deleted || p.CoverStatus != store.CoverObsolete {
			t.Errorf("fortune-mod after re-import: %+v", p)
		}
		if p := got["libssl3t64"]; p.CoverStatus != store.CoverReplaced || p.CoverPN != "openssl" {
			t.Errorf("the matcher changed a verified cover: %+v", p)
		}
		ci, _ := e.st.ComparisonBranchByName(e.ctx, "debian-trixie")
		if ci.Packages != 8 || ci.Covered != 8 || ci.Info.Description != "Debian 13" || ci.MatchBranch != "master" {
			t.Errorf("branch figures %+v", ci)
		}
		for f, want := range map[store.ComparisonFilter]string{
			{Status: "!"}:                          "",
			{Status: "#"}:                          "busybox libcurl4 libssl3t64 libxml-parser-perl mawk python3-requests zlib1g zlib1g-dev",
			{Status: "R"}:                          "libssl3t64 mawk",
			{Status: "provided"}:                   "libssl3t64 mawk",
			{Status: "covered", Query: "ZLIB"}:     "zlib1g zlib1g-dev",
			{Query: "elegant"}:                     "python3-requests",
			{Category: "libs"}:                     "libcurl4 libssl3t64 zlib1g",
			{Verified: "yes"}:                      "libssl3t64 zlib1g",
			{Status: "no-such-group"}:              "",
			{Page: store.Page{Number: 2, Size: 3}}: "libxml-parser-perl mawk python3-requests",
		} {
			rows, err := e.st.SearchComparison(e.ctx, ci.Branch.ID, f, f.Page.Size == 0)
			var names []string
			for _, r := range rows.Items {
				names = append(names, r.Name)
			}
			if err != nil || strings.Join(names, " ") != want {
				t.Errorf("search %+v: %v, %v; want %s", f, names, err, want)
			}
		}
		rows, _ := e.st.SearchComparison(e.ctx, ci.Branch.ID, store.ComparisonFilter{NeedsAttention: true}, true)
		if rows.Total != 1 || rows.Items[0].Name != "zlib1g" || rows.Items[0].CoverRecipeID == nil || rows.Items[0].CoverLayer != "openembedded-core" {
			t.Errorf("needing attention: %+v", rows)
		}

		// A spec directory.
		dir := t.TempDir()
		for name, body := range map[string]string{
			"curl/curl.spec":                       "%global upstream 8.11.0\nName: curl\nVersion: %{upstream}\nSummary: A utility for getting files\nLicense: curl\nGroup: Applications/Internet\n",
			"perl-XML-Parser/perl-XML-Parser.spec": "Name: perl-XML-Parser\nVersion: 2.47\nSummary: Perl module for parsing XML documents\nLicense: GPL-1.0-or-later OR Artistic-1.0-Perl\n",
			"python-requests/python-requests.spec": "%global srcname requests\nName: python-%{srcname}\nVersion: 2.32.3\nSummary: HTTP library\nLicense: Apache-2.0\n",
			"broken/broken.spec":                   "Name: %{undefined_macro}\n",
		} {
			full := filepath.Join(dir, name)
			os.MkdirAll(filepath.Dir(full), 0o755)
			os.WriteFile(full, []byte(body), 0o644)
		}
		files, err := comparison.SpecsFromFS(os.DirFS(dir))
		if err != nil {
			t.Fatal(err)
		}
		ps, warnings, err := comparison.ParseSpecs(files)
		if err != nil || len(warnings) != 1 {
			t.Fatalf("specs: %v, warnings %v", err, warnings)
		}
		if _, err := e.svc.Import(e.ctx, comparison.CLI, comparison.ImportRequest{Branch: "fedora", Format: comparison.FormatRPMSpec, Packages: ps}); err != nil {
			t.Fatal(err)
		}
		got = e.byName("fedora")
		for name, pn := range map[string]string{"curl": "curl", "perl-XML-Parser": "libxml-parser-perl", "python-requests": "python3-requests"} {
			if p := got[name]; p.CoverStatus != store.CoverDirect || p.CoverPN != pn {
				t.Errorf("fedora %s: %+v", name, p)
			}
		}
		if p := got["curl"]; p.Version != "8.11.0" || p.Category != "Applications/Internet" || p.Origin != "curl/curl.spec:2" {
			t.Errorf("fedora curl: %+v", p)
		}

		// A CSV.
		ps, _, err = comparison.ParseCSV(strings.NewReader("name,version,summary,license,category\nglibc,2.40,GNU C library,LGPL-2.1-or-later,base\nbusybox-native,1.37,,,\nrubygem-rails,7.1,Rails,MIT,\n"), "list.csv")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.Import(e.ctx, comparison.CLI, comparison.ImportRequest{Branch: "in-house", Format: comparison.FormatCSV, Packages: ps}); err != nil {
			t.Fatal(err)
		}
		got = e.byName("in-house")
		if p := got["glibc"]; p.CoverStatus != store.CoverDirect || p.License != "LGPL-2.1-or-later" || p.Category != "base" {
			t.Errorf("glibc: %+v", p)
		}
		if p := got["busybox-native"]; p.CoverStatus != store.CoverBBClassExt || p.CoverPN != "busybox" {
			t.Errorf("busybox-native: %+v", p)
		}
		if p := got["rubygem-rails"]; p.CoverStatus != store.CoverUnknown || p.Category != "ruby" {
			t.Errorf("rubygem-rails: %+v", p)
		}

		// The verified cover of a recipe that leaves the index needs attention.
		if err := e.conn.Gorm.Exec("DELETE FROM recipes WHERE pn = 'openssl'").Error; err != nil {
			t.Fatal(err)
		}
		mr, err := e.svc.Match(e.ctx, comparison.CLI, "debian-trixie")
		if err != nil || mr.Attention != 1 {
			t.Errorf("match after openssl left: %+v, %v", mr, err)
		}
		if p := e.byName("debian-trixie")["libssl3t64"]; !p.NeedsAttention {
			t.Errorf("libssl3t64 does not need attention: %+v", p)
		}

		// Deleting a comparison takes its packages and history along, and
		// never a release branch.
		if err := e.svc.Delete(e.ctx, comparison.CLI, "master"); !errors.Is(err, comparison.ErrInvalid) {
			t.Errorf("deleting master: %v", err)
		}
		if err := e.svc.Delete(e.ctx, comparison.CLI, "debian-trixie"); err != nil {
			t.Fatal(err)
		}
		for table, want := range map[string]int64{"comparison_packages": 6, "comparison_cover_changes": 5, "comparison_branches": 2} {
			var n int64
			e.conn.Gorm.Table(table).Count(&n)
			if n != want {
				t.Errorf("%s: %d rows left, want %d (the other comparisons')", table, n, want)
			}
		}
		if _, err := e.st.BranchByName(e.ctx, "master"); err != nil {
			t.Errorf("master: %v", err)
		}
	})
}

package ingest_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"layerindex/internal/bitbake"
	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/store"
)

const (
	oeCoreCommit = "35a2c6ed7987763dadbe45ad86095e1aee1c7314"
	metaOECommit = "43fd2c88f1ab439bd933af2a7bf1c7b0db3e77dd"
)

type env struct {
	t     *testing.T
	st    *store.Store
	ix    *ingest.Indexer
	conn  *db.DB
	ctx   context.Context
	mastr *store.Branch
}

func newEnv(t *testing.T, d db.Dialect) *env {
	t.Helper()
	conn := dbtest.Migrated(t, d)
	cache := gitrepo.NewCache(t.TempDir(), gitrepo.Policy{AllowLocal: true}, gitrepo.DefaultLimits)
	e := &env{t: t, st: store.New(conn.Gorm), ix: ingest.New(conn.Gorm, cache, nil), conn: conn, ctx: context.Background()}
	e.mastr = &store.Branch{Name: "master", BitbakeBranch: "master", UpdatesEnabled: true}
	if err := e.st.CreateBranch(e.ctx, e.mastr); err != nil {
		t.Fatal(err)
	}
	return e
}

// addLayer creates a published layer with a layer branch on master.
func (e *env) addLayer(name, url, subdir string) *store.LayerBranch {
	e.t.Helper()
	l := &store.Layer{Name: name, Status: store.StatusPublished, LayerType: store.TypeSoftware, VCSURL: url}
	if err := e.st.CreateLayer(e.ctx, l); err != nil {
		e.t.Fatal(err)
	}
	lb := &store.LayerBranch{LayerID: l.ID, BranchID: e.mastr.ID, VCSSubdir: subdir, UpdatesEnabled: true}
	if err := e.st.CreateLayerBranch(e.ctx, lb); err != nil {
		e.t.Fatal(err)
	}
	return lb
}

func (e *env) update(lb *store.LayerBranch, force bool) *ingest.Result {
	e.t.Helper()
	res, err := e.ix.UpdateLayerBranch(e.ctx, ingest.Request{LayerBranchID: lb.ID, Force: force})
	if err != nil {
		e.t.Fatalf("update %d: %v\nlog:\n%s", lb.ID, err, logOf(res))
	}
	return res
}

func logOf(r *ingest.Result) string {
	if r == nil {
		return "(no result)"
	}
	return r.Log
}

func (e *env) recipes(lbID int64) map[string]store.Recipe {
	var rs []store.Recipe
	e.conn.Gorm.Where("layer_branch_id = ?", lbID).Find(&rs)
	out := map[string]store.Recipe{}
	for _, r := range rs {
		out[r.Path()] = r
	}
	return out
}

func (e *env) count(table string, lbID int64) int64 {
	var n int64
	e.conn.Gorm.Table(table).Where("layer_branch_id = ?", lbID).Count(&n)
	return n
}

// TestIndexCorpusMatchesParser indexes oe-core's meta and meta-oe from the
// shared corpus (local mirrors) and checks that the stored index equals what
// the parser reports for the same trees, then that a second run is skipped.
func TestIndexCorpusMatchesParser(t *testing.T) {
	oeBare := corpus.Bare(t, "openembedded-core")
	moBare := corpus.Bare(t, "meta-openembedded")
	oeTree := corpus.Tree(t, oeBare, oeCoreCommit, "meta")
	moTree := corpus.Tree(t, moBare, metaOECommit, "meta-oe")
	coreFS, moFS := os.DirFS(filepath.Join(oeTree, "meta")), os.DirFS(filepath.Join(moTree, "meta-oe"))

	// What `layerindex parse` reports, through the same library.
	cfg, err := bitbake.NewConfig(bitbake.Layer{Name: "meta-oe", FS: moFS}, []bitbake.Layer{{Name: "meta", FS: coreFS}}, bitbake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := cfg.ParseLayer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	wantFiles, _ := bitbake.WalkLayer(moFS)

	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d)
		core := e.addLayer("openembedded-core", oeBare, "meta")
		metaOE := e.addLayer("meta-oe", moBare, "meta-oe")
		if r := e.update(core, false); r.Status != store.UpdateSucceeded || r.Stats.Added != 956 {
			t.Fatalf("oe-core: %s %+v\n%s", r.Status, r.Stats, r.Log)
		}
		r := e.update(metaOE, false)
		if r.Status != store.UpdateSucceeded || r.Stats.Added != len(want) {
			t.Fatalf("meta-oe: %s %+v (want %d added)\n%s", r.Status, r.Stats, len(want), r.Log)
		}

		got := e.recipes(metaOE.ID)
		mismatches := 0
		for _, w := range want {
			g, ok := got[w.Path]
			if !ok {
				t.Errorf("%s not stored", w.Path)
				continue
			}
			if g.PN != w.PN || g.PV != w.PV || g.License != strings.Join(strings.Fields(w.License), " ") ||
				g.Inherits != strings.Join(w.Inherits, " ") || g.SkipReason != w.SkipReason {
				mismatches++
				if mismatches < 5 {
					t.Errorf("%s: stored %q %q %q %q, parser %q %q %q %q", w.Path, g.PN, g.PV, g.License, g.Inherits, w.PN, w.PV, w.License, w.Inherits)
				}
			}
		}
		var deps []string
		e.conn.Gorm.Table("recipe_build_deps").Select("name").
			Where("recipe_id = ?", got[want[0].Path].ID).Order("id").Scan(&deps)
		if !slices.Equal(deps, uniq(strings.Fields(want[0].Depends))) {
			t.Errorf("%s DEPENDS stored %v, parsed %v", want[0].Path, deps, want[0].Depends)
		}

		// PACKAGECONFIG rows are the features only: not bitbake.conf's
		// [vardepvalue] nor documentation.conf's [doc] that every recipe
		// carries, while a feature named like a task flag ([python]) stays.
		var features []struct {
			RecipeID int64
			Feature  string
		}
		e.conn.Gorm.Raw(`SELECT c.recipe_id, c.feature FROM recipe_package_configs c JOIN recipes r ON r.id = c.recipe_id
			WHERE r.layer_branch_id = ?`, metaOE.ID).Scan(&features)
		stored := map[int64][]string{}
		for _, f := range features {
			stored[f.RecipeID] = append(stored[f.RecipeID], f.Feature)
		}
		pcMismatches, python := 0, 0
		for _, w := range want {
			var wantF []string
			for f := range w.PackageConfig {
				if f != "vardepvalue" && f != "doc" {
					wantF = append(wantF, f)
				}
				if f == "python" {
					python++
				}
			}
			gotF := stored[got[w.Path].ID]
			sort.Strings(wantF)
			sort.Strings(gotF)
			if !slices.Equal(gotF, wantF) {
				if pcMismatches++; pcMismatches < 5 {
					t.Errorf("%s: stored PACKAGECONFIG features %v, parsed %v", w.Path, gotF, wantF)
				}
			}
		}
		if python == 0 || len(features) == 0 {
			t.Errorf("no recipe with PACKAGECONFIG[python] (%d) or no features stored (%d)", python, len(features))
		}

		counts := map[bitbake.FileKind]int{}
		for _, f := range wantFiles {
			counts[f.Kind]++
		}
		for table, kind := range map[string]bitbake.FileKind{"machines": bitbake.KindMachine, "distros": bitbake.KindDistro,
			"bbclasses": bitbake.KindClass, "bbappends": bitbake.KindBBAppend, "inc_files": bitbake.KindInc} {
			if n := e.count(table, metaOE.ID); n != int64(counts[kind]) {
				t.Errorf("%s: stored %d, parser walked %d", table, n, counts[kind])
			}
		}
		lb, _ := e.st.LayerBranchByID(e.ctx, metaOE.ID)
		if lb.Collection != "openembedded-layer" || lb.VCSLastRev != metaOECommit || lb.ParserVersion != ingest.ParserVersion {
			t.Errorf("layer branch state: %q %q %q", lb.Collection, lb.VCSLastRev, lb.ParserVersion)
		}
		depRows, _ := e.st.Dependencies(e.ctx, metaOE.ID)
		if len(depRows) != 1 || depRows[0].DependencyID != core.LayerID || !depRows[0].Required {
			t.Errorf("meta-oe dependencies: %+v", depRows)
		}

		// Nothing changed: the second run is skipped.
		if r := e.update(metaOE, false); r.Status != store.UpdateUnchanged {
			t.Errorf("second run: %s\n%s", r.Status, r.Log)
		}
		if r := e.update(core, false); r.Status != store.UpdateUnchanged {
			t.Errorf("second oe-core run: %s\n%s", r.Status, r.Log)
		}
	})
}

func uniq(ws []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, w := range ws {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	return out
}

// work is a clone of a corpus repository that tests commit to, serving as
// the layer's upstream.
type work struct {
	t   *testing.T
	dir string
}

func cloneWork(t *testing.T, bare string) *work {
	t.Helper()
	w := &work{t: t, dir: filepath.Join(t.TempDir(), "work")}
	w.git(filepath.Dir(w.dir), "clone", "-q", "--no-local", "-b", "master", bare, w.dir)
	return w
}

func (w *work) git(dir string, args ...string) string {
	w.t.Helper()
	if dir == "" {
		dir = w.dir
	}
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
		"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.CombinedOutput()
	if err != nil {
		w.t.Fatalf("git %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func (w *work) edit(rel string, fn func(string) string) {
	w.t.Helper()
	p := filepath.Join(w.dir, rel)
	b, err := os.ReadFile(p)
	if err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(fn(string(b))), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// TestIncrementalUpdate commits an edit of one recipe, an added recipe, a
// deleted one, a renamed one and an edit of an .inc two recipes read, and
// checks that exactly those recipes change, with the renamed recipe's id
// kept and the log saying so.
func TestIncrementalUpdate(t *testing.T) {
	bare := corpus.Bare(t, "openembedded-core")
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		w := cloneWork(t, bare)
		e := newEnv(t, d)
		core := e.addLayer("openembedded-core", w.dir, "meta")
		e.update(core, false)
		before := e.recipes(core.ID)

		// The .inc read by exactly two recipes.
		inc, users := "", []string(nil)
		var fds []store.RecipeFileDep
		e.conn.Gorm.Where("layer_branch_id = ? AND path LIKE ?", core.ID, "%.inc").Find(&fds)
		byInc := map[string][]int64{}
		for _, f := range fds {
			byInc[f.Path] = append(byInc[f.Path], f.RecipeID)
		}
		var incs []string
		for p, ids := range byInc {
			if len(ids) == 2 && strings.HasPrefix(p, "meta/recipes-") {
				incs = append(incs, p)
			}
		}
		sort.Strings(incs)
		if len(incs) == 0 {
			t.Fatal("no .inc read by exactly two recipes")
		}
		inc = incs[0]
		for p, r := range before {
			if slices.Contains(byInc[inc], r.ID) {
				users = append(users, p)
			}
		}
		sort.Strings(users)

		const (
			edited  = "recipes-core/zlib/zlib_1.3.2.bb"
			deleted = "recipes-extended/bc/bc_1.08.2.bb"
			renFrom = "recipes-support/lzo/lzo_2.10.bb"
			renTo   = "recipes-support/lzo/lzo-renamed_2.10.bb"
			added   = "recipes-support/hello/hello_2.12.bb"
		)
		for _, p := range []string{edited, deleted, renFrom} {
			if _, ok := before[p]; !ok {
				t.Fatalf("corpus lacks %s", p)
			}
		}
		w.edit("meta/"+edited, func(s string) string { return s + "\nSUMMARY = \"Edited summary\"\n" })
		w.edit(inc, func(s string) string { return s + "\n# touched by the test\n" })
		w.git("", "rm", "-q", "meta/"+deleted)
		w.git("", "mv", "meta/"+renFrom, "meta/"+renTo)
		os.MkdirAll(filepath.Join(w.dir, "meta/recipes-support/hello"), 0o755)
		os.WriteFile(filepath.Join(w.dir, "meta/"+added), []byte("SUMMARY = \"GNU hello\"\nLICENSE = \"GPL-3.0-or-later\"\n"), 0o644)
		w.git("", "add", "-A")
		w.git("", "commit", "-q", "-m", "test changes")

		r := e.update(core, false)
		if r.Status != store.UpdateSucceeded {
			t.Fatalf("incremental update: %s\n%s", r.Status, r.Log)
		}
		after := e.recipes(core.ID)
		if r.Stats.Added != 1 || r.Stats.Removed != 1 {
			t.Errorf("stats %+v", r.Stats)
		}
		// Changed: the edited recipe, the renamed one, and the .inc's users
		// (all re-parsed; their stored values may or may not differ).
		if after[edited].Summary != "Edited summary" {
			t.Errorf("edited recipe summary %q", after[edited].Summary)
		}
		if _, ok := after[deleted]; ok {
			t.Error("deleted recipe still indexed")
		}
		if after[renTo].ID != before[renFrom].ID || after[renTo].ID == 0 {
			t.Errorf("renamed recipe id %d, was %d", after[renTo].ID, before[renFrom].ID)
		}
		if after[added].PN != "hello" {
			t.Errorf("added recipe: %+v", after[added])
		}
		if !strings.Contains(r.Log, "renamed "+renFrom+" -> "+renTo) {
			t.Errorf("log does not mention the rename:\n%s", r.Log)
		}
		for p, a := range after {
			if b, ok := before[p]; ok && !a.UpdatedAt.Equal(b.UpdatedAt) && p != edited && !slices.Contains(users, p) {
				t.Errorf("%s changed although nothing it reads did", p)
			}
		}
		parsed := map[string]bool{edited: true, renTo: true, added: true}
		for _, u := range users {
			parsed[u] = true
		}
		plan := fmt.Sprintf("re-parsing %d recipe(s), removing 1, renaming 1", len(parsed))
		if !strings.Contains(r.Log, plan) {
			t.Errorf("log lacks %q (the .inc %s is read by %v):\n%s", plan, inc, users, r.Log)
		}
	})
}

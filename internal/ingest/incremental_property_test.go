package ingest_test

import (
	"fmt"
	"math/rand"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/ingest"
	"layerindex/internal/store"
)

// propertyLayer is a corpus layer the property test edits, with the
// dependency layers it is parsed with.
type propertyLayer struct {
	repo, subdir string
	deps         []propertyDep
}

type propertyDep struct {
	repo, subdir, collection string
}

var propertyLayers = map[string]propertyLayer{
	// The CI form: 12 recipes, parsed in a fraction of a second.
	"meta-swupdate": {repo: "meta-swupdate", deps: []propertyDep{
		{"openembedded-core", "meta", "core"}, {"meta-openembedded", "meta-oe", "openembedded-layer"}}},
	// 180 recipes; its layer.conf requires an .inc every recipe reads.
	"meta-virtualization": {repo: "meta-virtualization", deps: []propertyDep{
		{"openembedded-core", "meta", "core"}, {"meta-openembedded", "meta-oe", "openembedded-layer"},
		{"meta-openembedded", "meta-networking", "networking-layer"}, {"meta-openembedded", "meta-filesystems", "filesystems-layer"},
		{"meta-openembedded", "meta-python", "meta-python"}, {"meta-openembedded", "meta-webserver", "webserver"}}},
}

// TestIncrementalEqualsFull is a property test of incremental updates:
// it commits random edits to the files recipes depend on (an .inc, a
// class, a file the layer's layer.conf pulls in, a file created where
// BitBake probed, a file beside a recipe, a file or directory a recipe's
// Python read, a recipe added, renamed or deleted, an include deleted) and after each commit compares the index
// the incremental update stored with a first, full index of the same
// commit: they must be identical, row for row, on both databases.
//
// It is seeded and reproducible. The CI form edits meta-swupdate in 6
// commits; LAYERINDEX_PROPERTY_LAYER (meta-swupdate or
// meta-virtualization), LAYERINDEX_PROPERTY_STEPS and
// LAYERINDEX_PROPERTY_SEED choose a longer run.
func TestIncrementalEqualsFull(t *testing.T) {
	layerName := envOr("LAYERINDEX_PROPERTY_LAYER", "meta-swupdate")
	pl, ok := propertyLayers[layerName]
	if !ok {
		t.Fatalf("LAYERINDEX_PROPERTY_LAYER=%s: not one of the corpus layers the test knows", layerName)
	}
	steps, err := strconv.Atoi(envOr("LAYERINDEX_PROPERTY_STEPS", "6"))
	if err != nil {
		t.Fatal(err)
	}
	seed, err := strconv.ParseInt(envOr("LAYERINDEX_PROPERTY_SEED", "12"), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	if testing.Short() {
		steps = min(steps, 3)
	}
	bare := corpus.Bare(t, pl.repo)
	depBares := map[string]string{}
	for _, d := range pl.deps {
		if depBares[d.repo] == "" {
			depBares[d.repo] = corpus.Bare(t, d.repo)
		}
	}
	// The dependency layers' files, where an edit copies a file BitBake
	// found there into a path it probed first in the target.
	var depDirs []string
	for _, d := range pl.deps {
		tree := corpus.Tree(t, depBares[d.repo], "master", d.subdir)
		depDirs = append(depDirs, filepath.Join(tree, d.subdir))
	}

	dbtest.Each(t, func(t *testing.T, dia db.Dialect) {
		began := time.Now()
		e := newEnv(t, dia)
		for _, d := range pl.deps {
			lb := e.addLayer(d.repo+"-"+d.subdir, depBares[d.repo], d.subdir)
			// Registered with its collection, not indexed: the
			// dependencies are read at their branch heads, and their own
			// parse is not under test.
			if err := e.st.SetIndexedState(e.ctx, lb.ID, store.IndexedState{Collection: d.collection}); err != nil {
				t.Fatal(err)
			}
		}
		schema := indexSchema(t, e)
		w := cloneWork(t, bare)
		inc := e.addLayer(layerName, w.dir, pl.subdir)
		mustSucceed(t, e, inc, "first index", "")

		g := &editor{t: t, w: w, e: e, lb: inc, subdir: pl.subdir, depDirs: depDirs, rnd: rand.New(rand.NewSource(seed))}
		var history []string
		for step := 1; step <= steps; step++ {
			t0 := time.Now()
			edits := g.commitEdits(step)
			t1 := time.Now()
			history = append(history, fmt.Sprintf("step %d: %s", step, strings.Join(edits, "; ")))
			incLog := mustSucceed(t, e, inc, "incremental update", strings.Join(history, "\n"))
			t2 := time.Now()
			ref := e.addLayer(fmt.Sprintf("%s-full-%d", layerName, step), w.dir, pl.subdir)
			mustSucceed(t, e, ref, "full index", strings.Join(history, "\n"))
			t3 := time.Now()
			got, want := dumpIndex(t, e, inc.ID, schema), dumpIndex(t, e, ref.ID, schema)
			history[len(history)-1] += fmt.Sprintf(" [edit %s, incremental %s, full %s, compare %s]", t1.Sub(t0).Round(time.Millisecond),
				t2.Sub(t1).Round(time.Millisecond), t3.Sub(t2).Round(time.Millisecond), time.Since(t3).Round(time.Millisecond))
			if diff := diffIndex(got, want); diff != "" {
				t.Fatalf("seed %d, %s: the incremental index differs from a full index of the same commit:\n%s\nedits:\n%s\nincremental update log:\n%s",
					seed, layerName, diff, strings.Join(history, "\n"), incLog)
			}
		}
		t.Logf("seed %d, %s: %d commits, incremental index equal to a full one after each (%s):\n%s",
			seed, layerName, steps, time.Since(began).Round(time.Millisecond), strings.Join(history, "\n"))
	})
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func mustSucceed(t *testing.T, e *env, lb *store.LayerBranch, what, history string) string {
	t.Helper()
	res, err := e.ix.UpdateLayerBranch(e.ctx, ingest.Request{LayerBranchID: lb.ID})
	if err != nil || res.Status != store.UpdateSucceeded {
		status := ""
		if res != nil {
			status = res.Status
		}
		t.Fatalf("%s: %s %v\nedits:\n%s\nlog:\n%s", what, status, err, history, logOf(res))
	}
	return res.Log
}

// editor makes random edits to the files a layer's recipes depend on.
type editor struct {
	t       *testing.T
	w       *work
	e       *env
	lb      *store.LayerBranch
	subdir  string
	depDirs []string
	rnd     *rand.Rand
}

// editKinds are the kinds of edit: each commit makes the next two in
// turn (so that six commits cover them all; a kind with nothing to edit
// passes to the next) and perhaps a random third.
var editKinds = []string{"inc", "layerconf", "read", "class", "probe", "beside", "rename", "delete-inc", "recipe", "add", "delete"}

// commitEdits makes two or three edits and commits them.
func (g *editor) commitEdits(step int) []string {
	var done []string
	for k := 0; k < 2; k++ {
		first := (2*(step-1) + k) % len(editKinds)
		for i := 0; i < len(editKinds); i++ {
			if d := g.edit(editKinds[(first+i)%len(editKinds)], step); d != "" {
				done = append(done, d)
				break
			}
		}
	}
	if g.rnd.Intn(2) == 0 {
		if d := g.edit(editKinds[g.rnd.Intn(len(editKinds))], step); d != "" {
			done = append(done, d)
		}
	}
	if len(done) == 0 {
		g.t.Fatalf("step %d: nothing left to edit", step)
	}
	g.w.git("", "add", "-A")
	g.w.git("", "commit", "-q", "-m", fmt.Sprintf("step %d: %s", step, strings.Join(done, "; ")))
	return done
}

// files lists the layer's files (repository-relative).
func (g *editor) files() []string {
	out := g.w.git("", "ls-files", "--", layerPath(g.subdir, "."))
	var fs []string
	for _, f := range strings.Split(out, "\n") {
		if f != "" {
			fs = append(fs, f)
		}
	}
	return fs
}

// fileDeps lists the paths the stored recipes depend on (repository-
// relative), existing or probed.
func (g *editor) fileDeps() []string {
	var ps []string
	g.e.conn.Gorm.Model(&store.RecipeFileDep{}).Where("layer_branch_id = ?", g.lb.ID).Distinct().Order("path").Pluck("path", &ps)
	return ps
}

func (g *editor) exists(rel string) bool {
	_, err := os.Stat(filepath.Join(g.w.dir, rel))
	return err == nil
}

func (g *editor) pick(cands []string) string {
	if len(cands) == 0 {
		return ""
	}
	sort.Strings(cands)
	return cands[g.rnd.Intn(len(cands))]
}

// editLine is a line of metadata that changes what recipes parse to.
func (g *editor) editLine(step int) string {
	switch g.rnd.Intn(4) {
	case 0:
		return fmt.Sprintf("DEPENDS:append = \" edit-dep-%d\"", step)
	case 1:
		return fmt.Sprintf("SUMMARY = \"edited in step %d\"", step)
	case 2:
		return fmt.Sprintf("PACKAGECONFIG[edit%d] = \"--with-edit,--without-edit,edit-pc-%d\"", step, step)
	default:
		return fmt.Sprintf("SRC_URI += \"https://example.org/edit-%d.tar.gz\"", step)
	}
}

func (g *editor) appendTo(rel, line string) {
	p := filepath.Join(g.w.dir, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		g.t.Fatal(err)
	}
	f, err := os.OpenFile(p, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		g.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString("\n" + line + "\n"); err != nil {
		g.t.Fatal(err)
	}
}

func layerPath(subdir, rel string) string { return path.Join(subdir, rel) }

func (g *editor) layerRel(repoRel string) string {
	if g.subdir == "" {
		return repoRel
	}
	return strings.TrimPrefix(repoRel, strings.Trim(g.subdir, "/")+"/")
}

func (g *editor) edit(kind string, step int) string {
	files := g.files()
	deps := g.fileDeps()
	isMeta := func(p string) bool {
		for _, ext := range []string{".bb", ".inc", ".bbclass", ".conf", ".bbappend"} {
			if strings.HasSuffix(p, ext) {
				return true
			}
		}
		return false
	}
	var cands []string
	switch kind {
	case "inc", "class", "delete-inc":
		ext := ".inc"
		if kind == "class" {
			ext = ".bbclass"
		}
		for _, p := range deps {
			if strings.HasSuffix(p, ext) && g.exists(p) {
				cands = append(cands, p)
			}
		}
		p := g.pick(cands)
		if p == "" {
			return ""
		}
		if kind == "delete-inc" {
			g.w.git("", "rm", "-q", p)
			return "deleted " + p
		}
		line := g.editLine(step)
		g.appendTo(p, line)
		return fmt.Sprintf("%s += %q", p, line)
	case "layerconf":
		// A file the layer's layer.conf pulls in: every recipe depends on
		// it. Without one, layer.conf is made to require a new one.
		conf := layerPath(g.subdir, "conf/layer.conf")
		b, err := os.ReadFile(filepath.Join(g.w.dir, conf))
		if err != nil {
			g.t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) == 2 && (f[0] == "require" || f[0] == "include") && !strings.Contains(f[1], "$") {
				if p := layerPath(g.subdir, f[1]); g.exists(p) {
					cands = append(cands, p)
				}
			}
		}
		if p := g.pick(cands); p != "" {
			line := g.editLine(step)
			g.appendTo(p, line)
			return fmt.Sprintf("%s (required by layer.conf) += %q", p, line)
		}
		inc := fmt.Sprintf("conf/edit-%d.inc", step)
		g.appendTo(layerPath(g.subdir, inc), g.editLine(step))
		g.appendTo(conf, "require "+inc)
		return "layer.conf requires a new " + inc
	case "probe":
		// A file created where BitBake looked first and found nothing: it
		// now shadows the file found further along BBPATH.
		for _, p := range deps {
			if !g.exists(p) && (strings.HasSuffix(p, ".bbclass") || strings.HasSuffix(p, ".inc") || strings.HasSuffix(p, ".conf")) {
				cands = append(cands, p)
			}
		}
		p := g.pick(cands)
		if p == "" {
			return ""
		}
		// The file BitBake found instead: the same path further along
		// BBPATH, or for a class the same name in classes/.
		rel := g.layerRel(p)
		alts := []string{rel}
		for _, dir := range []string{"classes-recipe/", "classes-global/"} {
			if strings.HasPrefix(rel, dir) {
				alts = append(alts, "classes/"+strings.TrimPrefix(rel, dir))
			}
		}
		content := ""
	find:
		for _, alt := range alts {
			for _, dir := range g.depDirs {
				if b, err := os.ReadFile(filepath.Join(dir, alt)); err == nil {
					content = string(b)
					break find
				}
			}
		}
		line := g.editLine(step)
		if err := os.MkdirAll(filepath.Dir(filepath.Join(g.w.dir, p)), 0o755); err != nil {
			g.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(g.w.dir, p), []byte(content), 0o644); err != nil {
			g.t.Fatal(err)
		}
		g.appendTo(p, line)
		return fmt.Sprintf("created probed %s (%d bytes copied) += %q", p, len(content), line)
	case "read":
		// A path a recipe's Python read, tested for or listed (outside its
		// own directory): a file is edited or created, a directory gets a
		// new file.
		var rds []string
		g.e.conn.Gorm.Model(&store.RecipeReadDep{}).Where("layer_branch_id = ?", g.lb.ID).Distinct().Order("path").Pluck("path", &rds)
		p := g.pick(rds)
		if p == "" {
			return ""
		}
		if strings.HasSuffix(p, "/") {
			p += fmt.Sprintf("edit-%d", step)
		}
		if st, err := os.Stat(filepath.Join(g.w.dir, p)); err == nil && st.IsDir() {
			p += fmt.Sprintf("/edit-%d", step)
		}
		line := fmt.Sprintf("# edit %d", step)
		g.appendTo(p, line)
		return fmt.Sprintf("%s (read by Python) += %q", p, line)
	case "beside":
		// A file in a recipe's directory (a patch, a defconfig...).
		recipeDirs := map[string]bool{}
		for _, f := range files {
			if strings.HasSuffix(f, ".bb") {
				recipeDirs[path.Dir(f)] = true
			}
		}
		for _, f := range files {
			for dir := path.Dir(f); dir != "." && dir != "/"; dir = path.Dir(dir) {
				if recipeDirs[dir] && !isMeta(f) {
					cands = append(cands, f)
					break
				}
			}
		}
		p := g.pick(cands)
		if p == "" {
			return ""
		}
		line := []string{"CONFIG_XZ=y", "CONFIG_ZSTD=y", "# CONFIG_LUA is not set", fmt.Sprintf("# edit %d", step)}[g.rnd.Intn(4)]
		g.appendTo(p, line)
		return fmt.Sprintf("%s += %q", p, line)
	case "rename", "recipe", "add", "delete":
		for _, f := range files {
			if strings.HasSuffix(f, ".bb") {
				cands = append(cands, f)
			}
		}
		p := g.pick(cands)
		if p == "" || (kind == "delete" && len(cands) < 3) {
			return ""
		}
		dir, base := path.Split(p)
		name := strings.TrimSuffix(base, ".bb")
		pn, ver, hasVer := strings.Cut(name, "_")
		newName := fmt.Sprintf("%s-s%d", pn, step)
		if hasVer {
			newName += "_" + ver
		}
		np := dir + newName + ".bb"
		switch kind {
		case "rename":
			g.w.git("", "mv", p, np)
			return "renamed " + p + " -> " + np
		case "add":
			b, err := os.ReadFile(filepath.Join(g.w.dir, p))
			if err != nil {
				g.t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(g.w.dir, np), b, 0o644); err != nil {
				g.t.Fatal(err)
			}
			return "added " + np + " (a copy of " + p + ")"
		case "delete":
			g.w.git("", "rm", "-q", p)
			return "deleted " + p
		default:
			line := g.editLine(step)
			g.appendTo(p, line)
			return fmt.Sprintf("%s += %q", p, line)
		}
	}
	return ""
}

// indexDump is what the store holds for a layer branch: per table, its
// rows as text without ids and timestamps, a recipe's rows keyed by the
// recipe's path.
type indexDump map[string][]string

// excludedTables hold a layer branch's history and people, not its index,
// or (recipe_dump_chunks) its recipes' stored objects again, split by id
// bucket: ids and dates, which rowText leaves out of api_json, are most of
// what they hold (store.TestRecipeDumpChunks compares what they serve with
// the rows).
var excludedTables = map[string]bool{"layer_updates": true, "layer_maintainers": true, "layer_notes": true, "layer_changes": true,
	"recipe_dump_chunks": true}

// dumpIndex reads every table that holds a layer branch's index: those
// with a recipe_id column (through the recipe's path) and those with a
// layer_branch_id column, found from the schema so that a table added
// later is compared too.
func dumpIndex(t *testing.T, e *env, lbID int64, schema map[string]map[string]bool) indexDump {
	t.Helper()
	gdb := e.conn.Gorm
	out := indexDump{}
	for table, has := range schema {
		var rows []map[string]any
		var err error
		switch {
		case has["recipe_id"]:
			err = gdb.Raw(fmt.Sprintf("SELECT t.*, r.filepath AS recipe_filepath, r.filename AS recipe_filename FROM %s t JOIN recipes r ON r.id = t.recipe_id WHERE r.layer_branch_id = ?", table), lbID).Scan(&rows).Error
		case has["layer_branch_id"]:
			err = gdb.Raw(fmt.Sprintf("SELECT * FROM %s WHERE layer_branch_id = ?", table), lbID).Scan(&rows).Error
		case table == "layer_branches":
			err = gdb.Raw("SELECT collection, version, vcs_last_rev, parser_version, config_digest FROM layer_branches WHERE id = ?", lbID).Scan(&rows).Error
		default:
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", table, err)
		}
		for _, r := range rows {
			out[table] = append(out[table], rowText(r))
		}
		sort.Strings(out[table])
	}
	return out
}

// indexSchema lists the columns of the tables dumpIndex reads.
func indexSchema(t *testing.T, e *env) map[string]map[string]bool {
	t.Helper()
	tables, err := e.conn.Gorm.Migrator().GetTables()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]map[string]bool{}
	for _, table := range tables {
		if excludedTables[table] {
			continue
		}
		cols, err := e.conn.Gorm.Migrator().ColumnTypes(table)
		if err != nil {
			continue // virtual tables (full-text search) have no column types
		}
		has := map[string]bool{}
		for _, c := range cols {
			has[c.Name()] = true
		}
		if has["recipe_id"] || has["layer_branch_id"] || table == "layer_branches" {
			out[table] = has
		}
	}
	for _, must := range []string{"recipes", "recipe_file_deps", "recipe_build_deps", "recipe_sources", "inc_files"} {
		if out[must] == nil {
			t.Fatalf("schema: no table %s with a layer_branch_id or recipe_id column", must)
		}
	}
	return out
}

func rowText(r map[string]any) string {
	var keys []string
	for k := range r {
		switch k {
		case "id", "recipe_id", "layer_branch_id", "created_at", "updated_at",
			"api_json": // holds the id and the date (store.AppendRecipeJSON)
			continue
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		v := r[k]
		if bs, ok := v.([]byte); ok {
			v = string(bs)
		}
		fmt.Fprintf(&b, "%s=%v ", k, v)
	}
	return b.String()
}

// diffIndex lists rows only in one of two dumps (at most 30).
func diffIndex(got, want indexDump) string {
	var lines []string
	tables := map[string]bool{}
	for k := range got {
		tables[k] = true
	}
	for k := range want {
		tables[k] = true
	}
	var names []string
	for k := range tables {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, table := range names {
		g, w := counts(got[table]), counts(want[table])
		for r, n := range g {
			if w[r] < n {
				lines = append(lines, fmt.Sprintf("%s: only incremental: %s", table, r))
			}
		}
		for r, n := range w {
			if g[r] < n {
				lines = append(lines, fmt.Sprintf("%s: only full:        %s", table, r))
			}
		}
	}
	sort.Strings(lines)
	if len(lines) > 30 {
		lines = append(lines[:30], fmt.Sprintf("... and %d more", len(lines)-30))
	}
	return strings.Join(lines, "\n")
}

func counts(rows []string) map[string]int {
	m := map[string]int{}
	for _, r := range rows {
		m[r]++
	}
	return m
}

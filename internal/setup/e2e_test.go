// These tests run the real clients of the exported files (BitBake's
// bitbake-setup and its schema, Debian's kas) against a test server. They
// live in this package, not in internal/web, to keep each package's test
// time apart.
package setup_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"layerindex/internal/bitbake"
	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/web"
)

// setupCorpus is an index of the corpus layers on master whose layer
// branches carry the real layer.conf facts (collections, LAYERSERIES_*,
// dependencies resolved by collection) and the real tip revisions of local
// mirrors (file:// URLs), without parsing recipes.
type setupCorpus struct {
	st      *store.Store
	master  *store.Branch
	bare    map[string]string // corpus repository → bare path
	rev     map[string]string // layer name → pinned revision
	bitbake string            // bare BitBake repository
}

func loadSetupCorpus(t *testing.T, conn *db.DB) *setupCorpus {
	t.Helper()
	ctx := context.Background()
	sc := &setupCorpus{st: store.New(conn.Gorm), bare: map[string]string{}, rev: map[string]string{}}
	for _, r := range []string{"openembedded-core", "meta-openembedded", "meta-virtualization"} {
		sc.bare[r] = corpus.Bare(t, r)
	}
	sc.bitbake = bareBitbake(t)
	sc.master = &store.Branch{Name: "master", BitbakeBranch: "master", UpdatesEnabled: true}
	if err := sc.st.CreateBranch(ctx, sc.master); err != nil {
		t.Fatal(err)
	}
	layers := []struct{ name, repo, subdir string }{
		{"openembedded-core", "openembedded-core", "meta"},
		{"meta-oe", "meta-openembedded", "meta-oe"},
		{"meta-python", "meta-openembedded", "meta-python"},
		{"meta-networking", "meta-openembedded", "meta-networking"},
		{"meta-filesystems", "meta-openembedded", "meta-filesystems"},
		{"meta-webserver", "meta-openembedded", "meta-webserver"},
		{"meta-virtualization", "meta-virtualization", ""},
	}
	facts := map[string]*bitbake.LayerFacts{}
	lbs := map[string]*store.LayerBranch{}
	byCollection := map[string]int64{}
	for _, l := range layers {
		bare := sc.bare[l.repo]
		rev := gitOut(t, "", "--git-dir", bare, "rev-parse", "master")
		conf := strings.TrimPrefix(l.subdir+"/conf", "/")
		tree := corpus.Tree(t, bare, rev, conf)
		f, err := bitbake.ReadLayerFacts(os.DirFS(filepath.Join(tree, l.subdir)))
		if err != nil {
			t.Fatalf("%s: %v", l.name, err)
		}
		layer := &store.Layer{Name: l.name, Status: store.StatusPublished, LayerType: store.TypeSoftware, VCSURL: "file://" + bare}
		if err := sc.st.CreateLayer(ctx, layer); err != nil {
			t.Fatal(err)
		}
		lb := &store.LayerBranch{LayerID: layer.ID, BranchID: sc.master.ID, VCSSubdir: l.subdir, UpdatesEnabled: true}
		if err := sc.st.CreateLayerBranch(ctx, lb); err != nil {
			t.Fatal(err)
		}
		names := func(ds []bitbake.Dependency) (out []string) {
			for _, d := range ds {
				out = append(out, d.Name)
			}
			return out
		}
		if err := sc.st.SetIndexedState(ctx, lb.ID, store.IndexedState{Collection: f.Collection, Version: f.Version, Rev: rev,
			LayerConf: store.LayerConfInfo{SeriesCompat: f.SeriesCompat, CoreNames: f.CoreNames, Depends: names(f.Depends), Recommends: names(f.Recommends)}}); err != nil {
			t.Fatal(err)
		}
		facts[l.name], lbs[l.name], sc.rev[l.name] = f, lb, rev
		byCollection[f.Collection] = layer.ID
	}
	for name, f := range facts {
		var deps []store.LayerDependency
		for _, d := range f.Depends {
			if id, ok := byCollection[d.Name]; ok {
				deps = append(deps, store.LayerDependency{DependencyID: id, Required: true})
			}
		}
		for _, d := range f.Recommends {
			if id, ok := byCollection[d.Name]; ok {
				deps = append(deps, store.LayerDependency{DependencyID: id})
			}
		}
		if err := sc.st.SetDependencies(ctx, lbs[name].ID, deps); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := sc.st.ApplyIndex(ctx, lbs["openembedded-core"].ID, &store.IndexChange{Full: true,
		Machines: []store.Machine{{Name: "qemux86-64", Description: "QEMU x86-64"}}}); err != nil {
		t.Fatal(err)
	}
	return sc
}

// bareBitbake unpacks BitBake from the corpus.
func bareBitbake(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tarball := filepath.Join(corpus.Require(t), "corpus", "bitbake.git.tar")
	if out, err := exec.Command("tar", "-C", dir, "-xf", tarball).CombinedOutput(); err != nil {
		t.Fatalf("unpacking BitBake: %v\n%s", err, out)
	}
	return filepath.Join(dir, "bitbake.git")
}

func gitOut(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git %v: %v", args, err)
	}
	return strings.TrimSpace(string(out))
}

func setupServer(t *testing.T, conn *db.DB, bitbakeURL string) *httptest.Server {
	t.Helper()
	q, err := jobs.New(context.Background(), conn, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	s, err := web.New(conn, q, web.Options{Version: "test", BitbakeURL: bitbakeURL})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	return ts
}

// bitbakeSetupSchema compiles BitBake's setup-schema from the corpus.
func bitbakeSetupSchema(t *testing.T, bare string) *jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	for _, name := range []string{"bitbake-setup.schema.json", "layers.schema.json"} {
		raw := gitOut(t, "", "--git-dir", bare, "show", "HEAD:setup-schema/"+name)
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(raw))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if err := c.AddResource("file:///setup-schema/"+name, doc); err != nil {
			t.Fatal(err)
		}
	}
	s, err := c.Compile("file:///setup-schema/bitbake-setup.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSetupExportValidatesAgainstBitBakeSchema: the configuration for
// meta-virtualization on master for qemux86-64 is valid against BitBake's
// own schema, pins every corpus layer at its indexed revision and resolves
// meta-virtualization's real dependencies; a broken one is not valid (the
// check can fail).
func TestSetupExportValidatesAgainstBitBakeSchema(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		sc := loadSetupCorpus(t, conn)
		schema := bitbakeSetupSchema(t, sc.bitbake)
		ts := setupServer(t, conn, "file://"+sc.bitbake)
		status, body, _ := get(t, ts.URL, "/layerindex/api/setup/master/meta-virtualization/machine=qemux86-64/virt.conf.json")
		if status != 200 {
			t.Fatalf("%d\n%s", status, body)
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Fatalf("not valid against bitbake-setup.schema.json: %v\n%s", err, body)
		}
		var cfg struct {
			Sources map[string]struct {
				GitRemote struct{ URI, Rev string } `json:"git-remote"`
			}
			BitbakeSetup struct {
				Configurations []struct {
					BBLayers    []string `json:"bb-layers"`
					OEFragments []string `json:"oe-fragments"`
				}
			} `json:"bitbake-setup"`
		}
		if err := json.Unmarshal([]byte(body), &cfg); err != nil {
			t.Fatal(err)
		}
		for src, layer := range map[string]string{"oe-core": "openembedded-core", "meta-openembedded": "meta-oe", "meta-virtualization": "meta-virtualization"} {
			if got := cfg.Sources[src].GitRemote.Rev; got != sc.rev[layer] {
				t.Errorf("source %s pinned at %q, indexed %q", src, got, sc.rev[layer])
			}
		}
		c := cfg.BitbakeSetup.Configurations[0]
		for _, want := range []string{"oe-core/meta", "meta-openembedded/meta-oe", "meta-openembedded/meta-python",
			"meta-openembedded/meta-networking", "meta-openembedded/meta-filesystems", "meta-virtualization"} {
			if !slices.Contains(c.BBLayers, want) {
				t.Errorf("bb-layers %v lack %s", c.BBLayers, want)
			}
		}
		if !slices.Equal(c.OEFragments, []string{"machine/qemux86-64"}) {
			t.Errorf("oe-fragments %v", c.OEFragments)
		}
		var broken map[string]any
		_ = json.Unmarshal([]byte(body), &broken)
		broken["version"] = "2.0"
		if err := schema.Validate(broken); err == nil {
			t.Error("the schema accepted version 2.0: the validation proves nothing")
		}
	})
}

// TestBitbakeSetupInitFromServedURL runs the real bitbake-setup from the
// corpus against the URL a test server serves: it fetches the local mirrors
// and writes a build directory whose bblayers.conf lists exactly the
// resolved layers, each repository checked out at the pinned revision.
// (Without a machine or distro: enabling oe-fragments starts a BitBake
// server, which needs the en_US.UTF-8 locale and host tools this machine
// lacks; the fragments are checked against the schema above.)
func TestBitbakeSetupInitFromServedURL(t *testing.T) {
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is required")
		}
		t.Skip("python3 not found")
	}
	conn := dbtest.Migrated(t, db.SQLite)
	sc := loadSetupCorpus(t, conn)
	ts := setupServer(t, conn, "file://"+sc.bitbake)
	checkout := t.TempDir()
	archive := exec.Command("sh", "-c", `git --git-dir "$1" archive HEAD | tar -C "$2" -xf -`, "sh", sc.bitbake, checkout)
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("BitBake checkout: %v\n%s", err, out)
	}
	top := t.TempDir()
	url := ts.URL + "/layerindex/api/setup/master/meta-virtualization/virt.conf.json"
	status, body, _ := get(t, ts.URL, "/layerindex/api/setup/master/meta-virtualization/virt.conf.json")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	var cfg struct {
		BitbakeSetup struct {
			Configurations []struct {
				Name     string
				BBLayers []string `json:"bb-layers"`
			}
		} `json:"bitbake-setup"`
	}
	if err := json.Unmarshal([]byte(body), &cfg); err != nil {
		t.Fatal(err)
	}
	conf := cfg.BitbakeSetup.Configurations[0]
	cmd := exec.Command("python3", filepath.Join(checkout, "bin", "bitbake-setup"), "--global-settings", filepath.Join(top, "global.conf"),
		"--setting", "default", "top-dir-prefix", top, "init", "--non-interactive", "--no-init-vscode", url, conf.Name)
	cmd.Dir = top
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+top)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("bitbake-setup init %s: %v\n%s", url, err, out.String())
	}
	matches, _ := filepath.Glob(filepath.Join(top, "bitbake-builds", "*", "build", "conf", "bblayers.conf"))
	if len(matches) != 1 {
		t.Fatalf("no bblayers.conf written:\n%s", out.String())
	}
	bblayers, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	setupDir := filepath.Dir(filepath.Dir(filepath.Dir(matches[0])))
	var got []string
	for _, line := range strings.Split(string(bblayers), "\n") {
		line = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(line), `\`))
		if rel, ok := strings.CutPrefix(line, filepath.Join(setupDir, "layers")+"/"); ok {
			got = append(got, rel)
		}
	}
	if !slices.Equal(got, conf.BBLayers) {
		t.Errorf("bblayers.conf lists %v, want %v\n%s", got, conf.BBLayers, bblayers)
	}
	for src, layer := range map[string]string{"oe-core": "openembedded-core", "meta-openembedded": "meta-oe", "meta-virtualization": "meta-virtualization"} {
		head := gitOut(t, filepath.Join(setupDir, "layers", src), "rev-parse", "HEAD")
		if head != sc.rev[layer] {
			t.Errorf("%s checked out at %s, pinned %s", src, head, sc.rev[layer])
		}
	}
}

// TestKasReadsTheKasFile: Debian's kas checks out the generated kas file
// against the local mirrors, at the same revisions.
func TestKasReadsTheKasFile(t *testing.T) {
	kas, err := exec.LookPath("kas")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("kas is required (apt-get install kas)")
		}
		t.Skip("kas not found (apt-get install kas)")
	}
	conn := dbtest.Migrated(t, db.SQLite)
	sc := loadSetupCorpus(t, conn)
	ts := setupServer(t, conn, "file://"+sc.bitbake)
	status, body, _ := get(t, ts.URL, "/layerindex/api/setup/master/meta-virtualization/machine=qemux86-64/virt.kas.yml")
	if status != 200 {
		t.Fatalf("%d %s", status, body)
	}
	work := t.TempDir()
	file := filepath.Join(work, "virt.kas.yml")
	if err := os.WriteFile(file, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(kas, "checkout", file)
	cmd.Dir = work
	cmd.Env = append(os.Environ(), "KAS_WORK_DIR="+work, "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+work)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kas checkout: %v\n%s\n%s", err, out, body)
	}
	for src, layer := range map[string]string{"oe-core": "openembedded-core", "meta-openembedded": "meta-oe", "meta-virtualization": "meta-virtualization"} {
		head := gitOut(t, filepath.Join(work, "layers", src), "rev-parse", "HEAD")
		if head != sc.rev[layer] {
			t.Errorf("%s checked out at %s, pinned %s", src, head, sc.rev[layer])
		}
	}
	bblayers, err := os.ReadFile(filepath.Join(work, "build", "conf", "bblayers.conf"))
	if err != nil {
		t.Fatalf("kas wrote no bblayers.conf: %v\n%s", err, out)
	}
	for _, want := range []string{"layers/oe-core/meta", "layers/meta-openembedded/meta-python", "layers/meta-virtualization"} {
		if !strings.Contains(string(bblayers), want) {
			t.Errorf("kas's bblayers.conf lacks %s:\n%s", want, bblayers)
		}
	}
}

func get(t *testing.T, base, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// bitbakeSetup runs the real bitbake-setup of the corpus with its global
// settings and top directory under top.
type bitbakeSetupCmd struct {
	t        *testing.T
	checkout string // BitBake's working tree
	top      string
}

func newBitbakeSetup(t *testing.T, bare string) *bitbakeSetupCmd {
	t.Helper()
	if _, err := exec.LookPath("python3"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("python3 is required")
		}
		t.Skip("python3 not found")
	}
	checkout := t.TempDir()
	archive := exec.Command("sh", "-c", `git --git-dir "$1" archive HEAD | tar -C "$2" -xf -`, "sh", bare, checkout)
	if out, err := archive.CombinedOutput(); err != nil {
		t.Fatalf("BitBake checkout: %v\n%s", err, out)
	}
	return &bitbakeSetupCmd{t: t, checkout: checkout, top: t.TempDir()}
}

// run runs bitbake-setup with the registry setting ("": the one in the
// global settings) and args; it fails the test if bitbake-setup fails.
func (b *bitbakeSetupCmd) run(registry string, args ...string) string {
	b.t.Helper()
	full := []string{filepath.Join(b.checkout, "bin", "bitbake-setup"), "--global-settings", filepath.Join(b.top, "global.conf"),
		"--setting", "default", "top-dir-prefix", b.top}
	if registry != "" {
		full = append(full, "--setting", "default", "registry", registry)
	}
	cmd := exec.Command("python3", append(full, args...)...)
	cmd.Dir = b.top
	cmd.Env = append(os.Environ(), "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+b.top)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.t.Fatalf("bitbake-setup %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// saveSets publishes two layer sets (and an unpublished one) on master.
func saveSets(t *testing.T, sc *setupCorpus) {
	t.Helper()
	ctx := context.Background()
	for _, s := range []struct {
		name, desc string
		layers     []string
		published  bool
	}{
		{"virt-master", "Virtualization on master", []string{"meta-virtualization"}, true},
		{"python-master", "", []string{"meta-python"}, true},
		{"draft", "not yet", []string{"meta-oe"}, false},
	} {
		var ids []int64
		for _, l := range s.layers {
			lb, err := sc.st.PublishedLayerBranch(ctx, l, sc.master.ID)
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, lb.LayerID)
		}
		ls := &store.LayerSet{Name: s.name, Description: s.desc, BranchID: sc.master.ID, Published: s.published}
		if err := sc.st.SaveLayerSet(ctx, ls, ids); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBitbakeSetupReadsTheRegistry: the real bitbake-setup lists the
// published layer sets from the site's registry, served as a git
// repository over HTTP and as a directory unpacked from registry.tar.gz,
// and initialises a build from a set by its name alone, with the layers
// at their pinned revisions. The configuration of each set, at its own
// URL, is valid against BitBake's schema.
func TestBitbakeSetupReadsTheRegistry(t *testing.T) {
	conn := dbtest.Migrated(t, db.SQLite)
	sc := loadSetupCorpus(t, conn)
	saveSets(t, sc)
	ts := setupServer(t, conn, "file://"+sc.bitbake)
	bbs := newBitbakeSetup(t, sc.bitbake)
	schema := bitbakeSetupSchema(t, sc.bitbake)

	for _, name := range []string{"virt-master", "python-master"} {
		status, body, _ := get(t, ts.URL, "/layerindex/api/registry/configurations/"+name+".conf.json")
		if status != 200 {
			t.Fatalf("%s: %d %s", name, status, body)
		}
		doc, err := jsonschema.UnmarshalJSON(strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if err := schema.Validate(doc); err != nil {
			t.Errorf("%s not valid against bitbake-setup.schema.json: %v", name, err)
		}
	}
	if status, _, _ := get(t, ts.URL, "/layerindex/api/registry/configurations/draft.conf.json"); status != 404 {
		t.Errorf("an unpublished set is served: %d", status)
	}

	gitRegistry := "git://" + strings.TrimPrefix(ts.URL, "http://") + "/layerindex/api/registry.git;protocol=http;branch=master;rev=master"
	bbs.run("", "settings", "set", "--global", "default", "registry", gitRegistry)
	out := bbs.run("", "list")
	if !strings.Contains(out, "virt-master\tVirtualization on master") || !strings.Contains(out, "python-master\tmeta-python on master") {
		t.Errorf("bitbake-setup list (git registry) lacks the layer sets:\n%s", out)
	}
	if strings.Contains(out, "draft") {
		t.Errorf("bitbake-setup list shows an unpublished set:\n%s", out)
	}

	// The same registry as a directory.
	status, tgz, _ := get(t, ts.URL, "/layerindex/api/registry.tar.gz")
	if status != 200 {
		t.Fatalf("registry.tar.gz: %d", status)
	}
	dir := t.TempDir()
	untar := exec.Command("tar", "-C", dir, "-xzf", "-")
	untar.Stdin = strings.NewReader(tgz)
	if out, err := untar.CombinedOutput(); err != nil {
		t.Fatalf("untar: %v\n%s", err, out)
	}
	out = bbs.run(dir, "list")
	if !strings.Contains(out, "virt-master\tVirtualization on master") || !strings.Contains(out, "python-master\t") {
		t.Errorf("bitbake-setup list (directory registry) lacks the layer sets:\n%s", out)
	}

	// init by name from the git registry.
	out = bbs.run("", "init", "--non-interactive", "--no-init-vscode", "virt-master", "virt-master")
	matches, _ := filepath.Glob(filepath.Join(bbs.top, "bitbake-builds", "*", "build", "conf", "bblayers.conf"))
	if len(matches) != 1 {
		t.Fatalf("no bblayers.conf written:\n%s", out)
	}
	bblayers, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	setupDir := filepath.Dir(filepath.Dir(filepath.Dir(matches[0])))
	for _, want := range []string{"oe-core/meta", "meta-openembedded/meta-oe", "meta-openembedded/meta-python", "meta-virtualization"} {
		if !strings.Contains(string(bblayers), filepath.Join(setupDir, "layers", want)) {
			t.Errorf("bblayers.conf lacks %s:\n%s", want, bblayers)
		}
	}
	for src, layer := range map[string]string{"oe-core": "openembedded-core", "meta-virtualization": "meta-virtualization"} {
		if head := gitOut(t, filepath.Join(setupDir, "layers", src), "rev-parse", "HEAD"); head != sc.rev[layer] {
			t.Errorf("%s checked out at %s, pinned %s", src, head, sc.rev[layer])
		}
	}
}

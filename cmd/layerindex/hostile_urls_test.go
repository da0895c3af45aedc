package main

import (
	"context"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
	"layerindex/internal/web"
)

// TestImportRefusesHostileURLs is issue 11 #6: `layerindex import` stored
// whatever repository URL the other index served. Layers whose URL is
// local, or names a private address in any spelling, are skipped with a
// message naming the layer and the reason; a git:// URL (upstream lists
// many) is kept for the page, its fetch refused later.
func TestImportRefusesHostileURLs(t *testing.T) {
	conn := dbtest.Migrated(t, db.SQLite)
	storetest.Load(t, store.New(conn.Gorm))
	for name, u := range map[string]string{
		"meta-oe":           "https://[::7f00:1]/meta-openembedded",
		"meta-python":       "/etc",
		"meta-raspberrypi":  "https://0x7f000001/meta-raspberrypi",
		"openembedded-core": "git://git.openembedded.org/openembedded-core",
	} {
		if err := conn.Gorm.Model(&store.Layer{}).Where("name = ?", name).Update("vcs_url", u).Error; err != nil {
			t.Fatal(err)
		}
	}
	q, err := jobs.New(context.Background(), conn, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(conn, q, web.Options{})
	if err != nil {
		t.Fatal(err)
	}
	src := httptest.NewServer(srv.Handler())
	defer src.Close()

	// Local repositories allowed on this site: an imported one is still
	// refused, as it is the other index's word, not an administrator's.
	env := []string{"LAYERINDEX_DATA_DIR=" + filepath.Join(t.TempDir(), "data"), "LAYERINDEX_ALLOW_LOCAL_REPOS=true"}
	code, out, stderr := runCmd(t, env, "", "import", src.URL)
	if code != 0 || !strings.Contains(out, "layers:           1 created") {
		t.Fatalf("import: %d\n%s\n%s", code, out, stderr)
	}
	for _, want := range []string{
		"skipped layer meta-oe: repository URL refused: address ::7f00:1 is an IPv4-compatible address embedding 127.0.0.1",
		"skipped layer meta-python: repository URL refused: a local repository",
		"skipped layer meta-raspberrypi: repository URL refused: host \"0x7f000001\" looks like a numeric address",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

// TestCLIRefusesOverlongURL is issue 11 #6: the command line applies the
// form's length rule (one owner: internal/catalog).
func TestCLIRefusesOverlongURL(t *testing.T) {
	env := []string{"LAYERINDEX_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}
	if code, out, stderr := runCmd(t, env, "", "branch", "add", "master"); code != 0 {
		t.Fatalf("%d %s %s", code, out, stderr)
	}
	long := "https://example.org/" + strings.Repeat("a", 5000)
	code, _, stderr := runCmd(t, env, "", "layer", "add", "--name", "meta-long", "--vcs-url", long)
	if code == 0 || !strings.Contains(stderr, "At most 255 characters") {
		t.Errorf("5,000-character URL: %d %s", code, stderr)
	}
	for _, u := range []string{"https://127.1/x", "https://[::127.0.0.1]/x", "https://2130706433/x"} {
		if code, _, stderr := runCmd(t, env, "", "layer", "add", "--name", "meta-x", "--vcs-url", u); code == 0 || !strings.Contains(stderr, "cannot be used") {
			t.Errorf("%s: %d %s", u, code, stderr)
		}
	}
}

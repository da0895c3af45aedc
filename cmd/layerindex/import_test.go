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

// TestImportCommand runs `layerindex import` twice against a second
// instance of the server holding the fixture: the first run creates, the
// second finds everything current and writes nothing.
func TestImportCommand(t *testing.T) {
	conn := dbtest.Migrated(t, db.SQLite)
	storetest.Load(t, store.New(conn.Gorm))
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

	env := []string{"LAYERINDEX_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}
	code, out, stderr := runCmd(t, env, "", "import", "--recipes", src.URL)
	if code != 0 || !strings.Contains(out, "layers:           4 created, 0 updated, 0 unchanged") ||
		!strings.Contains(out, "recipes:          9 added") {
		t.Fatalf("first import: %d\n%s\n%s", code, out, stderr)
	}
	code, out, stderr = runCmd(t, env, "", "import", "--recipes", src.URL+"/layerindex/api/")
	if code != 0 || !strings.Contains(out, "layers:           0 created, 0 updated, 4 unchanged") ||
		!strings.Contains(out, "indexes:          0 imported, 6 already current") {
		t.Fatalf("second import: %d\n%s\n%s", code, out, stderr)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"import"}, 2, "expected `layerindex import"},
		{[]string{"import", "--layer", "(", src.URL}, 2, "--layer: error parsing regexp"},
		{[]string{"import", "ftp://example.org"}, 1, "is not an http(s) URL"},
		{[]string{"import", "--branch", "nosuch", src.URL}, 1, `no branch "nosuch"`},
	} {
		code, _, stderr := runCmd(t, env, "", c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) || strings.Count(strings.TrimSpace(stderr), "\n") > 0 {
			t.Errorf("%v: %d %q", c.args, code, stderr)
		}
	}
}

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestComparisonCLI imports a CSV and a spec directory with the command
// line, re-matches, grants the editor permission, and checks the refusals
// (SQLite; internal/comparison tests the rules on both databases).
func TestComparisonCLI(t *testing.T) {
	dir := t.TempDir()
	env := []string{"LAYERINDEX_DATA_DIR=" + filepath.Join(dir, "data")}
	mustRun := func(args ...string) (string, string) {
		t.Helper()
		code, out, stderr := runCmd(t, env, "", args...)
		if code != 0 {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, stderr)
		}
		return out, stderr
	}
	mustRun("branch", "add", "master")
	csv := filepath.Join(dir, "list.csv")
	os.WriteFile(csv, []byte("name,version,summary,license,category\nzlib,1.3,Compression,Zlib,libs\nzlib,1.3,again,,\n"), 0o644)
	out, stderr := mustRun("comparison", "import", "--branch", "in-house", "--format", "csv", "--description", "Our list", csv)
	if !strings.Contains(out, "in-house: 1 packages read; 1 added, 0 updated") || !strings.Contains(stderr, "warning: list.csv:3: zlib listed again") {
		t.Errorf("import output: %s / %s", out, stderr)
	}
	specs := filepath.Join(dir, "specs")
	os.MkdirAll(filepath.Join(specs, "curl"), 0o755)
	os.WriteFile(filepath.Join(specs, "curl", "curl.spec"), []byte("Name: curl\nVersion: 8.11.0\n"), 0o644)
	if out, _ := mustRun("comparison", "import", "--branch", "fedora", "--format", "rpmspec", specs); !strings.Contains(out, "fedora: 1 packages read; 1 added") {
		t.Errorf("spec import: %s", out)
	}
	if out, _ := mustRun("comparison", "match", "--branch", "fedora"); !strings.Contains(out, "fedora: the matcher changed 0 covers") {
		t.Errorf("match: %s", out)
	}
	if out, _ := mustRun("comparison", "delete", "--branch", "fedora"); !strings.Contains(out, "deleted comparison fedora") {
		t.Errorf("delete: %s", out)
	}
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"comparison", "import", "--branch", "master", "--format", "csv", csv}, 1, "master is a release branch"},
		{[]string{"comparison", "import", "--branch", "x", "--format", "csv", specs}, 2, "only --format rpmspec reads a directory"},
		{[]string{"comparison", "import", "--branch", "x", "--format", "rpm", csv}, 1, "unknown format"},
		{[]string{"comparison", "import", "--format", "csv", csv}, 2, "--branch is required"},
		{[]string{"comparison", "match", "--branch", "nothing"}, 1, "no comparison branch nothing"},
		{[]string{"comparison", "match", "--branch", "fedora"}, 1, "no comparison branch fedora"},
		{[]string{"comparison", "delete", "--branch", "master"}, 1, "no comparison branch master"},
		{[]string{"comparison", "editor", "--email", "nobody@example.org"}, 1, "no account with email nobody@example.org"},
	} {
		code, _, stderr := runCmd(t, env, "", c.args...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d %s, want %d %q", c.args, code, stderr, c.code, c.want)
		}
	}
	code, _, stderr := runCmd(t, env, "password one two\n", "user", "create", "--email", "ed@example.org")
	if code != 0 {
		t.Fatal(stderr)
	}
	if out, _ := mustRun("comparison", "editor", "--email", "ed@example.org"); !strings.Contains(out, "ed@example.org may now confirm and change comparison covers") {
		t.Errorf("editor: %s", out)
	}
	if out, _ := mustRun("comparison", "editor", "--email", "ed@example.org", "--revoke"); !strings.Contains(out, "may no longer") {
		t.Errorf("editor --revoke: %s", out)
	}
}

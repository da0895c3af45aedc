package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/store"
)

// The README's command-line claims, checked by running the binary that
// TestMain builds with the README's own build command.

func readme(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// section is the README text from the heading to the next one.
func section(t *testing.T, text, heading string) string {
	t.Helper()
	i := strings.Index(text, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README has no %q section", heading)
	}
	rest := text[i+len(heading)+2:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// examples are the indented `layerindex …` commands of a README section,
// continuation lines joined and comments dropped.
func examples(t *testing.T, text string) [][]string {
	t.Helper()
	var out [][]string
	var cur string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "    ") {
			continue
		}
		line = strings.TrimSpace(line)
		if cur != "" {
			cur += " " + line
		} else if strings.HasPrefix(line, "layerindex ") {
			cur = line
		} else {
			continue
		}
		if strings.HasSuffix(cur, `\`) {
			cur = strings.TrimSuffix(cur, `\`)
			continue
		}
		if i := strings.Index(cur, "  #"); i >= 0 {
			cur = cur[:i]
		}
		out = append(out, shellWords(t, cur)[1:])
		cur = ""
	}
	return out
}

// shellWords splits a command line as sh does for the README's examples:
// words, and double-quoted strings.
func shellWords(t *testing.T, s string) []string {
	t.Helper()
	var words []string
	for _, m := range regexp.MustCompile(`"([^"]*)"|(\S+)`).FindAllStringSubmatch(s, -1) {
		if m[2] != "" {
			if strings.ContainsAny(m[2], `"'$`+"`") {
				t.Fatalf("the test cannot run %q", s)
			}
			words = append(words, m[2])
		} else {
			words = append(words, m[1])
		}
	}
	return words
}

func openData(t *testing.T, dataDir string) *store.Store {
	t.Helper()
	conn, err := db.OpenSQLite(context.Background(), db.SQLitePath(dataDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return store.New(conn.Gorm)
}

// TestREADMEBuild: the README's way to get the binary. `go build -o
// layerindex ./cmd/layerindex` from the checkout is what TestMain runs;
// `go install ./cmd/layerindex` installs a working one.
func TestREADMEBuild(t *testing.T) {
	text := section(t, readme(t), "## Indexing layers")
	for _, cmd := range []string{"go build -o layerindex ./cmd/layerindex", "go install ./cmd/layerindex"} {
		if !strings.Contains(text, cmd) {
			t.Errorf("the README no longer says %q before the examples: update this test", cmd)
		}
	}
	bin := t.TempDir()
	install := exec.Command("go", "install", "./cmd/layerindex")
	install.Dir = "../.."
	install.Env = append(os.Environ(), "GOBIN="+bin)
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install ./cmd/layerindex: %v\n%s", err, out)
	}
	if out, err := exec.Command(filepath.Join(bin, "layerindex"), "version").Output(); err != nil || !strings.HasPrefix(string(out), "layerindex ") {
		t.Fatalf("the installed binary: %v %s", err, out)
	}
}

// TestREADMECommandsHelp: every command of the README's table, and every
// subcommand, answers --help with exit 0 and lists the flags the table
// gives it.
func TestREADMECommandsHelp(t *testing.T) {
	table := section(t, readme(t), "## Commands")
	rows := regexp.MustCompile("(?m)^\\| `layerindex ([^`]*)` \\|").FindAllStringSubmatch(table, -1)
	if len(rows) < 10 {
		t.Fatalf("only %d commands in the README's table", len(rows))
	}
	for _, row := range rows {
		var words []string
		for _, w := range strings.Fields(row[1]) {
			if strings.HasPrefix(w, "-") || strings.HasPrefix(w, "[") || strings.ToUpper(w) == w {
				break
			}
			words = append(words, w)
		}
		code, out, stderr := runCmd(t, nil, "", append(words, "--help")...)
		help := out + stderr
		if code != 0 || !strings.Contains(help, "usage: layerindex "+strings.Join(words, " ")) && words[0] != "version" {
			t.Errorf("%v --help: exit %d\n%s", words, code, help)
			continue
		}
		for _, flag := range regexp.MustCompile(`--[a-z-]+`).FindAllString(row[1], -1) {
			if !regexp.MustCompile(`(?m)^\s+--?` + strings.TrimLeft(flag, "-") + `\b`).MatchString(help) {
				t.Errorf("%v --help does not list %s:\n%s", words, flag, help)
			}
		}
	}
	// A command with a subcommand names it when asked for help.
	for _, c := range [][]string{{"layer", "add"}, {"branch", "add"}, {"user", "create"}} {
		for _, h := range []string{"--help", "-h"} {
			code, out, _ := runCmd(t, nil, "", c[0], h)
			if code != 0 || !strings.Contains(out, "usage: layerindex "+c[0]+" "+c[1]) {
				t.Errorf("%s %s: exit %d\n%s", c[0], h, code, out)
			}
		}
	}
	// The layer types are listed by name.
	if _, out, _ := runCmd(t, nil, "", "layer", "add", "--help"); !strings.Contains(out, "base, bsp (machine), software, distro, misc") {
		t.Errorf("layer add --help does not name the types:\n%s", out)
	}
}

// TestREADMEIndexingExample runs the README's example commands (all but
// the update, which would fetch from the Internet; `layer add` only checks
// the URL) and checks what they stored, then the claims about `layer add`'s
// flags and types.
func TestREADMEIndexingExample(t *testing.T) {
	text := section(t, readme(t), "## Indexing layers")
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"LAYERINDEX_DATA_DIR=" + dataDir}
	ran := 0
	for _, args := range examples(t, text) {
		if args[0] == "update" {
			continue
		}
		if code, out, stderr := runCmd(t, env, "", args...); code != 0 {
			t.Fatalf("layerindex %v: exit %d\n%s%s", args, code, out, stderr)
		}
		ran++
	}
	if ran != 3 {
		t.Fatalf("ran %d of the README's examples, expected branch add and two layer adds", ran)
	}
	st := openData(t, dataDir)
	ctx := context.Background()
	for name, want := range map[string]struct{ typ, summary string }{
		"openembedded-core": {store.TypeBase, "Core metadata"}, "meta-oe": {store.TypeSoftware, "Additional shared OE metadata"},
	} {
		l, err := st.LayerByName(ctx, name)
		if err != nil || l.LayerType != want.typ || l.Summary != want.summary || l.Status != store.StatusPublished {
			t.Errorf("%s as the example adds it: %+v %v", name, l, err)
		}
	}

	// --description, the type names and codes, and a layer waiting for review.
	types := map[string]string{"base": "A", "bsp": "B", "machine": "B", "Machine (BSP)": "B", "software": "S", "distro": "D",
		"Distribution": "D", "misc": "M", "Miscellaneous": "M", "A": "A", "B": "B", "S": "S", "D": "D", "M": "M"}
	i := 0
	for typ, code := range types {
		i++
		name := "meta-t" + string(rune('a'+i))
		args := []string{"layer", "add", "--name", name, "--vcs-url", "https://example.org/" + name + ".git", "--type", typ, "--description", "About <" + name + ">."}
		if c, out, stderr := runCmd(t, env, "", args...); c != 0 {
			t.Errorf("--type %q: exit %d %s%s", typ, c, out, stderr)
			continue
		}
		if l, err := st.LayerByName(ctx, name); err != nil || l.LayerType != code || l.Description != "About <"+name+">." || l.Status != store.StatusNew {
			t.Errorf("--type %q stored %+v %v", typ, l, err)
		}
	}
	if c, _, stderr := runCmd(t, env, "", "layer", "add", "--name", "meta-bad", "--vcs-url", "https://example.org/x.git", "--type", "Z"); c != 2 ||
		!strings.Contains(stderr, "base, bsp (machine), software, distro, misc") {
		t.Errorf("--type Z: exit %d %s", c, stderr)
	}
}

// TestREADMELocalMirrors: local mirrors need --allow-local-repos (alone, or
// the environment variable) on `layer add`, `update --wait`, and the
// processes that work the queued updates.
func TestREADMELocalMirrors(t *testing.T) {
	text := readme(t)
	for _, claim := range []string{"need `--allow-local-repos` (or `LAYERINDEX_ALLOW_LOCAL_REPOS=true`)",
		"on `layer add`, on `update --wait`, and on the `serve` or `worker` processes"} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), claim) {
			t.Fatalf("the README no longer says %q: update this test", claim)
		}
	}
	repo := tinyLayerRepo(t)
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"LAYERINDEX_DATA_DIR=" + dataDir}
	if c, out, stderr := runCmd(t, env, "", "branch", "add", "master"); c != 0 {
		t.Fatal(out, stderr)
	}
	for _, u := range []string{repo, "file://" + repo} {
		if c, _, stderr := runCmd(t, env, "", "layer", "add", "--name", "meta-tiny", "--vcs-url", u); c != 1 || !strings.Contains(stderr, "not allowed") {
			t.Errorf("layer add %s without --allow-local-repos: exit %d %s", u, c, stderr)
		}
	}
	if c, out, stderr := runCmd(t, env, "", "layer", "add", "--allow-local-repos", "--name", "meta-tiny", "--vcs-url", repo, "--publish"); c != 0 {
		t.Fatalf("layer add --allow-local-repos: exit %d %s%s", c, out, stderr)
	}
	if c, out, stderr := runCmd(t, append(env, "LAYERINDEX_ALLOW_LOCAL_REPOS=true"), "", "layer", "add", "--name", "meta-tiny2", "--vcs-url", "file://"+repo); c != 0 {
		t.Fatalf("layer add with LAYERINDEX_ALLOW_LOCAL_REPOS=true: exit %d %s%s", c, out, stderr)
	}

	// update --wait fetches: refused without the flag, done with it (the
	// tiny layer then fails for want of a core layer, which is beside the point).
	_, out, _ := runCmd(t, env, "", "update", "--wait", "--layer", "meta-tiny")
	if !strings.Contains(out, "ERROR: repository URL refused: local paths are not allowed") || strings.Contains(out, "INFO: fetched") {
		t.Errorf("update --wait without --allow-local-repos:\n%s", out)
	}
	_, out, _ = runCmd(t, env, "", "update", "--wait", "--layer", "meta-tiny", "--allow-local-repos")
	if !strings.Contains(out, "INFO: fetched "+repo) {
		t.Errorf("update --wait --allow-local-repos:\n%s", out)
	}

	// A worker without the flag refuses the queued update of the mirror.
	if c, out, stderr := runCmd(t, env, "", "update", "--layer", "meta-tiny"); c != 0 {
		t.Fatal(out, stderr)
	}
	w := start(t, env, "worker")
	w.waitLog(`msg="update run attempt ended".*status=failed.*reason="repository URL refused: local paths are not allowed`, 60*time.Second)
	w.terminate(10 * time.Second)
}

// tinyLayerRepo makes a git repository holding a one-recipe layer.
func tinyLayerRepo(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "meta-tiny")
	files := map[string]string{
		"conf/layer.conf": "BBPATH .= \":${LAYERDIR}\"\nBBFILES += \"${LAYERDIR}/recipes-*/*/*.bb\"\n" +
			"BBFILE_COLLECTIONS += \"tiny\"\nBBFILE_PATTERN_tiny = \"^${LAYERDIR}/\"\nLAYERVERSION_tiny = \"1\"\n",
		"recipes-x/hello/hello_1.0.bb": "SUMMARY = \"Hello\"\nLICENSE = \"MIT\"\n",
	}
	for p, c := range files {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, p)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, p), []byte(c), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"init", "-q", "-b", "master"}, {"add", "."}, {"commit", "-qm", "tiny"}} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.org",
			"GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.org", "GIT_CONFIG_GLOBAL=/dev/null")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	return dir
}

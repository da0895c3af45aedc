// Package corpus finds and unpacks the shared test corpus: bare git
// repositories of real layers and BitBake's ground truth for them. It exists
// only for tests and benchmarks; nothing in the application imports it.
//
// The corpus lives outside the repository (it is test data we must not copy
// in). It is located, in order, through $LAYERINDEX_SHARED, a "shared"
// directory beside any ancestor of the working directory, and /work/shared.
package corpus

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"layerindex/internal/prereq"
)

// Dir returns the shared directory (holding corpus/ and groundtruth/), or ""
// when it cannot be found on this machine.
func Dir() string {
	dirOnce.Do(func() { dir = find() })
	return dir
}

var (
	dirOnce sync.Once
	dir     string
)

func find() string {
	ok := func(d string) bool {
		st, err := os.Stat(filepath.Join(d, "corpus"))
		return err == nil && st.IsDir()
	}
	if d := os.Getenv("LAYERINDEX_SHARED"); d != "" && ok(d) {
		return d
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if c := filepath.Join(d, "shared"); ok(c) {
				return c
			}
			if c := filepath.Join(d, "..", "shared"); ok(c) {
				return filepath.Clean(c)
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	if ok("/work/shared") {
		return "/work/shared"
	}
	return ""
}

// Require returns the shared directory, or ends the test when it is absent
// (a skip, a failure under CI: see internal/prereq).
func Require(tb testing.TB) string {
	tb.Helper()
	d := Dir()
	if d == "" {
		prereq.Missing(tb, "shared corpus not found: set LAYERINDEX_SHARED to the directory holding corpus/ and groundtruth/")
	}
	return d
}

// GroundTruth returns the path of a ground-truth file by name, e.g.
// "openembedded-core@35a2c6ed-meta.jsonl".
func GroundTruth(tb testing.TB, name string) string {
	tb.Helper()
	p := filepath.Join(Require(tb), "groundtruth", name)
	if _, err := os.Stat(p); err != nil {
		prereq.Missing(tb, "ground truth %s not present: %v", name, err)
	}
	return p
}

// Repos names the bare repositories inside each corpus tar file.
var Repos = map[string]string{
	"openembedded-core":   "oe-core.git",
	"meta-openembedded":   "meta-openembedded.git",
	"meta-virtualization": "meta-virtualization.git",
	"meta-swupdate":       "meta-swupdate.git",
	"bitbake":             "bitbake.git",
}

// Bare unpacks corpus/<name>.git.tar into a temporary directory and returns
// the path of the bare repository inside it.
func Bare(tb testing.TB, name string) string {
	tb.Helper()
	tarball := filepath.Join(Require(tb), "corpus", name+".git.tar")
	out := tb.TempDir()
	run(tb, "", "tar", "-C", out, "-xf", tarball)
	repo := filepath.Join(out, Repos[name])
	if _, err := os.Stat(repo); err != nil {
		tb.Fatalf("corpus %s: expected %s after unpacking: %v", name, repo, err)
	}
	return repo
}

// Tree writes the files of commit (optionally only below subdir) from a bare
// repository into a fresh temporary directory and returns that directory.
// Paths inside it are relative to the repository root.
func Tree(tb testing.TB, bare, commit string, subdirs ...string) string {
	tb.Helper()
	out := tb.TempDir()
	args := append([]string{"--git-dir", bare, "archive", "--format=tar", commit}, subdirs...)
	cmd := exec.Command("git", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	archive, err := cmd.Output()
	if err != nil {
		tb.Fatalf("git archive %s: %v: %s", commit, err, stderr.String())
	}
	untar := exec.Command("tar", "-C", out, "-xf", "-")
	untar.Stdin = bytes.NewReader(archive)
	if b, err := untar.CombinedOutput(); err != nil {
		tb.Fatalf("untar: %v: %s", err, b)
	}
	return out
}

func run(tb testing.TB, dir, name string, args ...string) {
	tb.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("%s %v: %v: %s", name, args, err, b)
	}
}

package bitbake_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"layerindex/internal/bitbake"
	"layerindex/internal/bitbake/accuracy"
	"layerindex/internal/corpus"
)

// groundTruthLayers are the shared ground-truth files with the layer each
// describes. The dependency layers on BBPATH, in BitBake's order, come
// from the ground truth's .facts.json (deps_on_bbpath); oe-core has none.
var groundTruthLayers = []struct {
	name, gt, facts string
	repo, commit    string
	subdir          string
}{
	{"oe-core", "openembedded-core@35a2c6ed-meta.jsonl", "", "openembedded-core", "35a2c6ed7987763dadbe45ad86095e1aee1c7314", "meta"},
	{"meta-oe", "meta-openembedded@43fd2c88-meta-oe.jsonl", "meta-openembedded@43fd2c88-meta-oe.facts.json", "meta-openembedded", "43fd2c88f1ab439bd933af2a7bf1c7b0db3e77dd", "meta-oe"},
	{"meta-gnome", "meta-openembedded@43fd2c88-meta-gnome.jsonl", "meta-openembedded@43fd2c88-meta-gnome.facts.json", "meta-openembedded", "43fd2c88f1ab439bd933af2a7bf1c7b0db3e77dd", "meta-gnome"},
	{"meta-virtualization", "meta-virtualization@4ba5825e.jsonl", "meta-virtualization@4ba5825e.facts.json", "meta-virtualization", "4ba5825ee16fcded87f4d555b4ed7a7615dc67ac", "."},
	{"meta-swupdate", "meta-swupdate@5e069ecc.jsonl", "meta-swupdate@5e069ecc.facts.json", "meta-swupdate", "5e069ecc5c5d3567186880748a3a5480f7235dde", "."},
}

// corpusTrees unpacks corpus repositories and checks commits out, each
// once per test.
type corpusTrees struct {
	t     *testing.T
	bares map[string]string
	trees map[string]string
}

func (c *corpusTrees) layer(repo, commit, subdir string) bitbake.Layer {
	c.t.Helper()
	bare, ok := c.bares[repo]
	if !ok {
		bare = corpus.Bare(c.t, repo)
		c.bares[repo] = bare
	}
	key := repo + "@" + commit + ":" + subdir
	tree, ok := c.trees[key]
	if !ok {
		if subdir == "." || subdir == "" {
			tree = corpus.Tree(c.t, bare, commit)
		} else {
			tree = corpus.Tree(c.t, bare, commit, subdir)
		}
		c.trees[key] = tree
	}
	dir := filepath.Join(tree, filepath.FromSlash(subdir))
	name := path.Base(subdir)
	if subdir == "." || subdir == "" {
		name = repo
	}
	if _, err := os.Stat(filepath.Join(dir, "conf", "layer.conf")); err != nil {
		c.t.Fatalf("no layer at %s: %v", dir, err)
	}
	return bitbake.Layer{Name: name, FS: os.DirFS(dir)}
}

// bbpathDeps reads the dependency layers from a ground truth's facts.
func bbpathDeps(t *testing.T, factsName string) []struct{ Repo, Commit, Subdir string } {
	t.Helper()
	var facts struct {
		DepsOnBBPath []struct{ Repo, Commit, Subdir string } `json:"deps_on_bbpath"`
	}
	b, err := os.ReadFile(corpus.GroundTruth(t, factsName))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &facts); err != nil {
		t.Fatalf("%s: %v", factsName, err)
	}
	return facts.DepsOnBBPath
}

// TestAccuracyStored parses every shared ground-truth layer with the
// dependency layers BitBake had on BBPATH, in its order, and requires
// agreement with BitBake on every key layerindex stores, for every recipe
// (shared/tools/accuracy_full.py's metric). Each disagreement is listed by
// recipe and key.
func TestAccuracyStored(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus accuracy test skipped in -short mode")
	}
	corpus.Require(t)
	trees := &corpusTrees{t: t, bares: map[string]string{}, trees: map[string]string{}}
	for _, l := range groundTruthLayers {
		t.Run(l.name, func(t *testing.T) {
			gt, err := accuracy.Load(corpus.GroundTruth(t, l.gt))
			if err != nil {
				t.Fatal(err)
			}
			target := trees.layer(l.repo, l.commit, l.subdir)
			var deps []bitbake.Layer
			haveCore := l.subdir == "meta"
			if l.facts != "" {
				for _, d := range bbpathDeps(t, l.facts) {
					deps = append(deps, trees.layer(path.Base(d.Repo), d.Commit, d.Subdir))
					haveCore = haveCore || d.Subdir == "meta"
				}
			}
			if !haveCore {
				// The core layer was on BBPATH through bblayers.conf.
				deps = append(deps, trees.layer("openembedded-core", groundTruthLayers[0].commit, "meta"))
			}
			got, recipes := parseRecords(t, target, deps)
			rep := accuracy.CompareStored(gt, got)
			t.Logf("%s: %d recipes parsed\n%s", l.name, len(recipes), rep.Summary())
			if rep.AllAgree == rep.Total && rep.Extra == 0 {
				return
			}
			var lines []string
			for _, m := range rep.Mismatches {
				lines = append(lines, fmt.Sprintf("%s %s: %s", m.Path, m.Field, accuracy.Diff(m)))
			}
			for _, p := range rep.Disagreeing {
				if _, ok := got[p]; !ok {
					lines = append(lines, p+": not parsed")
				}
			}
			for p := range got {
				if _, ok := gt[p]; !ok {
					lines = append(lines, p+": not in the ground truth")
				}
			}
			sort.Strings(lines)
			t.Errorf("%s: every stored key agrees on %d of %d recipes; %d disagreement(s):\n%s",
				l.name, rep.AllAgree, rep.Total, len(lines), strings.Join(lines, "\n"))
		})
	}
}

// parseRecords parses a layer and returns its records as `layerindex
// parse` prints them.
func parseRecords(t *testing.T, target bitbake.Layer, deps []bitbake.Layer) (map[string]accuracy.Record, []*bitbake.Recipe) {
	t.Helper()
	cfg, err := bitbake.NewConfig(target, deps, bitbake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recipes, err := cfg.ParseLayer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]accuracy.Record{}
	for _, r := range recipes {
		b, err := json.Marshal(r.Record())
		if err != nil {
			t.Fatal(err)
		}
		var rec accuracy.Record
		if err := json.Unmarshal(b, &rec); err != nil {
			t.Fatal(err)
		}
		got[r.Path] = rec
	}
	return got, recipes
}

const oeCoreCommit = "35a2c6ed7987"

func layerAt(t testing.TB, dir string) bitbake.Layer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "conf", "layer.conf")); err != nil {
		t.Fatalf("no layer at %s: %v", dir, err)
	}
	return bitbake.Layer{Name: filepath.Base(dir), FS: os.DirFS(dir)}
}

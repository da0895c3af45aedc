package bitbake_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"layerindex/internal/bitbake"
	"layerindex/internal/bitbake/accuracy"
	"layerindex/internal/corpus"
)

// Thresholds from the issue: the test fails below these.
const (
	minAllFields = 97.0
	minCoreField = 99.5
)

var strictFields = []string{"PN", "PV", "SUMMARY", "LICENSE", "SECTION", "inherits"}

// checkAccuracy parses the target layer, compares it with the ground
// truth and logs the per-field table.
func checkAccuracy(t *testing.T, gtName string, target bitbake.Layer, deps []bitbake.Layer) {
	t.Helper()
	gt, err := accuracy.Load(corpus.GroundTruth(t, gtName))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := bitbake.NewConfig(target, deps, bitbake.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recipes, err := cfg.ParseLayer(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]accuracy.Record{}
	uncertain := 0
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
		if r.Uncertain() {
			uncertain++
		}
	}
	rep := accuracy.Compare(gt, got)
	t.Logf("%s: %d recipes parsed, %d with unevaluated python\n%s", gtName, len(recipes), uncertain, rep.Summary())
	causes := map[string]int{}
	for _, m := range rep.Mismatches {
		causes[m.Field]++
	}
	var lines []string
	for _, m := range rep.Mismatches {
		if len(lines) < 30 {
			lines = append(lines, fmt.Sprintf("%s %s: %s", m.Path, m.Field, accuracy.Diff(m)))
		}
	}
	if len(lines) > 0 {
		sort.Strings(lines)
		t.Logf("disagreements (first %d):\n%s", len(lines), strings.Join(lines, "\n"))
	}
	if pct := rep.Pct(rep.AllAgree); pct < minAllFields {
		t.Errorf("all-field agreement %.2f%% < %.1f%%", pct, minAllFields)
	}
	for _, f := range strictFields {
		if pct := rep.Pct(rep.PerField[f]); pct < minCoreField {
			t.Errorf("%s agreement %.2f%% < %.1f%%", f, pct, minCoreField)
		}
	}
}

func layerAt(t testing.TB, dir string) bitbake.Layer {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "conf", "layer.conf")); err != nil {
		t.Fatalf("no layer at %s: %v", dir, err)
	}
	return bitbake.Layer{Name: filepath.Base(dir), FS: os.DirFS(dir)}
}

const (
	oeCoreCommit = "35a2c6ed7987"
	metaOECommit = "43fd2c88f1ab"
)

func TestAccuracyOECore(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus accuracy test skipped in -short mode")
	}
	corpus.GroundTruth(t, "openembedded-core@35a2c6ed-meta.jsonl")
	tree := corpus.Tree(t, corpus.Bare(t, "openembedded-core"), oeCoreCommit, "meta")
	checkAccuracy(t, "openembedded-core@35a2c6ed-meta.jsonl", layerAt(t, filepath.Join(tree, "meta")), nil)
}

func TestAccuracyMetaOE(t *testing.T) {
	if testing.Short() {
		t.Skip("corpus accuracy test skipped in -short mode")
	}
	corpus.GroundTruth(t, "meta-openembedded@43fd2c88-meta-oe.jsonl")
	core := corpus.Tree(t, corpus.Bare(t, "openembedded-core"), oeCoreCommit, "meta")
	moe := corpus.Tree(t, corpus.Bare(t, "meta-openembedded"), metaOECommit, "meta-oe")
	checkAccuracy(t, "meta-openembedded@43fd2c88-meta-oe.jsonl", layerAt(t, filepath.Join(moe, "meta-oe")),
		[]bitbake.Layer{layerAt(t, filepath.Join(core, "meta"))})
}

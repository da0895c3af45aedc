package main

import (
	"bufio"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"layerindex/internal/bitbake/accuracy"
	"layerindex/internal/corpus"
)

// TestParseCommand runs `layerindex parse` on meta-oe (with oe-core's meta
// as its dependency) the way agreement is measured from outside: one JSON
// object per recipe with the ground-truth keys, a summary on stderr, and
// full agreement with BitBake's ground truth on every stored key.
func TestParseCommand(t *testing.T) {
	const oeCore, metaOE = "35a2c6ed7987763dadbe45ad86095e1aee1c7314", "43fd2c88f1ab439bd933af2a7bf1c7b0db3e77dd"
	gt := corpus.GroundTruth(t, "meta-openembedded@43fd2c88-meta-oe.jsonl")
	core := corpus.Tree(t, corpus.Bare(t, "openembedded-core"), oeCore, "meta")
	mo := corpus.Tree(t, corpus.Bare(t, "meta-openembedded"), metaOE, "meta-oe")

	cmd := exec.Command(binary, "parse", "--with", filepath.Join(core, "meta"), filepath.Join(mo, "meta-oe"))
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("parse: %v\n%s", err, stderr.String())
	}
	keys := []string{"path", "PN", "PV", "PR", "PE", "SUMMARY", "DESCRIPTION", "SECTION", "LICENSE", "HOMEPAGE",
		"BUGTRACKER", "PROVIDES", "DEPENDS", "BBCLASSEXTEND", "SRCREV", "SRC_URI", "sources", "inherits", "filedeps",
		"skipped", "configopts", "packageconfig"}
	n := 0
	sc := bufio.NewScanner(strings.NewReader(stdout.String()))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not a JSON object: %v", n+1, err)
		}
		for _, k := range keys {
			if _, ok := rec[k]; !ok {
				t.Fatalf("record %v lacks key %q", rec["path"], k)
			}
		}
		n++
	}
	if n != 1092 {
		t.Errorf("%d records, want 1092", n)
	}
	if !regexp.MustCompile(`1092 recipes \(58 skipped, .*\) in [0-9.]+m?s`).MatchString(stderr.String()) {
		t.Errorf("no summary line on stderr:\n%s", stderr.String())
	}

	want, err := accuracy.Load(gt)
	if err != nil {
		t.Fatal(err)
	}
	got, err := accuracy.Read(strings.NewReader(stdout.String()))
	if err != nil {
		t.Fatal(err)
	}
	if rep := accuracy.CompareStored(want, got); rep.AllAgree != rep.Total {
		t.Errorf("every stored key agrees on %d of %d recipes", rep.AllAgree, rep.Total)
	}
}

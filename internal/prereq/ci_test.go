package prereq_test

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestCIRunsTheREADMEChecks keeps the README's test command and its account
// of CI true: .ci/run runs that command and every check the README names.
func TestCIRunsTheREADMEChecks(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	ci, err := os.ReadFile("../../.ci/run")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^Run the tests[^\n]*(?:\n[^\n]+)*\n\n    (go test [^\n]+)\n`).FindSubmatch(readme)
	if m == nil {
		t.Fatal("README has no test command after “Run the tests”")
	}
	for _, want := range []string{string(m[1]), "gofmt -l .", "go vet ./...", "/bin/staticcheck\" ./...", "go mod tidy -diff",
		"-fuzz=", `-fuzztime="${FUZZTIME:-10s}"`, `export CI="${CI:-true}"`} {
		if !strings.Contains(string(ci), want) {
			t.Errorf(".ci/run does not run %q", want)
		}
	}
	if !strings.Contains(string(m[1]), "-count=1") {
		t.Errorf("the README's test command %q may serve cached results", m[1])
	}
}

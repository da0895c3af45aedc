package prereq_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"layerindex/internal/prereq"
)

// TestMissingFailsInCI runs a test that lacks a prerequisite in a child
// process, with and without CI: it skips on a developer's machine and
// fails in CI.
func TestMissingFailsInCI(t *testing.T) {
	if os.Getenv("PREREQ_CHILD") != "" {
		prereq.Command(t, "no-such-command-for-prereq", "a test of the helper")
		t.Log("reached past a missing prerequisite")
		return
	}
	for _, c := range []struct {
		ci       string
		wantFail bool
		want     string
	}{
		{"", false, "--- SKIP"},
		{"false", false, "--- SKIP"},
		{"true", true, "missing prerequisite (required in CI): no-such-command-for-prereq not found"},
		{"1", true, "--- FAIL"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingFailsInCI$", "-test.v")
		cmd.Env = append(os.Environ(), "PREREQ_CHILD=1", "CI="+c.ci)
		out, err := cmd.CombinedOutput()
		if (err != nil) != c.wantFail || !strings.Contains(string(out), c.want) || strings.Contains(string(out), "reached past") {
			t.Errorf("CI=%q: err %v\n%s", c.ci, err, out)
		}
	}
}

package main

import (
	"path/filepath"
	"strings"
	"testing"

	"layerindex/internal/store/storetest"
)

// TestSetupCommand prints the build setup of the fixture index in each
// format, and refuses unknown layers with a message.
func TestSetupCommand(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"LAYERINDEX_DATA_DIR=" + dataDir}
	if code, out, stderr := runCmd(t, env, "", "migrate"); code != 0 {
		t.Fatalf("migrate: %d\n%s%s", code, out, stderr)
	}
	f := storetest.Load(t, openData(t, dataDir))
	rev := f.LayerBranch["openembedded-core/master"].VCSLastRev
	code, out, stderr := runCmd(t, env, "", "setup", "--branch", "master", "meta-python")
	if code != 0 || !strings.Contains(out, `"rev": "`+rev+`"`) || !strings.Contains(out, `"meta-openembedded/meta-python"`) {
		t.Errorf("setup: %d\n%s\n%s", code, out, stderr)
	}
	code, out, _ = runCmd(t, env, "", "setup", "--branch", "master", "--format", "kas", "--machine", "raspberrypi5", "meta-python")
	if code != 0 || !strings.Contains(out, "refspec: "+rev) || !strings.Contains(out, "machine: raspberrypi5") || !strings.Contains(out, "meta-raspberrypi:") {
		t.Errorf("setup --format kas: %d\n%s", code, out)
	}
	code, out, _ = runCmd(t, env, "", "setup", "--branch", "master", "--format", "bblayers", "meta-oe")
	if code != 0 || !strings.Contains(out, "${TOPDIR}/../layers/meta-openembedded/meta-oe") {
		t.Errorf("setup --format bblayers: %d\n%s", code, out)
	}
	if code, out, stderr := runCmd(t, env, "", "setup", "--branch", "master", "meta-nothing"); code == 0 || !strings.Contains(out+stderr, `no published layer "meta-nothing"`) {
		t.Errorf("unknown layer: %d\n%s%s", code, out, stderr)
	}
}

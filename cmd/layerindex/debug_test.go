package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// --debug-listen serves Go's profiler on its own address, not on the site's.
func TestDebugListen(t *testing.T) {
	p, base := serving(t, []string{"LAYERINDEX_DATA_DIR=" + filepath.Join(t.TempDir(), "data")}, "--debug-listen", "127.0.0.1:0")
	url := p.waitLog(`msg="profiler listening" url=(\S+)`, 10*time.Second)[1]
	if code, body, _ := get(t, url+"cmdline"); code != 200 || !strings.Contains(body, "serve") {
		t.Errorf("profiler: %d %q", code, body)
	}
	if code, body, _ := get(t, url+"heap?debug=1"); code != 200 || !strings.Contains(body, "heap profile") {
		t.Errorf("heap profile: %d %.100q", code, body)
	}
	if code, _, _ := get(t, base+"/debug/pprof/"); code != 404 {
		t.Errorf("the profiler is reachable through the site's address: %d", code)
	}
	p.terminate(10 * time.Second)
}

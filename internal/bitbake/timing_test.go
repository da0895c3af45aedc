package bitbake

import (
	"context"
	"fmt"

	"layerindex/internal/bitbake/pyeval"
	"os"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestAnonTiming(t *testing.T) {
	dir := os.Getenv("TIMING_LAYER")
	if dir == "" {
		t.Skip()
	}
	var mu sync.Mutex
	tot := map[string]time.Duration{}
	steps := map[string]int{}
	timing := func(name string, d time.Duration, s int) {
		mu.Lock()
		tot[name] += d
		steps[name] += s
		mu.Unlock()
	}
	lines := map[string]int{}
	anonTiming.Store(&timing)
	defer anonTiming.Store(nil)
	pyeval.SetTopStmtHook(func(fn string, line, s int) {
		mu.Lock()
		lines[fmt.Sprintf("%s:%d", fn, line)] += s
		mu.Unlock()
	})
	defer pyeval.SetTopStmtHook(nil)
	cfg, err := NewConfig(Layer{Name: "meta", FS: os.DirFS(dir)}, nil, Options{Jobs: 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg.ParseLayer(context.Background())
	var names []string
	for k := range tot {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return tot[names[i]] > tot[names[j]] })
	for _, n := range names[:20] {
		t.Logf("%8.1fms %9d steps %s", float64(tot[n].Microseconds())/1000, steps[n], n)
	}
	var ls []string
	for k := range lines {
		ls = append(ls, k)
	}
	sort.Slice(ls, func(i, j int) bool { return lines[ls[i]] > lines[ls[j]] })
	for _, l := range ls[:15] {
		t.Logf("%9d steps %s", lines[l], l)
	}
}

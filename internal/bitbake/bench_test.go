package bitbake_test

import (
	"context"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"layerindex/internal/bitbake"
	"layerindex/internal/corpus"
)

// BenchmarkParseLayerOECore parses all recipes of oe-core meta, including
// building the configuration, once per iteration.
func BenchmarkParseLayerOECore(b *testing.B) {
	tree := corpus.Tree(b, corpus.Bare(b, "openembedded-core"), oeCoreCommit, "meta")
	layer := layerAt(b, filepath.Join(tree, "meta"))
	b.ReportAllocs()
	var recipes int
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		cfg, err := bitbake.NewConfig(layer, nil, bitbake.Options{})
		if err != nil {
			b.Fatal(err)
		}
		rs, err := cfg.ParseLayer(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		recipes += len(rs)
	}
	b.StopTimer()
	elapsed := time.Since(start)
	runtime.ReadMemStats(&m1)
	if recipes > 0 {
		b.ReportMetric(float64(elapsed.Nanoseconds())/float64(recipes), "ns/recipe")
		b.ReportMetric(float64(m1.Mallocs-m0.Mallocs)/float64(recipes), "allocs/recipe")
		b.ReportMetric(float64(m1.TotalAlloc-m0.TotalAlloc)/float64(recipes), "B/recipe")
	}
}

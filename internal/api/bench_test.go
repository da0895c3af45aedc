package api_test

import (
	"context"
	"io"
	"net/http"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// The benchmarks serve storetest's realistic-size synthetic index (two
// branches of ≈3,500 recipes) through the whole server over loopback HTTP.
// bench/api.sh measures the same calls with wrk against the real binary.
func benchmarkGet(b *testing.B, d db.Dialect, path string, hdr ...string) {
	conn := dbtest.Migrated(b, d)
	if err := storetest.Synthetic(context.Background(), store.New(conn.Gorm), storetest.RealisticSize); err != nil {
		b.Fatal(err)
	}
	ts := serve(b, conn)
	url := ts.URL + "/layerindex/api/" + path
	client := &http.Client{Transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 64}}
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			resp, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			n, _ := io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 && resp.StatusCode != 304 {
				b.Errorf("%d", resp.StatusCode)
				return
			}
			b.SetBytes(n)
		}
	})
}

func BenchmarkRecipesBranch(b *testing.B) {
	for _, d := range dbtest.Dialects {
		b.Run(string(d), func(b *testing.B) { benchmarkGet(b, d, "recipes/?filter=layerbranch__branch__name:master") })
	}
}

func BenchmarkRecipesBranchGzip(b *testing.B) {
	for _, d := range dbtest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			benchmarkGet(b, d, "recipes/?filter=layerbranch__branch__name:master", "Accept-Encoding", "gzip")
		})
	}
}

func BenchmarkLayerBranches(b *testing.B) {
	for _, d := range dbtest.Dialects {
		b.Run(string(d), func(b *testing.B) { benchmarkGet(b, d, "layerBranches/") })
	}
}

func BenchmarkNotModified(b *testing.B) {
	for _, d := range dbtest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			benchmarkGet(b, d, "recipes/?filter=layerbranch__branch__name:master", "If-None-Match", "*")
		})
	}
}

func BenchmarkRecipesBranchUncached(b *testing.B) {
	for _, d := range dbtest.Dialects {
		b.Run(string(d), func(b *testing.B) {
			benchmarkGet(b, d, "recipes/?filter=layerbranch__branch__name:master", "Cache-Control", "no-cache")
		})
	}
}

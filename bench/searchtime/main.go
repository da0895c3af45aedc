// Command searchtime runs recipe searches on a loaded index, one at a time,
// and prints the wall time of each (the database's work included, which the
// HTTP benchmarks' cpu/req leaves out on PostgreSQL), its total and how many
// rows the first page holds. Each search runs -n times; the least time is
// printed, the figure least disturbed by other work on the machine.
//
// With -memory, it also builds the branch's in-memory search index (what
// the server searches once built: store.SearchIndex), prints its build time
// and heap, and the least of 200 times of each search on it, checking that
// it gives the page and total SQL gives (-sql=false: the index alone).
//
// Usage: searchtime [-branch master] [-n 3] [-memory [-heapprofile FILE]] [-sql=false] -data-dir DIR | -database-url postgres://... [QUERY...]
// Without queries, it runs bench/miss.sh's words, depends: and inherits:.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/store"
)

func main() {
	dataDir := flag.String("data-dir", "", "SQLite data directory (as layerindex serve --data-dir)")
	dbURL := flag.String("database-url", "", "PostgreSQL URL")
	branchName := flag.String("branch", "master", "branch searched")
	runs := flag.Int("n", 3, "runs of each search")
	memory := flag.Bool("memory", false, "also search the in-memory index")
	withSQL := flag.Bool("sql", true, "search in SQL")
	heapProfile := flag.String("heapprofile", "", "with -memory, write a heap profile of the built index to this file")
	flag.Parse()
	if *heapProfile != "" {
		runtime.MemProfileRate = 4096 // the index's lists, not only its largest arrays
	}
	ctx := context.Background()
	var (
		conn *db.DB
		err  error
	)
	if *dbURL != "" {
		conn, err = db.OpenPostgres(ctx, *dbURL, nil)
	} else {
		conn, err = db.OpenSQLite(ctx, db.SQLitePath(*dataDir), nil)
	}
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	s := store.New(conn.Gorm)
	b, err := s.BrowseBranch(ctx, *branchName)
	if err != nil {
		log.Fatal(err)
	}
	queries := flag.Args()
	if len(queries) == 0 {
		queries = strings.Fields("glib python lib xml ssl perl network audio image kernel gtk qt boost zlib curl ssh dbus systemd util font test tool daemon library video")
		for _, d := range strings.Fields("zlib openssl glib-2.0 libxml2 dbus systemd curl python3 ncurses readline libffi util-linux") {
			queries = append(queries, "depends:"+d)
		}
		for _, c := range strings.Fields("autotools cmake meson pkgconfig python3native setuptools3 cpan update-rc.d systemd gettext gobject-introspection qemu") {
			queries = append(queries, "inherits:"+c)
		}
	}
	var x *store.SearchIndex
	if *memory {
		var m0, m1 runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m0)
		t0 := time.Now()
		x, err = s.LoadSearchIndex(ctx, b.ID)
		if err != nil {
			log.Fatal(err)
		}
		took := time.Since(t0)
		runtime.GC()
		runtime.ReadMemStats(&m1)
		fmt.Printf("in-memory index of %d recipes built in %v, heap %.1f MB (%.0f MB allocated while building, heap peak %.0f MB)\n",
			x.Len(), took.Round(time.Millisecond), float64(m1.HeapAlloc-m0.HeapAlloc)/1e6,
			float64(m1.TotalAlloc-m0.TotalAlloc)/1e6, float64(m1.HeapSys)/1e6)
		if *heapProfile != "" {
			f, err := os.Create(*heapProfile)
			if err != nil {
				log.Fatal(err)
			}
			if err := pprof.WriteHeapProfile(f); err != nil {
				log.Fatal(err)
			}
			if err := f.Close(); err != nil {
				log.Fatal(err)
			}
		}
	}
	var sum, memSum time.Duration
	for _, qs := range queries {
		q, err := store.ParseRecipeQuery(qs)
		if err != nil {
			log.Fatalf("%q: %v", qs, err)
		}
		var best time.Duration
		var res store.Paged[store.RecipeRow]
		for i := range *runs {
			if !*withSQL {
				break
			}
			t0 := time.Now()
			res, err = s.SearchRecipes(ctx, b, q, "", store.Page{Number: 1, Size: 50})
			if err != nil {
				log.Fatalf("%q: %v", qs, err)
			}
			if d := time.Since(t0); i == 0 || d < best {
				best = d
			}
		}
		sum += best
		mem := ""
		if x != nil {
			var memBest time.Duration
			var got store.Paged[store.RecipeRow]
			for i := range 200 {
				t0 := time.Now()
				got, err = x.Search(q, "", store.Page{Number: 1, Size: 50})
				if err != nil {
					log.Fatalf("%q: %v", qs, err)
				}
				if d := time.Since(t0); i == 0 || d < memBest {
					memBest = d
				}
			}
			memSum += memBest
			mem = fmt.Sprintf("  memory %7.1f µs", float64(memBest.Nanoseconds())/1000)
			if !*withSQL {
				res = got
			} else if !reflect.DeepEqual(got.Items, res.Items) || got.Total != res.Total || got.More != res.More {
				log.Fatalf("%q: the in-memory search differs from SQL's", qs)
			}
		}
		more := ""
		if res.More {
			more = "+"
		}
		fmt.Printf("%-34s %9.1f ms%s  %5d%s found, %d shown\n", qs, float64(best.Microseconds())/1000, mem, res.Total, more, len(res.Items))
	}
	fmt.Printf("%d searches, mean of the least times %.1f ms", len(queries), float64(sum.Microseconds())/1000/float64(len(queries)))
	if x != nil {
		fmt.Printf(", in memory %.1f µs", float64(memSum.Nanoseconds())/1000/float64(len(queries)))
	}
	fmt.Println()
}

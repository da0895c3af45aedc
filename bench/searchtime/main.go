// Command searchtime runs recipe searches on a loaded index, one at a time,
// and prints the wall time of each (the database's work included, which the
// HTTP benchmarks' cpu/req leaves out on PostgreSQL), its total and how many
// rows the first page holds. Each search runs -n times; the least time is
// printed, the figure least disturbed by other work on the machine.
//
// Usage: searchtime [-branch master] [-n 3] -data-dir DIR | -database-url postgres://... [QUERY...]
// Without queries, it runs bench/miss.sh's words, depends: and inherits:.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
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
	flag.Parse()
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
	var sum time.Duration
	for _, qs := range queries {
		q, err := store.ParseRecipeQuery(qs)
		if err != nil {
			log.Fatalf("%q: %v", qs, err)
		}
		var best time.Duration
		var res store.Paged[store.RecipeRow]
		for i := range *runs {
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
		more := ""
		if res.More {
			more = "+"
		}
		fmt.Printf("%-34s %9.1f ms  %5d%s found, %d shown\n", qs, float64(best.Microseconds())/1000, res.Total, more, len(res.Items))
	}
	fmt.Printf("%d searches, mean of the least times %.1f ms\n", len(queries), float64(sum.Microseconds())/1000/float64(len(queries)))
}

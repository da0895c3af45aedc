// Command webdata fills a database with the realistic-size synthetic index
// (storetest.RealisticSize: two branches of about 3,500 recipes) plus a few
// recipes with the names the web benchmarks look up (glib*, busybox, zlib),
// written through the same store code the ingestion uses. bench/web.sh runs
// it before starting the server.
//
// With -corpus SHARED it instead indexes the real layers of the shared
// corpus (openembedded-core and the ten meta-openembedded layers, on master
// and scarthgap) through the real ingestion: fetch, parse, store.
//
// Usage: webdata [-corpus SHARED] -data-dir DIR | -database-url postgres://...
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

func main() {
	dataDir := flag.String("data-dir", "", "SQLite data directory (as layerindex serve --data-dir)")
	dbURL := flag.String("database-url", "", "PostgreSQL URL")
	corpusDir := flag.String("corpus", "", "index the real layers of this shared corpus directory instead of synthetic data")
	flag.Parse()
	ctx := context.Background()
	var (
		conn *db.DB
		err  error
	)
	if *dbURL != "" {
		conn, err = db.OpenPostgres(ctx, *dbURL, nil)
	} else {
		if _, err = db.PrepareDataDir(*dataDir); err == nil {
			conn, err = db.OpenSQLite(ctx, db.SQLitePath(*dataDir), nil)
		}
	}
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Migrate(ctx, nil); err != nil {
		log.Fatal(err)
	}
	t0 := time.Now()
	s := store.New(conn.Gorm)
	if *corpusDir != "" {
		if err := indexCorpus(ctx, conn, *corpusDir); err != nil {
			log.Fatal(err)
		}
	} else {
		if err := storetest.Synthetic(ctx, s, storetest.RealisticSize); err != nil {
			log.Fatal(err)
		}
		if err := addNamedRecipes(ctx, s); err != nil {
			log.Fatal(err)
		}
	}
	var n int64
	conn.Gorm.Model(&store.Recipe{}).Count(&n)
	fmt.Printf("loaded %d recipes in %s\n", n, time.Since(t0).Round(time.Millisecond))
	if conn.Dialect == db.Postgres {
		// What autovacuum does on a production server; the benchmark
		// machines run PostgreSQL with autovacuum off, and without it the
		// rows rewritten while loading (dead versions) stay in every scan.
		if err := conn.Gorm.Exec("VACUUM ANALYZE").Error; err != nil {
			log.Fatal(err)
		}
	}
}

// addNamedRecipes adds, on every branch, recipes named like the real ones
// the benchmark searches for: the glib family (names and descriptions),
// busybox, and zlib, which every synthetic recipe already depends on.
func addNamedRecipes(ctx context.Context, s *store.Store) error {
	names := []struct{ pn, summary string }{
		{"glib-2.0", "A general-purpose utility library (GLib)"},
		{"glib-networking", "Network-related GIO modules for glib"},
		{"glibmm", "C++ bindings for the glib library"},
		{"dbus-glib", "High level language (GLib) binding for D-Bus"},
		{"glibc", "GLIBC (GNU C Library)"},
		{"glibc-locale", "Locale data from glibc"},
		{"glib-2.0-initial", "Minimal GLib for bootstrapping"},
		{"busybox", "Tiny versions of many common UNIX utilities in a single small executable"},
		{"zlib", "Zlib Compression Library"},
		{"json-glib", "JSON GLib implementation"},
		{"libgudev", "GObject wrapper for libudev, using glib"},
		{"gobject-introspection", "Middleware layer between GObject-using C libraries (glib) and language bindings"},
	}
	for _, bn := range []string{"master", "release1"} {
		b, err := s.BrowseBranch(ctx, bn)
		if err != nil {
			return err
		}
		for li, layer := range []string{"meta-syn-0", "meta-syn-1"} {
			l, err := s.PublishedLayer(ctx, layer)
			if err != nil {
				return err
			}
			lb, err := s.LayerBranch(ctx, l.ID, b.ID)
			if err != nil {
				return err
			}
			ch := &store.IndexChange{}
			for i, n := range names {
				if li == 1 && i%3 != 0 {
					continue // a few duplicates in the second layer
				}
				deps := []string{"zlib", "libffi", "virtual/libiconv", "glib-2.0-native", "python3-native", "gettext-native", "syn001-0", "syn002-0"}
				r := storetest.Recipe("recipes-core/"+n.pn, n.pn+"_2.86.0.bb", n.pn, "2.86.0", n.summary, "LGPL-2.1-or-later", deps,
					"https://download.example.org/"+n.pn+"-2.86.0.tar.xz")
				r.Recipe.Description = n.summary + ". GLib is the low-level core library that forms the basis for projects such as GTK and GNOME."
				r.Recipe.BBClassExtend = "native nativesdk"
				ch.Upserts = append(ch.Upserts, r)
			}
			ch.Appends = []store.BBAppend{{Filepath: "recipes-core/busybox", Filename: "busybox_%.bbappend"}}
			if _, err := s.ApplyIndex(ctx, lb.ID, ch); err != nil {
				return err
			}
		}
	}
	return nil
}

// Command seed fills an empty database with storetest's synthetic index of
// realistic size (two branches, ≈3,500 recipes each) for the API
// benchmarks in bench/api.sh. It prints how long seeding took.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

func main() {
	dataDir := flag.String("data-dir", "", "SQLite data directory")
	dbURL := flag.String("database-url", "", "PostgreSQL URL (instead of --data-dir)")
	flag.Parse()
	if err := run(*dataDir, *dbURL); err != nil {
		fmt.Fprintln(os.Stderr, "seed:", err)
		os.Exit(1)
	}
}

func run(dataDir, dbURL string) error {
	ctx := context.Background()
	var conn *db.DB
	var err error
	if dbURL != "" {
		conn, err = db.OpenPostgres(ctx, dbURL, nil)
	} else {
		if _, err = db.PrepareDataDir(dataDir); err != nil {
			return err
		}
		conn, err = db.OpenSQLite(ctx, db.SQLitePath(dataDir), nil)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	if err := conn.Migrate(ctx, nil); err != nil {
		return err
	}
	t0 := time.Now()
	if err := storetest.Synthetic(ctx, store.New(conn.Gorm), storetest.RealisticSize); err != nil {
		return err
	}
	fmt.Printf("seeded %+v in %.1f s\n", storetest.RealisticSize, time.Since(t0).Seconds())
	return nil
}

// Package dbtest gives tests real databases: a fresh SQLite file, or a fresh
// PostgreSQL database on the local server, dropped when the test ends.
//
// PostgreSQL is found through $LAYERINDEX_TEST_POSTGRES (a URL to an admin
// database; default postgres://postgres@127.0.0.1:5432/postgres). When it is
// unreachable, tests skip with a message — unless $CI is set, where a missing
// PostgreSQL fails the test, so CI cannot pass by skipping.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx" for creating test databases

	"layerindex/internal/db"

	"layerindex/internal/prereq"
)

// Dialects lists the backends every database test runs on.
var Dialects = []db.Dialect{db.SQLite, db.Postgres}

// AdminURL is the PostgreSQL URL tests create their databases through.
func AdminURL() string {
	if u := os.Getenv("LAYERINDEX_TEST_POSTGRES"); u != "" {
		return u
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// PostgresURL creates an empty PostgreSQL database for the test and returns
// its URL; the database is dropped at cleanup.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	admin, err := sql.Open("pgx", AdminURL())
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := admin.PingContext(ctx); err != nil {
		admin.Close()
		prereq.Missing(tb, "PostgreSQL unreachable at %s (%v); set LAYERINDEX_TEST_POSTGRES or start it to run this test", redact(AdminURL()), err)
	}
	name := "layerindex_test_" + randomHex(6)
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close()
		tb.Fatalf("create test database: %v", err)
	}
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			tb.Logf("drop test database %s: %v", name, err)
		}
		admin.Close()
	})
	u, _ := url.Parse(AdminURL())
	u.Path = "/" + name
	return u.String()
}

// Open returns a fresh, unmigrated database of the dialect, closed at cleanup.
func Open(tb testing.TB, d db.Dialect) *db.DB {
	tb.Helper()
	var (
		conn *db.DB
		err  error
	)
	switch d {
	case db.SQLite:
		conn, err = db.OpenSQLite(context.Background(), filepath.Join(tb.TempDir(), "test.db"), nil)
	case db.Postgres:
		conn, err = db.OpenPostgres(context.Background(), PostgresURL(tb), nil)
	default:
		tb.Fatalf("unknown dialect %q", d)
	}
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}

// Migrated returns a fresh database with every migration applied.
func Migrated(tb testing.TB, d db.Dialect) *db.DB {
	tb.Helper()
	conn := Open(tb, d)
	if err := conn.Migrate(context.Background(), nil); err != nil {
		tb.Fatalf("migrate %s: %v", d, err)
	}
	return conn
}

// Each runs fn as a subtest on every dialect.
func Each(t *testing.T, fn func(t *testing.T, d db.Dialect)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) { fn(t, d) })
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return s
}

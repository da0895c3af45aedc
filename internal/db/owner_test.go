package db_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

// TestMigrateAsDatabaseOwner checks the README's production claim: the
// schema, pg_trgm included (migration 00023), is created by a role that only
// owns its database, not by a superuser.
func TestMigrateAsDatabaseOwner(t *testing.T) {
	dbtest.PostgresURL(t) // fails under CI, skips elsewhere, when PostgreSQL is unreachable
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admin, err := sql.Open("pgx", dbtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	b := make([]byte, 6)
	rand.Read(b)
	name := "layerindex_owner_" + hex.EncodeToString(b)
	if _, err := admin.ExecContext(ctx, "CREATE ROLE "+name+" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP ROLE IF EXISTS " + name) })
	if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+name+" OWNER "+name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)") })
	u, err := url.Parse(dbtest.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	u.User, u.Path = url.User(name), "/"+name
	conn, err := db.OpenPostgres(ctx, u.String(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.Migrate(ctx, nil); err != nil {
		t.Fatalf("migrating as the database's owner: %v", err)
	}
	var n int
	if err := conn.SQL.QueryRowContext(ctx, "SELECT COUNT(*) FROM pg_extension WHERE extname = 'pg_trgm'").Scan(&n); err != nil || n != 1 {
		t.Fatalf("pg_trgm: %d %v", n, err)
	}
}

package db_test

import (
	"context"
	"reflect"
	"sort"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

func TestMigrateFromZeroTwice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Open(t, d)
		if err := conn.MigrationsCurrent(ctx); err == nil {
			t.Fatal("an empty database reports its migrations as current")
		}
		if err := conn.Migrate(ctx, nil); err != nil {
			t.Fatalf("first migration: %v", err)
		}
		if err := conn.MigrationsCurrent(ctx); err != nil {
			t.Fatalf("after migrating: %v", err)
		}
		before := schema(t, conn)
		if err := conn.Migrate(ctx, nil); err != nil {
			t.Fatalf("second migration: %v", err)
		}
		if after := schema(t, conn); !reflect.DeepEqual(before, after) {
			t.Fatalf("second migration changed the schema")
		}
		for _, table := range []string{"layers", "recipes", "river_job", "users", "sessions"} {
			if _, ok := before[table]; !ok {
				t.Errorf("table %s missing after migration", table)
			}
		}
	})
}

// TestSchemasAgree keeps the two dialects' migrations from drifting apart:
// every application table has the same columns on SQLite and PostgreSQL.
func TestSchemasAgree(t *testing.T) {
	lite := appTables(schema(t, dbtest.Migrated(t, db.SQLite)))
	pg := appTables(schema(t, dbtest.Migrated(t, db.Postgres)))
	for table, cols := range lite {
		if pcols, ok := pg[table]; !ok {
			t.Errorf("table %s exists only on SQLite", table)
		} else if !reflect.DeepEqual(cols, pcols) {
			t.Errorf("table %s columns differ:\n  sqlite:   %v\n  postgres: %v", table, cols, pcols)
		}
	}
	for table := range pg {
		if _, ok := lite[table]; !ok {
			t.Errorf("table %s exists only on PostgreSQL", table)
		}
	}
	if len(lite) < 20 {
		t.Errorf("only %d application tables found", len(lite))
	}
}

func TestMigrationsCurrentDetectsMissingRiver(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		conn := dbtest.Migrated(t, d)
		if err := conn.Gorm.Exec("DELETE FROM river_migration WHERE version = 8").Error; err != nil {
			t.Fatal(err)
		}
		if err := conn.MigrationsCurrent(context.Background()); err == nil {
			t.Fatal("a missing River migration went unnoticed")
		}
	})
}

// schema maps each table to its sorted column names.
func schema(t *testing.T, conn *db.DB) map[string][]string {
	t.Helper()
	q := `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`
	if conn.Dialect == db.SQLite {
		q = `SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'`
	}
	rows, err := conn.SQL.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		out[table] = append(out[table], col)
	}
	for _, cols := range out {
		sort.Strings(cols)
	}
	return out
}

func appTables(s map[string][]string) map[string][]string {
	out := map[string][]string{}
	for table, cols := range s {
		// recipes_fts* are SQLite's full-text index and its shadow tables;
		// PostgreSQL keeps the same index as a GIN expression index.
		if strings.HasPrefix(table, "river_") || strings.HasPrefix(table, "sqlite_") || table == "goose_db_version" ||
			strings.HasPrefix(table, "recipes_fts") {
			continue
		}
		out[table] = cols
	}
	return out
}

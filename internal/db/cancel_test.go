package db_test

import (
	"bytes"
	"context"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"layerindex/internal/db"
)

// A query cancelled with its request (the client went away) is not logged
// as a database error; a failing query still is.
func TestCancelledQueryIsNotLogged(t *testing.T) {
	var logs bytes.Buffer
	conn, err := db.OpenSQLite(context.Background(), filepath.Join(t.TempDir(), "t.db"),
		slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var n int
	if err := conn.Gorm.WithContext(ctx).Raw("SELECT 1").Scan(&n).Error; err == nil {
		t.Fatal("a query on a cancelled context succeeded")
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("a cancelled query was logged as an error:\n%s", logs.String())
	}
	conn.Gorm.Raw("SELECT * FROM no_such_table").Scan(&n)
	if !strings.Contains(logs.String(), "no_such_table") {
		t.Errorf("a failing query was not logged:\n%s", logs.String())
	}
}

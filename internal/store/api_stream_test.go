package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// TestAPIStreamWithoutSort: a branch's recipe list, which PostgreSQL plans
// as a scan of the whole table and a sort of the full rows, is read in the
// primary key's order without the sort — the same rows in the same order —
// and the connection comes back as it was (no transaction, sorts on), also
// when the list stops half-way. A selective filter keeps its plan. (The
// rows are read one by one: a dump of whole layer branches from fresh
// chunks, recipedump.go, has no such plan.)
func TestAPIStreamWithoutSort(t *testing.T) {
	defer store.SetRecipeDumpChunks(false)()
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		if err := storetest.Synthetic(ctx, s, storetest.SyntheticSize{Branches: 2, Layers: 3, RecipesPerLayer: 90}); err != nil {
			t.Fatal(err)
		}
		if d == db.Postgres {
			if err := conn.Gorm.Exec("ANALYZE").Error; err != nil {
				t.Fatal(err)
			}
		}
		// One connection: what a list leaves on it is what the next query sees.
		conn.SQL.SetMaxOpenConns(1)
		master := &store.APIQuery{Filter: &store.APIFilter{Op: store.FilterLeaf, Key: "layerbranch__branch__name", Value: "master"}}
		read := func(s *store.Store, q *store.APIQuery, stopAfter int) ([]string, error) {
			var out []string
			err := s.APIEachRecipe(ctx, q, func(r *store.Recipe, obj string) error {
				if len(out) == stopAfter {
					return errStop
				}
				if obj != "" {
					out = append(out, fmt.Sprintf("%d %s", r.ID, obj))
					return nil
				}
				out = append(out, fmt.Sprintf("%d %d %s %s %s %s %s", r.ID, r.LayerBranchID, r.PN, r.PV, r.Summary, r.License, r.UpdatedAt))
				return nil
			})
			return out, err
		}
		// The reference, on a store of its own: a store keeps its verdicts.
		sorted, err := read(store.New(conn.Gorm), master, -1)
		if err != nil {
			t.Fatal(err)
		}
		restore := store.SetSortRowsMin(100) // the branch's 270 recipes qualify
		defer restore()
		if d == db.Postgres {
			if sorts, err := s.APISortsTable(ctx, "Recipe", master, store.RecipeStreamCols); err != nil || !sorts {
				t.Fatalf("the branch's list is not planned as a sort of the whole table (%v, %v)", sorts, err)
			}
			one := &store.APIQuery{Filter: &store.APIFilter{Op: store.FilterLeaf, Key: "pn", Value: "syn001-1"}}
			if sorts, err := s.APISortsTable(ctx, "Recipe", one, store.RecipeStreamCols); err != nil || sorts {
				t.Errorf("a selective filter would lose its plan (%v, %v)", sorts, err)
			}
		}
		pid := checkConn(t, conn, 0)
		// Repeated: PostgreSQL keeps a generic plan after five runs.
		for i := range 7 {
			got, err := read(s, master, -1)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 270 || !slices.Equal(got, sorted) {
				t.Fatalf("run %d: %d rows, not the %d rows in order of the sorted query", i, len(got), len(sorted))
			}
			checkConn(t, conn, pid)
		}
		if got, err := read(s, master, 10); !errors.Is(err, errStop) || len(got) != 10 {
			t.Fatalf("stopped list: %d rows, %v", len(got), err)
		}
		checkConn(t, conn, pid)
		if d == db.Postgres {
			// The plan was asked for once, and again once its verdict is old.
			if n := s.SortVerdictChecks(); n != 1 {
				t.Errorf("%d plan checks for 8 lists of one query, want 1", n)
			}
			s.AgeSortVerdicts()
			if got, err := read(s, master, -1); err != nil || !slices.Equal(got, sorted) {
				t.Fatalf("after the verdict's time: %d rows, %v", len(got), err)
			}
			checkConn(t, conn, pid)
			if n := s.SortVerdictChecks(); n != 2 {
				t.Errorf("%d plan checks after the verdict's time, want 2", n)
			}
		}
		if !slices.IsSortedFunc(sorted, func(a, b string) int {
			var x, y int64
			fmt.Sscan(a, &x)
			fmt.Sscan(b, &y)
			return int(x - y)
		}) {
			t.Error("the list is not in id order")
		}
	})
}

var errStop = errors.New("stop")

// checkConn fails unless the (only) connection is still the one it was
// (pid; 0 the first time) — not dropped by the pool — outside a transaction
// with sorts enabled. It returns the connection's pid.
func checkConn(t *testing.T, conn *db.DB, pid int64) int64 {
	t.Helper()
	if conn.Dialect != db.Postgres {
		return 0
	}
	var sortOn, readOnly string
	var now int64
	if err := conn.SQL.QueryRow("SELECT current_setting('enable_sort'), current_setting('transaction_read_only'), pg_backend_pid()").Scan(&sortOn, &readOnly, &now); err != nil {
		t.Fatal(err)
	}
	if sortOn != "on" || readOnly != "off" || (pid != 0 && now != pid) {
		t.Fatalf("after a list: enable_sort %s, transaction_read_only %s, connection %d (was %d)", sortOn, readOnly, now, pid)
	}
	return now
}

package store_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// TestRecipeDumpChunks: a dump of whole layer branches read from the
// chunks of migration 00028 is, object for object and in the same order,
// the dump read row by row — for every filter on layer branches, with the
// ids of two layer branches interleaved so buckets are shared and merged —
// and stays so through ApplyIndex's writes. A write that does not know the
// chunks (a hand-written UPDATE) makes the dumps that select its layer
// branch read the rows (and serve the change) until FillRecipeDumps
// rewrites them; a filter on anything but the layer branch reads the rows.
func TestRecipeDumpChunks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		fx := storetest.Load(t, s)
		oe, core := fx.LayerBranch["meta-oe/master"].ID, fx.LayerBranch["openembedded-core/master"].ID
		// 320 recipes written to two layer branches in turns of 8: their
		// ids interleave across two buckets of 256.
		for i := range 40 {
			lb := []int64{oe, core}[i%2]
			var ch store.IndexChange
			for j := range 8 {
				pn := fmt.Sprintf("dump%03d", i*8+j)
				ch.Upserts = append(ch.Upserts, store.RecipeData{Recipe: store.Recipe{Filename: pn + "_1.0.bb",
					Filepath: "recipes-dump", PN: pn, PV: "1.0", Summary: "line\nbreak " + pn, License: "MIT"}})
			}
			if _, err := s.ApplyIndex(ctx, lb, &ch); err != nil {
				t.Fatal(err)
			}
		}
		var shared int
		if err := conn.SQL.QueryRow(`SELECT COUNT(*) FROM (SELECT bucket FROM recipe_dump_chunks
			GROUP BY bucket HAVING COUNT(*) > 1) x`).Scan(&shared); err != nil {
			t.Fatal(err)
		}
		if shared < 2 {
			t.Fatalf("%d buckets shared by layer branches, want the interleaved ones", shared)
		}

		leaf := func(k, v string) *store.APIFilter { return &store.APIFilter{Op: store.FilterLeaf, Key: k, Value: v} }
		id := func(n int64) string { return strconv.FormatInt(n, 10) }
		queries := map[string]*store.APIQuery{
			"all":           {},
			"master":        {Filter: leaf("layerbranch__branch__name", "master")},
			"meta-oe":       {Filter: leaf("layerbranch", id(oe))},
			"by layer":      {Filter: leaf("layerbranch__layer__name", "openembedded-core")},
			"in":            {Filter: leaf("layerbranch__in", id(oe)+","+id(core))},
			"not master":    {Filter: &store.APIFilter{Op: store.FilterNot, Args: []*store.APIFilter{leaf("layerbranch__branch__name", "master")}}},
			"or":            {Filter: &store.APIFilter{Op: store.FilterOr, Args: []*store.APIFilter{leaf("layerbranch", id(oe)), leaf("layerbranch__branch__name", "scarthgap")}}},
			"unpublished":   {Filter: leaf("layerbranch__layer__name", "meta-submitted")},
			"by collection": {Filter: leaf("layerbranch__collection", "core")},
		}
		read := func(q *store.APIQuery, chunks bool) []string { t.Helper(); return dumpObjects(t, s, q, chunks) }
		// served says whether q is answered from the chunks.
		served := func(q *store.APIQuery) bool {
			t.Helper()
			ok, err := s.APIRecipeDump(ctx, q, func(string) error { return nil })
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		same := func(stage string) {
			t.Helper()
			for name, q := range queries {
				got, want := read(q, true), read(q, false)
				if !slices.Equal(got, want) {
					t.Fatalf("%s, %s: the chunks serve %d objects, the rows %d (or others, or in another order)",
						stage, name, len(got), len(want))
				}
			}
		}
		for name, q := range queries {
			if !served(q) {
				t.Errorf("after indexing, %s is not served from the chunks", name)
			}
		}
		same("after indexing")
		if n := len(read(queries["all"], true)); n < 320 {
			t.Fatalf("%d recipes in the full dump", n)
		}
		if served(&store.APIQuery{Filter: leaf("pn", "dump001")}) ||
			served(&store.APIQuery{Filter: leaf("layerbranch__branch__name", "master"), Search: []string{"dump"}}) {
			t.Error("a filter on the recipe itself was served from the chunks")
		}

		// Through ApplyIndex: a change, a removal, an upgrade.
		if _, err := s.ApplyIndex(ctx, oe, &store.IndexChange{
			Deletes: []string{"recipes-dump/dump000_1.0.bb", "recipes-dump/dump017_1.0.bb"},
			Upserts: []store.RecipeData{
				{Recipe: store.Recipe{Filename: "dump001_1.0.bb", Filepath: "recipes-dump", PN: "dump001", PV: "1.0", Summary: "changed"}},
				{Recipe: store.Recipe{Filename: "dump016_2.0.bb", Filepath: "recipes-dump", PN: "dump016", PV: "2.0"}},
			}}); err != nil {
			t.Fatal(err)
		}
		if !served(queries["meta-oe"]) {
			t.Fatal("after ApplyIndex, meta-oe's dump is not served from the chunks")
		}
		same("after ApplyIndex")
		all := strings.Join(read(queries["meta-oe"], true), "\n")
		if !strings.Contains(all, `"summary":"changed"`) || strings.Contains(all, `"pn":"dump000"`) ||
			!strings.Contains(all, `"filename":"dump016_2.0.bb"`) {
			t.Fatal("the chunks do not hold ApplyIndex's change")
		}

		// A write that does not know the chunks.
		if err := conn.Gorm.Exec(`UPDATE recipes SET summary = 'by hand' WHERE pn = 'dump002'`).Error; err != nil {
			t.Fatal(err)
		}
		if served(queries["master"]) || served(queries["in"]) {
			t.Fatal("a dump of a layer branch changed by hand is still served from its chunks")
		}
		if !served(&store.APIQuery{Filter: leaf("layerbranch__branch__name", "scarthgap")}) {
			t.Error("the hand-written change made another branch's dump read the rows")
		}
		same("after a hand-written UPDATE")
		if !strings.Contains(strings.Join(read(queries["master"], true), "\n"), `"summary":"by hand"`) {
			t.Fatal("the hand-written change is not served")
		}
		n, err := s.FillRecipeDumps(ctx)
		if err != nil || n != 1 {
			t.Fatalf("FillRecipeDumps rewrote %d layer branches (%v), want 1", n, err)
		}
		if !served(queries["master"]) {
			t.Fatal("after FillRecipeDumps, the master dump is not served from the chunks")
		}
		same("after FillRecipeDumps")
		if n, err := s.FillRecipeDumps(ctx); err != nil || n != 0 {
			t.Fatalf("FillRecipeDumps again rewrote %d (%v)", n, err)
		}

		// A layer branch deleted takes its chunks along.
		if err := conn.Gorm.Exec(`DELETE FROM layer_branches WHERE id = ?`, oe).Error; err != nil {
			t.Fatal(err)
		}
		var left int
		if err := conn.SQL.QueryRow(`SELECT COUNT(*) FROM recipe_dump_chunks WHERE layer_branch_id = ` + id(oe)).Scan(&left); err != nil || left != 0 {
			t.Fatalf("%d chunks left of a deleted layer branch (%v)", left, err)
		}
		same("after deleting a layer branch")
	})
}

// TestRecipeDumpConcurrentWriter: a write that does not know the chunks,
// still uncommitted while ApplyIndex rewrites the same layer branch's
// chunks, is not lost behind a fresh mark — the migration's trigger takes
// the layer branch's lock, as refreshRecipeDump does, so the rewrite waits
// for it and reads it (on SQLite writers wait for each other anyway). The
// layer branch starts unmarked: a mark present would make the two wait on
// the mark's row instead.
func TestRecipeDumpConcurrentWriter(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		fx := storetest.Load(t, s)
		lb := fx.LayerBranch["meta-oe/master"].ID
		q := &store.APIQuery{Filter: &store.APIFilter{Op: store.FilterLeaf, Key: "layerbranch", Value: strconv.FormatInt(lb, 10)}}
		if err := conn.Gorm.Exec(`DELETE FROM recipe_dump_fresh WHERE layer_branch_id = ?`, lb).Error; err != nil {
			t.Fatal(err)
		}
		var id int64
		if err := conn.Gorm.Raw(`SELECT id FROM recipes WHERE layer_branch_id = ? ORDER BY id LIMIT 1`, lb).Scan(&id).Error; err != nil || id == 0 {
			t.Fatalf("no recipe (%v)", err)
		}
		tx, err := conn.SQL.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(`UPDATE recipes SET summary = 'by hand' WHERE id = ` + strconv.FormatInt(id, 10)); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			_, err := s.ApplyIndex(ctx, lb, &store.IndexChange{Upserts: []store.RecipeData{{Recipe: store.Recipe{
				Filename: "concurrent_1.0.bb", Filepath: "recipes-test", PN: "concurrent", PV: "1.0"}}}})
			done <- err
		}()
		time.Sleep(300 * time.Millisecond) // ApplyIndex reaches the lock
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		read := func(chunks bool) string { return strings.Join(dumpObjects(t, s, q, chunks), "\n") }
		rows := read(false)
		if !strings.Contains(rows, `"summary":"by hand"`) || !strings.Contains(rows, `"pn":"concurrent"`) {
			t.Fatal("the rows lack one of the two writes")
		}
		if got := read(true); got != rows {
			t.Fatalf("the dump serves chunks that lack the concurrent write:\n%s\nthe rows:\n%s", got, rows)
		}
	})
}

// dumpObjects is the recipe dump q selects, one object a line, read from
// the chunks or (chunks false) row by row.
func dumpObjects(t *testing.T, s *store.Store, q *store.APIQuery, chunks bool) []string {
	t.Helper()
	defer store.SetRecipeDumpChunks(chunks)()
	var out []string
	err := s.APIEachRecipe(context.Background(), q, func(x *store.Recipe, obj string) error {
		if obj == "" {
			obj = string(store.AppendRecipeJSON(nil, x))
		}
		// A copy: on PostgreSQL obj is a view of the driver's buffer,
		// valid only until the next row.
		out = append(out, strings.Clone(obj))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

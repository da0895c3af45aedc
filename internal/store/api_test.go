package store_test

import (
	"context"
	"sort"
	"strings"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/internal/store/storetest"
)

// apiTables are the tables the REST API and the cached pages serve from;
// each must move index_state on every insert, update and delete (migration
// 00004).
var apiTables = []string{"branches", "yp_compatible_versions", "layers", "layer_branches", "layer_maintainers",
	"layer_dependencies", "layer_notes", "recipes", "recipe_sources", "recipe_build_deps", "recipe_package_configs", "recipe_package_config_deps", "recipe_inherits",
	"recipe_file_deps", "recipe_patches", "machines", "distros", "bbclasses", "bbappends", "inc_files",
	"updates", "layer_updates", "layer_sets", "layer_set_layers"}

// TestIndexStateTriggers checks that every table the API reads has its
// triggers, and that an update or a delete in any of them, by any writer,
// changes the index version, while other tables leave it alone.
func TestIndexStateTriggers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		s := store.New(conn.Gorm)
		storetest.Load(t, s)
		conn.Gorm.Exec(`INSERT INTO yp_compatible_versions (name) VALUES ('5.0')`)
		conn.Gorm.Exec(`INSERT INTO recipe_patches (recipe_id, path) SELECT min(id), 'a.patch' FROM recipes`)
		u := &store.Update{}
		if err := s.CreateUpdate(ctx, u); err != nil {
			t.Fatal(err)
		}
		conn.Gorm.Exec(`INSERT INTO layer_sets (name, branch_id) SELECT 'a-set', min(id) FROM branches`)
		conn.Gorm.Exec(`INSERT INTO layer_set_layers (layer_set_id, layer_id) SELECT (SELECT min(id) FROM layer_sets), min(id) FROM layers`)
		conn.Gorm.Exec(`INSERT INTO layer_updates (update_id, layer_id, branch_id) SELECT ?, layer_id, branch_id FROM layer_branches`, u.ID)

		q := `SELECT event_object_table || ' ' || lower(event_manipulation) FROM information_schema.triggers WHERE trigger_name = 'index_state_bump'`
		if d == db.SQLite {
			q = `SELECT tbl_name || ' ' || substr(name, length('index_state_' || tbl_name || '_') + 1) FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'index_state_%'`
		}
		var got []string
		if err := conn.Gorm.Raw(q).Scan(&got).Error; err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, tb := range apiTables {
			for _, ev := range []string{"delete", "insert", "update"} {
				want = append(want, tb+" "+ev)
			}
		}
		sort.Strings(got)
		sort.Strings(want)
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("triggers:\n got  %v\n want %v", got, want)
		}

		version := func() int64 {
			v, err := s.APIIndexVersion(ctx)
			if err != nil {
				t.Fatal(err)
			}
			return v.Version
		}
		for i := range apiTables { // children first: deleting a parent row cascades
			tb := apiTables[len(apiTables)-1-i]
			for _, stmt := range []string{
				"UPDATE " + tb + " SET id = id WHERE id = (SELECT min(id) FROM " + tb + ")",
				"DELETE FROM " + tb + " WHERE id = (SELECT max(id) FROM " + tb + ")",
			} {
				before := version()
				res := conn.Gorm.Exec(stmt)
				if res.Error != nil || res.RowsAffected != 1 {
					t.Fatalf("%s: %v (%d rows)", stmt, res.Error, res.RowsAffected)
				}
				if version() == before {
					t.Errorf("%s left the index version unchanged", stmt)
				}
			}
		}
		before := version()
		if err := s.CreateUser(ctx, &store.User{Email: "ann@example.org"}); err != nil {
			t.Fatal(err)
		}
		if version() != before {
			t.Errorf("creating an account changed the index version")
		}
	})
}

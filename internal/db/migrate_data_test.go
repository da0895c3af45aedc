package db_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/pressly/goose/v3"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
	"layerindex/migrations"
)

// TestMigrationDropsPackageConfigFlags: migration 00009 removes the
// PACKAGECONFIG rows that are BitBake flags rather than features, keeps the
// features, and derives the build dependencies of the recipes concerned
// again from the rows that stay.
func TestMigrationDropsPackageConfigFlags(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Open(t, d)
		dialect := goose.DialectSQLite3
		if d == db.Postgres {
			dialect = goose.DialectPostgres
		}
		sub, _ := fs.Sub(migrations.FS, string(d))
		p, err := goose.NewProvider(dialect, conn.SQL, sub, goose.WithDisableGlobalRegistry(true))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := p.UpTo(ctx, 8); err != nil {
			t.Fatal(err)
		}
		s := store.New(conn.Gorm)
		b := &store.Branch{Name: "master", UpdatesEnabled: true}
		l := &store.Layer{Name: "meta-x", Status: store.StatusPublished, LayerType: store.TypeSoftware, VCSURL: "https://example.org/x.git"}
		if err := s.CreateBranch(ctx, b); err != nil {
			t.Fatal(err)
		}
		// Without the columns later migrations added (00019).
		if err := conn.Gorm.Omit("MasterForCompatible").Create(l).Error; err != nil {
			t.Fatal(err)
		}
		lb := &store.LayerBranch{LayerID: l.ID, BranchID: b.ID}
		// Without the columns later migrations added (00017, 00019, 00026).
		if err := conn.Gorm.Omit("SeriesCompat", "SeriesCorenames", "DeclaredDepends", "DeclaredRecommends", "FollowsMaster", "LayerFacts").Create(lb).Error; err != nil {
			t.Fatal(err)
		}
		pc := func(f, deps string) store.RecipePackageConfig {
			return store.RecipePackageConfig{Feature: f, BuildDeps: deps}
		}
		// The rows as ingestion wrote them before 00009 (written directly:
		// today's store writes tables the schema at 00008 lacks).
		rd := func(pn string, pcs ...store.RecipePackageConfig) {
			r := &store.Recipe{LayerBranchID: lb.ID, Filepath: "recipes", Filename: pn + "_1.0.bb", PN: pn, PV: "1.0"}
			if err := conn.Gorm.Create(r).Error; err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, c := range pcs {
				c.RecipeID = r.ID
				if err := conn.Gorm.Create(&c).Error; err != nil {
					t.Fatal(err)
				}
				for _, d := range strings.Fields(c.BuildDeps) {
					if !seen[d] {
						seen[d] = true
						if err := conn.Gorm.Omit("BranchID").Create(&store.RecipePackageConfigDep{RecipeID: r.ID, Name: d}).Error; err != nil { // no branch_id before 00023
							t.Fatal(err)
						}
					}
				}
			}
		}
		rd("libblockdev", pc("doc", "gtk-doc-native"), pc("vardepvalue", ""), pc("python", "python3"), pc("lvm", "lvm2 python3"))
		rd("plain", pc("vardepvalue", ""), pc("x11", "libx11"))
		rd("none", pc("export", ""))
		if _, err := p.UpTo(ctx, 9); err != nil {
			t.Fatal(err)
		}
		rows := func(q string) map[string][]string {
			var out []struct{ PN, V string }
			if err := conn.Gorm.Raw(q).Scan(&out).Error; err != nil {
				t.Fatal(err)
			}
			m := map[string][]string{}
			for _, r := range out {
				m[r.PN] = append(m[r.PN], r.V)
			}
			return m
		}
		features := rows(`SELECT r.pn, c.feature AS v FROM recipe_package_configs c JOIN recipes r ON r.id = c.recipe_id ORDER BY r.pn, c.feature`)
		deps := rows(`SELECT r.pn, d.name AS v FROM recipe_package_config_deps d JOIN recipes r ON r.id = d.recipe_id ORDER BY r.pn, d.name`)
		if !slices.Equal(features["libblockdev"], []string{"lvm", "python"}) || !slices.Equal(features["plain"], []string{"x11"}) || len(features["none"]) != 0 {
			t.Errorf("features after the migration: %v", features)
		}
		if !slices.Equal(deps["libblockdev"], []string{"lvm2", "python3"}) || !slices.Equal(deps["plain"], []string{"libx11"}) || len(deps) != 2 {
			t.Errorf("build dependencies after the migration: %v", deps)
		}
	})
}

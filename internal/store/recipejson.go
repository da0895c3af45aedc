package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"

	"layerindex/internal/jsonw"
)

// Each recipe row keeps its API object (the bytes the recipes endpoint
// writes for it, AppendRecipeJSON) in recipes.api_json, so the full dump of
// a branch — 3,451 recipes on the real master branch, 45,000 at the size of
// the public index — reads one column per row and copies it, instead of
// reading 21 columns and encoding them (most of the dump's CPU: the SQLite
// driver's per-column cost, PostgreSQL's per-column output, the time
// parsing and the encoding; bench/README.md, "Recipe dump from stored
// JSON").
//
// One owner keeps it true: every write of a recipe row goes through
// ApplyIndex, which re-reads the rows it wrote, in the same transaction,
// and stores their objects (refreshRecipeJSON); every field of the object
// is a column of that row. A trigger of migration 00027 clears api_json
// when any of those columns changes without api_json being rewritten (a
// writer that does not know the column: an older build on a replica, a
// hand-written UPDATE), and rows written before the migration have none:
// the dump encodes such rows from their columns (APIEachRecipe), and
// FillRecipeJSON fills them in.
//
// The object's bytes depend on this encoder: a change to what it writes
// needs a migration that sets recipes.api_json to NULL (the test
// TestRecipeJSONEncoderUnchanged holds a digest of its output to remind
// of it).

// AppendRecipeJSON appends the recipes endpoint's object for x: its keys in
// upstream's order.
func AppendRecipeJSON(b []byte, x *Recipe) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendInt(b, x.ID, 10)
	b = AppendRecipeFields(b, x)
	return append(b, '}')
}

// AppendRecipeFields appends every key of a recipe's object but id, each
// preceded by a comma (recipesExtended writes them after its own keys).
func AppendRecipeFields(b []byte, x *Recipe) []byte {
	str := func(b []byte, k, v string) []byte {
		b = append(b, ',', '"')
		b = append(b, k...)
		b = append(b, '"', ':')
		return jsonw.Quote(b, v)
	}
	b = str(b, "filename", x.Filename)
	b = str(b, "filepath", x.Filepath)
	b = str(b, "pn", x.PN)
	b = str(b, "pv", x.PV)
	b = str(b, "pr", x.PR)
	b = str(b, "pe", x.PE)
	b = str(b, "summary", x.Summary)
	b = str(b, "description", x.Description)
	b = str(b, "section", x.Section)
	b = str(b, "license", x.License)
	b = str(b, "homepage", x.Homepage)
	b = str(b, "bugtracker", x.Bugtracker)
	b = str(b, "provides", x.Provides)
	b = str(b, "bbclassextend", x.BBClassExtend)
	b = str(b, "inherits", x.Inherits)
	b = append(b, `,"updated":"`...)
	b = jsonw.AppendTime(b, x.UpdatedAt)
	b = append(b, '"')
	b = str(b, "blacklisted", x.Blacklisted)
	b = str(b, "configopts", x.ConfigOpts)
	b = str(b, "srcrev", x.SrcRev)
	b = append(b, `,"layerbranch":`...)
	return strconv.AppendInt(b, x.LayerBranchID, 10)
}

// recipeJSONBatch is how many objects one UPDATE stores (two parameters
// each).
const recipeJSONBatch = 250

// refreshRecipeJSON stores the API object of each recipe of ids as its row
// now reads in tx (rows that no longer exist are skipped). On PostgreSQL
// the rows are locked first, so no other transaction changes a row between
// the read and the write; on SQLite the transaction already writes, and
// writers are serialised.
func refreshRecipeJSON(tx *gorm.DB, ids []int64) error {
	pg := tx.Dialector.Name() == "postgres"
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var b []byte
	for chunk := range slices.Chunk(ids, recipeJSONBatch) {
		q := `SELECT ` + recipeColumns + ` FROM recipes WHERE id IN ?`
		if pg {
			q += ` ORDER BY id FOR UPDATE`
		}
		rows, err := tx.Raw(q, chunk).Rows()
		if err != nil {
			return err
		}
		var args []any
		var x Recipe
		for rows.Next() {
			if err := rows.Scan(recipeFields(&x)...); err != nil {
				rows.Close()
				return err
			}
			b = AppendRecipeJSON(b[:0], &x)
			args = append(args, x.ID, string(b))
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(args) == 0 {
			continue
		}
		// One statement per batch: a CTE of (id, object) pairs, which both
		// databases join in an UPDATE … FROM.
		var sb strings.Builder
		sb.WriteString(`WITH v (id, j) AS (VALUES `)
		for i := 0; i < len(args); i += 2 {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(CAST(? AS BIGINT), ?)")
		}
		sb.WriteString(`) UPDATE recipes SET api_json = v.j FROM v WHERE recipes.id = v.id`)
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("storing recipes' API objects: %w", err)
		}
	}
	return nil
}

// FillRecipeJSON stores the API object of every recipe that has none (rows
// written before migration 00027, or cleared by its trigger), batch by
// batch, each in a transaction of its own; it returns how many it filled.
// Servers and workers run it at start; the dump serves such rows correctly
// meanwhile, only slower.
func (s *Store) FillRecipeJSON(ctx context.Context) (int, error) {
	n := 0
	after := int64(0)
	for {
		var ids []int64
		if err := s.with(ctx).Raw(`SELECT id FROM recipes WHERE api_json IS NULL AND id > ? ORDER BY id LIMIT ?`,
			after, recipeJSONBatch).Scan(&ids).Error; err != nil {
			return n, err
		}
		if len(ids) == 0 {
			return n, nil
		}
		after = ids[len(ids)-1]
		if err := s.with(ctx).Transaction(func(tx *gorm.DB) error { return refreshRecipeJSON(tx, ids) }); err != nil {
			return n, err
		}
		n += len(ids)
	}
}

// recipeObj is a recipe's id and stored API object, as the dump reads them.
type recipeObj struct {
	ID  int64
	Obj string
}

func recipeObjFields(r *recipeObj) []any { return []any{&r.ID, &r.Obj} }

var recipeObjCols = qualify(`id, api_json`)

// recipesUnstoredMax is how many recipes without a stored object a dump
// reads ahead (see APIEachRecipe); with more, it encodes every row.
var recipesUnstoredMax = 200

// APIEachRecipe calls fn with each recipe q selects (see apiEach): either
// with obj, the recipe's stored API object (x then holds only the ID), or,
// with obj "", with x read from its columns. A selection of whole layer
// branches is read from their chunks (apiRecipeDump). Otherwise, ordered
// by id (no orderby), the rows are read from the stored objects: first the
// few rows q selects that have none (up to recipesUnstoredMax; with more,
// the whole list is read from the columns), then the stored objects in one
// streamed query, the rows of the first merged in by id.
func (s *Store) APIEachRecipe(ctx context.Context, q *APIQuery, fn func(x *Recipe, obj string) error) error {
	all := func() error {
		return apiEach(ctx, s, "Recipe", q, recipeStreamCols, recipeFields, func(x *Recipe) error { return fn(x, "") })
	}
	if len(q.OrderBy) > 0 || apiModels["Recipe"].order != "" {
		return all() // the merge below is by id
	}
	var only Recipe
	ok, err := s.apiRecipeDump(ctx, q, func(obj string) error {
		only.ID = int64(dumpObjectID(obj))
		return fn(&only, obj)
	})
	if ok || err != nil {
		return err
	}
	unstored, err := s.apiRecipesUnstored(ctx, q)
	if err != nil {
		return err
	}
	if len(unstored) > recipesUnstoredMax {
		return all()
	}
	var query string
	var args []any
	if s.db.Dialector.Name() == "postgres" {
		query, args, err = s.apiSelectWhere("Recipe", q, recipeObjCols, "t0.api_json IS NOT NULL")
	} else {
		// SQLite: the rows of the selected ids, looked up in id order. The
		// plain query reads them along the index of its filter and sorts
		// the objects in a temporary B-tree: the sorter's copies of the
		// 2.6 MB of the real master branch, and the memory it allocates
		// and returns to the system at each dump, were a third of the
		// dump's CPU.
		var inner string
		inner, args, err = s.apiSelect("Recipe", q, "t0.id")
		query = "SELECT " + recipeObjCols + " FROM recipes t0 WHERE t0.id IN (" +
			strings.TrimSuffix(inner, " ORDER BY t0.id") + ") AND t0.api_json IS NOT NULL ORDER BY t0.id"
	}
	if err != nil {
		return err
	}
	// Each query sees its own snapshot: a row filled in between is in
	// both (served once), one cleared in between in neither.
	err = eachRow(ctx, s, query, args, recipeObjFields, func(r *recipeObj) error {
		for len(unstored) > 0 && unstored[0].ID <= r.ID {
			x := &unstored[0]
			unstored = unstored[1:]
			if err := fn(x, ""); err != nil {
				return err
			}
			if x.ID == r.ID {
				return nil
			}
		}
		only.ID = r.ID
		return fn(&only, r.Obj)
	})
	if err != nil {
		return err
	}
	for i := range unstored {
		if err := fn(&unstored[i], ""); err != nil {
			return err
		}
	}
	return nil
}

// apiRecipesUnstored reads the recipes q selects that have no stored object,
// in id order, up to one more than recipesUnstoredMax. It first asks
// whether any recipe lacks one, along the partial index of migration 00027:
// once every row has its object, that is all it costs.
func (s *Store) apiRecipesUnstored(ctx context.Context, q *APIQuery) ([]Recipe, error) {
	var one []int64
	if err := s.with(ctx).Raw(`SELECT id FROM recipes WHERE api_json IS NULL LIMIT 1`).Scan(&one).Error; err != nil {
		return nil, err
	}
	if len(one) == 0 {
		return nil, nil
	}
	query, args, err := s.apiSelectWhere("Recipe", q, recipeStreamCols, "t0.api_json IS NULL")
	if err != nil {
		return nil, err
	}
	rows, err := s.with(ctx).Raw(query+" LIMIT "+strconv.Itoa(recipesUnstoredMax+1), args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Recipe
	for rows.Next() {
		var x Recipe
		if err := rows.Scan(recipeFields(&x)...); err != nil {
			return nil, err
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

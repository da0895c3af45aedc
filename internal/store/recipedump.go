package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// A dump of whole layer branches — recipes/?filter=layerbranch__branch__name:
// master, what bitbake-layers layerindex-fetch and other indexes' importers
// fetch: 3,451 objects (2.6 MB) on the real master branch, 45,000 at the
// size of the public index — is read from chunks of the recipes' stored API
// objects instead of row by row (migration 00028): a chunk is the objects
// of one layer branch whose ids fall in one bucket of recipeDumpBucket
// ids, in id order, separated by newlines (the encoder escapes every
// newline inside a string, so none is inside an object). The dump reads the
// chunks of the selected layer branches in bucket order and merges only the
// few that share a bucket, so its output is the same objects in the same
// order as the row by row read, with a few dozen rows instead of thousands:
// on SQLite the per-row cost of the engine and of its driver, on PostgreSQL
// the per-row protocol and the join of every row with its layer branch's
// filter, were most of the dump's time (bench/README.md, "Recipe dump by
// layer branch").
//
// One owner keeps the chunks true: ApplyIndex rewrites a layer branch's
// chunks in the transaction that writes its recipes (refreshRecipeDump) and
// marks them fresh (recipe_dump_fresh). Any other write of a recipe row
// (an older build, a hand-written UPDATE) removes the mark through the
// migration's trigger, and the dump of a selection with an unmarked layer
// branch that has recipes reads the rows as before; FillRecipeDumps, at
// start, rewrites what is unmarked.

// recipeDumpBucket is how many consecutive recipe ids one bucket spans: a
// chunk is at most that many objects (≈ 190 KB at the corpus's 750 bytes
// each), and the merge of one bucket's chunks holds no more.
const recipeDumpBucket = 256

// recipeDumpChunks turns the dump by chunks on (tests turn it off to
// compare with the rows).
var recipeDumpChunks = true

// refreshRecipeDump rewrites the chunks of layer branch lbID from its
// recipes' stored objects, in tx, when wrote says this transaction wrote
// recipes of it or they are not marked fresh, and marks them fresh.
func refreshRecipeDump(tx *gorm.DB, lbID int64, wrote bool) error {
	if tx.Dialector.Name() == "postgres" {
		// Taken as the trigger of migration 00028 takes it: a concurrent
		// writer of this layer branch's recipes waits for this
		// transaction, or this one for it.
		if err := tx.Exec(`SELECT id FROM layer_branches WHERE id = ? FOR NO KEY UPDATE`, lbID).Error; err != nil {
			return fmt.Errorf("locking layer branch %d: %w", lbID, err)
		}
	}
	if !wrote {
		var fresh []int64
		if err := tx.Raw(`SELECT layer_branch_id FROM recipe_dump_fresh WHERE layer_branch_id = ?`, lbID).Scan(&fresh).Error; err != nil {
			return err
		}
		if len(fresh) > 0 {
			return nil
		}
	}
	// Rows whose object a writer that does not know it cleared
	// (migration 00027) get theirs first.
	var missing []int64
	if err := tx.Raw(`SELECT id FROM recipes WHERE layer_branch_id = ? AND api_json IS NULL`, lbID).Scan(&missing).Error; err != nil {
		return err
	}
	if err := refreshRecipeJSON(tx, missing); err != nil {
		return err
	}
	if err := tx.Exec(`DELETE FROM recipe_dump_chunks WHERE layer_branch_id = ?`, lbID).Error; err != nil {
		return err
	}
	rows, err := tx.Raw(`SELECT id, api_json FROM recipes WHERE layer_branch_id = ? ORDER BY id`, lbID).Rows()
	if err != nil {
		return err
	}
	type chunk struct {
		bucket int64
		objs   []byte
	}
	var chunks []chunk
	complete := true
	for rows.Next() {
		var id int64
		var obj *string
		if err := rows.Scan(&id, &obj); err != nil {
			rows.Close()
			return err
		}
		if obj == nil {
			complete = false // cleared meanwhile: leave the layer branch unmarked
			continue
		}
		b := id / recipeDumpBucket
		if n := len(chunks); n == 0 || chunks[n-1].bucket != b {
			chunks = append(chunks, chunk{bucket: b})
		} else {
			chunks[n-1].objs = append(chunks[n-1].objs, '\n')
		}
		c := &chunks[len(chunks)-1]
		c.objs = append(c.objs, *obj...)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range chunks {
		if err := tx.Exec(`INSERT INTO recipe_dump_chunks (layer_branch_id, bucket, objs) VALUES (?, ?, ?)`,
			lbID, c.bucket, string(c.objs)).Error; err != nil {
			return fmt.Errorf("storing the recipe dump of layer branch %d: %w", lbID, err)
		}
	}
	if !complete {
		return nil
	}
	return tx.Exec(`INSERT INTO recipe_dump_fresh (layer_branch_id) VALUES (?) ON CONFLICT DO NOTHING`, lbID).Error
}

// FillRecipeDumps rewrites the chunks of every layer branch that has
// recipes and no fresh chunks (an index written before migration 00028, or
// written by a build that does not know them), each in a transaction of its
// own; it returns how many it rewrote. Servers and workers run it at start,
// after FillRecipeJSON.
func (s *Store) FillRecipeDumps(ctx context.Context) (int, error) {
	var ids []int64
	if err := s.with(ctx).Raw(`SELECT lb.id FROM layer_branches lb
		WHERE NOT EXISTS (SELECT 1 FROM recipe_dump_fresh f WHERE f.layer_branch_id = lb.id)
		AND EXISTS (SELECT 1 FROM recipes r WHERE r.layer_branch_id = lb.id) ORDER BY lb.id`).Scan(&ids).Error; err != nil {
		return 0, err
	}
	for i, id := range ids {
		if err := s.with(ctx).Transaction(func(tx *gorm.DB) error { return refreshRecipeDump(tx, id, false) }); err != nil {
			return i, err
		}
	}
	return len(ids), nil
}

// recipeDumpModel is the Recipe model with layer_branches as its table: a
// filter whose every condition goes through the recipe's layerbranch
// compiles against it to the same condition on the layer branch (the
// compiled filter of such a recipe reads only its layer_branch_id, here the
// layer branch's id), and any other filter fails to compile.
var recipeDumpModel = &apiModel{name: "Recipe", table: "layer_branches",
	rels:    []apiRel{fk("layerbranch", "LayerBranch", "id")},
	visible: visibleByLayer}

// errDumpStale stops a dump by chunks before it writes anything.
var errDumpStale = errors.New("recipe dump chunks not fresh")

// apiRecipeDump serves q from the chunks when q selects whole layer
// branches (see recipeDumpModel), in id order, and every selected layer
// branch with recipes has fresh chunks. It returns false, having called fn
// for nothing, when q is not such a query or the chunks are not fresh. As
// with apiEach, fn must not keep obj: on PostgreSQL it is a view of the
// driver's buffer, valid until the next row.
func (s *Store) apiRecipeDump(ctx context.Context, q *APIQuery, fn func(obj string) error) (bool, error) {
	if !recipeDumpChunks || q.ID > 0 || len(q.Search) > 0 || len(q.OrderBy) > 0 || apiModels["Recipe"].order != "" {
		return false, nil
	}
	b := &sqlBuilder{pg: s.db.Dialector.Name() == "postgres"}
	sel, err := b.selectWhere(recipeDumpModel, q, "t0.id", "")
	if err != nil {
		return false, nil // not a filter on layer branches alone; the rows answer (or say what is wrong)
	}
	sel = strings.TrimSuffix(sel, " ORDER BY t0.id")
	withSel := `WITH sel (id) AS (` + sel + `) `
	stale := ` FROM sel WHERE NOT EXISTS (SELECT 1 FROM recipe_dump_fresh f WHERE f.layer_branch_id = sel.id)
			AND EXISTS (SELECT 1 FROM recipes r WHERE r.layer_branch_id = sel.id)`
	var query string
	if b.pg {
		// One statement, so one snapshot: first a row for each selected
		// layer branch whose chunks are not fresh (bucket -1), then the
		// chunks, each with how many share its bucket (n).
		query = withSel + `SELECT -1, 0, ''` + stale + ` UNION ALL
			SELECT c.bucket, COUNT(*) OVER (PARTITION BY c.bucket), c.objs FROM recipe_dump_chunks c
			WHERE c.layer_branch_id IN (SELECT id FROM sel) ORDER BY 1`
	} else {
		// SQLite copies what it sorts into its sorter, which spills the
		// chunks to temporary files: the check first, then the chunks
		// along the bucket index, n unknown (0).
		var n []int64
		if err := s.with(ctx).Raw(withSel+"SELECT sel.id"+stale+" LIMIT 1", b.args...).Scan(&n).Error; err != nil {
			return false, err
		}
		if len(n) > 0 {
			return false, nil
		}
		query = withSel + `SELECT c.bucket, 0, c.objs FROM recipe_dump_chunks c INDEXED BY recipe_dump_chunks_bucket_idx
			WHERE c.layer_branch_id IN (SELECT id FROM sel) ORDER BY c.bucket`
	}
	emit := func(chunk string) error {
		for len(chunk) > 0 {
			obj, rest, _ := strings.Cut(chunk, "\n")
			if err := fn(obj); err != nil {
				return err
			}
			chunk = rest
		}
		return nil
	}
	// The chunks of the bucket being read, when it may have several: on
	// PostgreSQL a chunk is a view of the driver's buffer until the next
	// row, so they are copies.
	var shared []string
	bucket := int64(-1)
	flush := func() error {
		switch len(shared) {
		case 0:
			return nil
		case 1:
			err := emit(shared[0])
			shared = shared[:0]
			return err
		}
		var objs []string
		for _, ch := range shared {
			objs = append(objs, strings.Split(ch, "\n")...)
		}
		shared = shared[:0]
		slices.SortFunc(objs, func(a, b string) int { return dumpObjectID(a) - dumpObjectID(b) })
		for _, o := range objs {
			if err := fn(o); err != nil {
				return err
			}
		}
		return nil
	}
	err = eachRow(ctx, s, query, b.args, dumpChunkFields, func(c *dumpChunk) error {
		switch {
		case c.bucket < 0:
			return errDumpStale
		case c.n == 1:
			return emit(c.objs)
		}
		if c.bucket != bucket {
			if err := flush(); err != nil {
				return err
			}
			bucket = c.bucket
		}
		obj := c.objs
		if b.pg {
			obj = strings.Clone(obj)
		}
		shared = append(shared, obj)
		if c.n > 1 && len(shared) == c.n {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	if errors.Is(err, errDumpStale) {
		return false, nil
	}
	return true, err
}

// dumpChunk is a row of apiRecipeDump's query.
type dumpChunk struct {
	bucket int64
	n      int
	objs   string
}

func dumpChunkFields(c *dumpChunk) []any { return []any{&c.bucket, &c.n, &c.objs} }

// dumpObjectID reads the id an object starts with ({"id":N,…); objects in
// one bucket differ in it by less than recipeDumpBucket.
func dumpObjectID(obj string) int {
	s := strings.TrimPrefix(obj, `{"id":`)
	end := strings.IndexByte(s, ',')
	if end < 0 {
		end = len(s)
	}
	n, _ := strconv.Atoi(s[:end])
	return n
}

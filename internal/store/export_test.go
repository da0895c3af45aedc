package store

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/stdlib"
)

// PGRecipeDocument exposes the indexed expression to tests.
const PGRecipeDocument = pgRecipeDocument

// SearchRecipesReference is SearchRecipes as it was before issue 13 (one
// query ranking and counting every match): the new one must give the same
// pages, and the same totals up to its bounded count.
func (s *Store) SearchRecipesReference(ctx context.Context, branch *Branch, q RecipeQuery, sort string, p Page) (Paged[RecipeRow], error) {
	p = p.norm()
	out := Paged[RecipeRow]{Page: p}
	where := []string{"lb.branch_id = ?", "l.status IN ?", "NOT l.comparison"}
	args := []any{branch.ID, publishedStatuses}
	for _, pn := range q.PN {
		where = append(where, "r.pn = ?")
		args = append(args, pn)
	}
	for _, d := range q.Depends {
		where = append(where, `(r.id IN (SELECT recipe_id FROM recipe_build_deps WHERE name = ?)
  OR r.id IN (SELECT recipe_id FROM recipe_package_config_deps WHERE name = ?))`)
		args = append(args, d, d)
	}
	for _, c := range q.Inherits {
		where = append(where, "r.id IN (SELECT recipe_id FROM recipe_inherits WHERE name = ?)")
		args = append(args, c)
	}
	if q.Layer != "" {
		l, err := s.PublishedLayer(ctx, q.Layer)
		if errors.Is(err, ErrNotFound) && q.Layer == "oe-core" {
			l, err = s.PublishedLayer(ctx, "openembedded-core")
		}
		if errors.Is(err, ErrNotFound) {
			return out, ErrUnknownLayer
		} else if err != nil {
			return out, err
		}
		where = append(where, "lb.layer_id = ?")
		args = append(args, l.ID)
	}
	rank, rankArgs := "0", []any{}
	with, withArgs := "", []any{}
	if len(q.Terms) > 0 {
		var inName []string
		var nameArgs []any
		for _, t := range q.Terms {
			inName = append(inName, `lower(r.pn) LIKE ? ESCAPE '\'`)
			nameArgs = append(nameArgs, likeContains(strings.ToLower(t)))
		}
		nameCond := "(" + strings.Join(inName, " AND ") + ")"
		whole := strings.ToLower(strings.Join(q.Terms, " "))
		rank = `CASE WHEN lower(r.pn) = ? THEN 0 WHEN lower(r.pn) LIKE ? ESCAPE '\' THEN 1 WHEN ` + nameCond + ` THEN 2 ELSE 3 END`
		rankArgs = append([]any{whole, escapeLike(whole) + "%"}, nameArgs...)
		if fts, arg := s.ftsQuery(q.Terms); fts != "" {
			with, withArgs = "WITH fts AS MATERIALIZED ("+fts+") ", []any{arg}
			where = append(where, "("+nameCond+" OR r.id IN (SELECT id FROM fts))")
			args = append(args, nameArgs...)
		} else {
			where = append(where, nameCond)
			args = append(args, nameArgs...)
		}
	}
	from := ` FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE ` + strings.Join(where, " AND ")
	db := s.with(ctx)
	order, ok := searchSorts[sort]
	if !ok {
		order = "search_rank, lower(r.pn) %[1]s, l.index_preference DESC, l.name %[1]s, r.id"
	}
	all := append(append(append(append([]any{}, withArgs...), rankArgs...), args...), p.Size, p.Offset())
	err := db.Raw(with+`SELECT r.id, r.pn, r.pv, r.filename, r.filepath, r.summary, r.description, r.license, r.inherits,
       r.blacklisted, r.skip_reason, r.unevaluated, l.name AS layer_name, `+rank+` AS search_rank`+from+
		` ORDER BY `+s.collate(order)+` LIMIT ? OFFSET ?`, all...).Scan(&out.Items).Error
	if err != nil {
		return out, err
	}
	countArgs := append(append([]any{}, withArgs...), args...)
	return out, fillTotal(&out, func(n *int64) error { return db.Raw(with+"SELECT COUNT(*)"+from, countArgs...).Scan(n).Error })
}

// SetSortRowsMin changes the number of rows from which a streamed list is
// read without a sort, until the returned function restores it.
func SetSortRowsMin(n int) (restore func()) {
	old := sortRowsMin
	sortRowsMin = n
	return func() { sortRowsMin = old }
}

// SortVerdictChecks is how many plan checks (sortsTable) s asked of the database.
func (s *Store) SortVerdictChecks() int {
	s.verdicts.mu.Lock()
	defer s.verdicts.mu.Unlock()
	return s.verdicts.checks
}

// AgeSortVerdicts makes s's kept verdicts older than their time.
func (s *Store) AgeSortVerdicts() {
	s.verdicts.mu.Lock()
	defer s.verdicts.mu.Unlock()
	for k, v := range s.verdicts.m {
		v.at = v.at.Add(-verdictTTL)
		s.verdicts.m[k] = v
	}
}

// APISortsTable is sortsTable's verdict on the list q selects of model (PostgreSQL).
func (s *Store) APISortsTable(ctx context.Context, model string, q *APIQuery, cols string) (bool, error) {
	query, args, err := s.apiSelect(model, q, cols)
	if err != nil {
		return false, err
	}
	sqlDB, err := s.db.DB()
	if err != nil {
		return false, err
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	var sorts bool
	err = conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("not a pgx connection")
		}
		sorts = sortsTable(ctx, c.Conn(), dollarPlaceholders(query), args)
		return nil
	})
	return sorts, err
}

// RecipeStreamCols are the columns of a streamed recipe list.
var RecipeStreamCols = recipeStreamCols

// LoadDependentsIndexReference is LoadDependentsIndex as it was before it
// joined each dependency table with the branch on its own: its Dependents
// must be the same.
func (s *Store) LoadDependentsIndexReference(ctx context.Context, branchID int64) (*DependentsIndex, error) {
	var rows []dependentRow
	err := s.with(ctx).Raw(`SELECT r.id, r.pn, r.pv, l.name AS layer_name, l.index_preference, d.name, d.dynamic FROM (
  SELECT recipe_id, name, FALSE AS dynamic FROM recipe_build_deps
  UNION SELECT recipe_id, name, TRUE AS dynamic FROM recipe_package_config_deps) d
JOIN recipes r ON r.id = d.recipe_id JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE lb.branch_id = ? AND l.status IN ? AND NOT l.comparison`, branchID, publishedStatuses).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	x := &DependentsIndex{byName: map[string][]dependentRow{}}
	for _, r := range rows {
		x.byName[r.Name] = append(x.byName[r.Name], r)
	}
	return x, nil
}

// SetRecipesUnstoredMax changes how many recipes without a stored API
// object a dump reads ahead; it returns a function restoring it.
func SetRecipesUnstoredMax(n int) func() {
	old := recipesUnstoredMax
	recipesUnstoredMax = n
	return func() { recipesUnstoredMax = old }
}

// SetRecipeDumpChunks turns the recipe dump by chunks on or off (off: the
// rows are read one by one, as before migration 00028).
func SetRecipeDumpChunks(on bool) (restore func()) {
	old := recipeDumpChunks
	recipeDumpChunks = on
	return func() { recipeDumpChunks = old }
}

// APIRecipeDump is apiRecipeDump: whether q was served from the chunks.
func (s *Store) APIRecipeDump(ctx context.Context, q *APIQuery, fn func(obj string) error) (bool, error) {
	return s.apiRecipeDump(ctx, q, fn)
}

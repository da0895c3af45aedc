package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Recipe search: upstream's query language (pn:, depends:, inherits:,
// layer:, quoted phrases) with better ranking — exact name, then name
// prefix, then every word in the name, then full-text matches in the
// summary or description (PostgreSQL: a GIN expression index; SQLite: FTS5),
// each group by name and layer, in the same order on both databases.

// RecipeQuery is a parsed recipe search.
type RecipeQuery struct {
	PN       []string // exact names
	Depends  []string // in DEPENDS or a PACKAGECONFIG's build dependencies
	Inherits []string // classes inherited
	Layer    string   // layer name
	Terms    []string // free words and quoted phrases
}

// Empty reports whether the query selects everything.
func (q RecipeQuery) Empty() bool {
	return len(q.PN)+len(q.Depends)+len(q.Inherits)+len(q.Terms) == 0 && q.Layer == ""
}

// QueryError is a recipe query that cannot be run, with a message for the
// person who typed it.
type QueryError struct{ Msg string }

func (e *QueryError) Error() string { return e.Msg }

// Limits on a query string: beyond them it is refused rather than run.
const (
	MaxQueryLen   = 256
	maxQueryItems = 16
)

// ParseRecipeQuery reads a query string: words separated by spaces, phrases
// in double or single quotes, and prefixed words pn:NAME, depends:NAME,
// inherits:CLASS and layer:NAME (layer:oe-core means openembedded-core).
func ParseRecipeQuery(s string) (RecipeQuery, error) {
	var q RecipeQuery
	if len(s) > MaxQueryLen {
		return q, &QueryError{fmt.Sprintf("The query is too long (%d characters; at most %d).", len(s), MaxQueryLen)}
	}
	items, err := splitQuery(s)
	if err != nil {
		return q, err
	}
	if len(items) > maxQueryItems {
		return q, &QueryError{fmt.Sprintf("The query has too many words (%d; at most %d).", len(items), maxQueryItems)}
	}
	for _, it := range items {
		prefix, value, found := strings.Cut(it.text, ":")
		if it.quoted || !found {
			q.Terms = append(q.Terms, it.text)
			continue
		}
		value = strings.TrimSpace(value)
		switch strings.ToLower(prefix) {
		case "pn", "depends", "inherits", "layer":
			if value == "" {
				return q, &QueryError{fmt.Sprintf("%q must be followed by a name, without a space.", strings.ToLower(prefix)+":")}
			}
		}
		switch strings.ToLower(prefix) {
		case "pn":
			q.PN = append(q.PN, strings.ToLower(value))
		case "depends":
			q.Depends = append(q.Depends, value)
		case "inherits":
			q.Inherits = append(q.Inherits, value)
		case "layer":
			if q.Layer != "" && q.Layer != strings.ToLower(value) {
				return q, &QueryError{"Only one layer: can be given."}
			}
			q.Layer = strings.ToLower(value)
		default:
			q.Terms = append(q.Terms, it.text)
		}
	}
	return q, nil
}

type queryItem struct {
	text   string
	quoted bool
}

// splitQuery splits like a shell: quotes group words, an unclosed quote is
// an error.
func splitQuery(s string) ([]queryItem, error) {
	var (
		items  []queryItem
		cur    strings.Builder
		inWord bool
		quoted bool
	)
	flush := func() {
		if inWord {
			if t := strings.TrimSpace(cur.String()); t != "" {
				items = append(items, queryItem{t, quoted})
			}
		}
		cur.Reset()
		inWord, quoted = false, false
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '"' || r == '\'':
			end := -1
			for j := i + 1; j < len(rs); j++ {
				if rs[j] == r {
					end = j
					break
				}
			}
			if end < 0 {
				return nil, &QueryError{"The query has an unclosed quote."}
			}
			cur.WriteString(string(rs[i+1 : end]))
			inWord, quoted = true, true
			i = end
		case unicode.IsSpace(r):
			flush()
		case unicode.IsControl(r):
			return nil, &QueryError{"The query contains control characters."}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	flush()
	return items, nil
}

// ErrUnknownLayer is returned for a layer: that names no published layer.
var ErrUnknownLayer = errors.New("unknown layer")

// searchTokens splits text into the words the full-text indexes hold:
// lower-case runs of letters and digits.
func searchTokens(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// pgRecipeDocument is the indexed expression of migrations/postgres/00003_search_and_page_cache.sql;
// the two must be identical for PostgreSQL to use the index.
const pgRecipeDocument = `to_tsvector('simple'::regconfig, translate(summary || ' ' || description, ` +
	`'!"#$%&''()*+,-./:;<=>@[\]^_` + "`" + `{|}~', '                               '))`

// ftsQuery is a query of the ids of recipes whose summary or description
// contain every term (each a word prefix, or a phrase whose last word is a
// prefix), and its argument; "" when no term has a word. It is run as a
// materialized CTE: inside an OR, PostgreSQL would otherwise evaluate it as
// a hashed subplan with a sequential scan that computes every recipe's
// document (about 50× slower than the index on real layers).
func (s *Store) ftsQuery(terms []string) (string, any) {
	pg := s.db.Dialector.Name() == "postgres"
	var parts []string
	for _, t := range terms {
		toks := searchTokens(t)
		if len(toks) == 0 {
			continue
		}
		if pg {
			parts = append(parts, strings.Join(toks, " <-> ")+":*")
		} else {
			parts = append(parts, `"`+strings.Join(toks, " ")+`"*`)
		}
	}
	if len(parts) == 0 {
		return "", nil
	}
	if pg {
		return "SELECT id FROM recipes WHERE " + pgRecipeDocument + " @@ to_tsquery('simple', ?)",
			strings.Join(parts, " & ")
	}
	return "SELECT rowid AS id FROM recipes_fts WHERE recipes_fts MATCH ?", strings.Join(parts, " AND ")
}

// searchSorts are the orders of search results besides relevance.
var searchSorts = map[string]string{
	"name":     "lower(r.pn) %[1]s, l.index_preference DESC, l.name %[1]s, r.id",
	"-name":    "lower(r.pn) %[1]s DESC, l.index_preference DESC, l.name %[1]s, r.id",
	"layer":    "l.name %[1]s, lower(r.pn) %[1]s, r.id",
	"-layer":   "l.name %[1]s DESC, lower(r.pn) %[1]s, r.id",
	"version":  "r.pv %[1]s, lower(r.pn) %[1]s, r.id",
	"-version": "r.pv %[1]s DESC, lower(r.pn) %[1]s, r.id",
}

// SearchCountCap bounds the counting of a search's matches: beyond it (or
// beyond the page asked for and the next one) the total is given as "at
// least" (Paged.More). Counting every match of `depends:zlib` or of a common
// word meant reading and joining every recipe of the branch on each search
// (1.7–8 s per search at the size of the public index); a bounded count
// stops after this many rows. Listing a whole branch (no query) is still
// counted exactly.
var SearchCountCap = 1000

// searchTier is one group of a search's results, in the order they are
// shown: cond selects the group's rows (besides the branch and the query's
// filters).
type searchTier struct {
	cond string
	args []any
	fts  bool // cond reads the fts CTE
}

// SearchRecipes runs a recipe search on a branch. A layer: naming no
// published layer gives ErrUnknownLayer. A row's Description is set only
// when its Summary is empty: the results show the summary, or the
// description when there is none (RecipeRow.ShortDesc).
//
// Relevance (the default order) ranks an exact name first, then names that
// start with the words, then names that contain every word, then full-text
// matches, each group by name and layer. Each group is read as its own query
// ordered by itself (one part of a UNION ALL), so each can walk the
// recipes' name index of the branch and stop after a page; the total is
// counted up to SearchCountCap.
func (s *Store) SearchRecipes(ctx context.Context, branch *Branch, q RecipeQuery, sort string, p Page) (Paged[RecipeRow], error) {
	p = p.norm()
	out := Paged[RecipeRow]{Page: p}
	where := []string{"r.branch_id = ?", "l.status IN ?", "NOT l.comparison"}
	args := []any{branch.ID, publishedStatuses}
	for _, pn := range q.PN {
		where = append(where, "r.pn = ?")
		args = append(args, pn)
	}
	// depends: and inherits: look their names up on the branch only
	// (migration 00023). How the database should join them depends on how
	// many recipes match: a common name (zlib: a quarter of the branch) is
	// best checked against each recipe while walking the name index, which
	// stops after a page; a rare one is best read first and its few
	// recipes sorted. The planner cannot tell from the query (the two
	// tables of depends:), so the branch's rows of each name are counted
	// first, up to denseLookup, from the index alone.
	dense, err := s.denseLookups(ctx, branch.ID, q)
	if err != nil {
		return out, err
	}
	for _, d := range q.Depends {
		if dense {
			where = append(where, `(r.id IN (SELECT recipe_id FROM recipe_build_deps WHERE name = ? AND branch_id = ?)
  OR r.id IN (SELECT recipe_id FROM recipe_package_config_deps WHERE name = ? AND branch_id = ?))`)
		} else {
			where = append(where, `r.id IN (SELECT recipe_id FROM recipe_build_deps WHERE name = ? AND branch_id = ?
  UNION SELECT recipe_id FROM recipe_package_config_deps WHERE name = ? AND branch_id = ?)`)
		}
		args = append(args, d, branch.ID, d, branch.ID)
	}
	for _, c := range q.Inherits {
		where = append(where, "r.id IN (SELECT recipe_id FROM recipe_inherits WHERE name = ? AND branch_id = ?)")
		args = append(args, c, branch.ID)
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
	order, sorted := searchSorts[sort]
	if !sorted {
		order = "lower(r.pn) %[1]s, l.index_preference DESC, l.name %[1]s, r.id"
	}
	tiers := []searchTier{{cond: "1 = 1"}}
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
		fts, ftsArg := s.ftsQuery(q.Terms)
		if fts != "" {
			with, withArgs = "WITH fts AS MATERIALIZED ("+fts+") ", []any{ftsArg}
		}
		if sorted {
			// A column order: one group.
			t := searchTier{cond: nameCond, args: nameArgs}
			if fts != "" {
				t.cond, t.fts = "("+nameCond+" OR r.id IN (SELECT id FROM fts))", true
			}
			tiers = []searchTier{t}
		} else {
			// A name that equals or starts with the whole query contains
			// every word, so the groups are: names starting with the query
			// (the exact name sorts first among them), other names with
			// every word, then full-text matches whose name has not every
			// word. The range on the name lets both databases read the
			// first group from the name index; LIKE stays the rule.
			prefix := `(lower(r.pn) ` + s.collate("%[1]s") + ` >= ? AND lower(r.pn) ` + s.collate("%[1]s") +
				` < ? AND lower(r.pn) LIKE ? ESCAPE '\')`
			prefixArgs := []any{whole, whole + "\U0010FFFF", escapeLike(whole) + "%"}
			tiers = []searchTier{
				{cond: prefix, args: prefixArgs},
				{cond: nameCond + " AND NOT " + prefix, args: append(append([]any{}, nameArgs...), prefixArgs...)},
			}
			if fts != "" {
				// On PostgreSQL the document is matched on the recipe row
				// (the GIN index's expression), so the planner can check it
				// while walking the branch's names when it matches many
				// recipes, or read the index when it matches few; a
				// materialized list of every branch's matches cost seconds
				// for a common word at the size of the public index.
				cond := "r.id IN (" + fts + ")"
				if s.db.Dialector.Name() == "postgres" {
					cond = strings.Replace(pgRecipeDocument, "summary || ' ' || description", "r.summary || ' ' || r.description", 1) +
						" @@ to_tsquery('simple', ?)"
				}
				tiers = append(tiers, searchTier{cond: cond + " AND NOT " + nameCond, args: append([]any{ftsArg}, nameArgs...)})
			}
		}
	}
	from := ` FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE ` + strings.Join(where, " AND ")
	db := s.with(ctx)
	// The description is read only where a result shows it (RecipeRow.ShortDesc: no summary), as the in-memory
	// index keeps it (SearchIndex).
	const columns = `SELECT r.id, r.pn, r.pv, r.filename, r.filepath, r.summary,
       CASE WHEN r.summary = '' THEN r.description ELSE '' END AS description, r.license, r.inherits,
       r.blacklisted, r.skip_reason, r.unevaluated, l.name AS layer_name`
	usesFTS := false
	for _, t := range tiers {
		usesFTS = usesFTS || t.fts
	}
	if !usesFTS {
		with, withArgs = "", nil
	}

	// The page: with one group, the query itself; with several, each
	// group's first offset+size rows in order, then the page of them all.
	var (
		sql     string
		rowArgs = append([]any{}, withArgs...)
	)
	if len(tiers) == 1 {
		sql = with + columns + from + " AND " + tiers[0].cond + " ORDER BY " + s.collate(order) + " LIMIT ? OFFSET ?"
		rowArgs = append(append(append(rowArgs, args...), tiers[0].args...), p.Size, p.Offset())
	} else {
		// Each group is materialized once, and read only when the groups
		// before it hold fewer rows than the page needs: both databases
		// skip a UNION ALL part whose constant condition is false, so a
		// common word whose names fill the page never runs its full-text
		// part.
		k := p.Offset() + p.Size
		var ctes, parts []string
		for i, t := range tiers {
			ctes = append(ctes, fmt.Sprintf("g%d AS MATERIALIZED (%s, %d AS search_group, lower(r.pn) AS sort_pn, l.index_preference AS sort_pref%s AND %s ORDER BY %s LIMIT %d)",
				i, columns, i, from, t.cond, s.collate(order), k))
			rowArgs = append(append(rowArgs, args...), t.args...)
			part := fmt.Sprintf("SELECT * FROM g%d", i)
			if i > 0 {
				part += " WHERE " + runningBelow("SELECT COUNT(*) FROM g%d", i, k)
			}
			parts = append(parts, part)
		}
		sql = "WITH " + strings.Join(ctes, ", ") + " SELECT * FROM (" + strings.Join(parts, " UNION ALL ") + ") page ORDER BY " +
			s.collate("search_group, sort_pn %[1]s, sort_pref DESC, layer_name %[1]s, id") + " LIMIT ? OFFSET ?"
		rowArgs = append(rowArgs, p.Size, p.Offset())
	}
	if err := db.Raw(sql, rowArgs...).Scan(&out.Items).Error; err != nil {
		return out, fmt.Errorf("searching recipes: %w", err)
	}
	if p.Number == 1 && len(out.Items) < p.Size {
		out.Total = int64(len(out.Items))
		return out, nil
	}

	// The total: exact for a whole branch's listing; for a search, each
	// group counted up to limit+1 rows, enough to show the page asked for
	// and that a next one exists.
	if q.Empty() {
		return out, db.Raw("SELECT COUNT(*)"+from, args...).Scan(&out.Total).Error
	}
	limit := max(SearchCountCap, p.Offset()+2*p.Size)
	// Each group counted once (materialized), and only while the groups
	// before it sum to at most limit.
	var ctes, whens []string
	countArgs := append([]any{}, withArgs...)
	sum := ""
	for i, t := range tiers {
		ctes = append(ctes, fmt.Sprintf("c%d AS MATERIALIZED (SELECT COUNT(*) AS n FROM (SELECT 1%s AND %s LIMIT %d) t)", i, from, t.cond, limit+1))
		countArgs = append(append(countArgs, args...), t.args...)
		if i > 0 {
			sum += " + "
		}
		sum += fmt.Sprintf("(SELECT n FROM c%d)", i)
		if i < len(tiers)-1 {
			whens = append(whens, fmt.Sprintf("WHEN %s > %d THEN %s", sum, limit, sum))
		}
	}
	total := sum
	if len(whens) > 0 {
		total = "CASE " + strings.Join(whens, " ") + " ELSE " + sum + " END"
	}
	cte := "WITH " + strings.Join(ctes, ", ") + " "
	if with != "" {
		cte = with[:len(with)-1] + ", " + strings.Join(ctes, ", ") + " " // the fts CTE first
	}
	if err := db.Raw(cte+"SELECT "+total, countArgs...).Scan(&out.Total).Error; err != nil {
		return out, fmt.Errorf("counting recipes: %w", err)
	}
	if out.Total > int64(limit) {
		out.Total, out.More = int64(limit), true
	}
	return out, nil
}

// runningBelow is a condition true when the counts of the groups before
// group i (each given by the query format, %d the group) sum to less than k,
// written so that a database stops at the first group that reaches it.
func runningBelow(format string, i, k int) string {
	var conds []string
	sum := ""
	for j := range i {
		if j > 0 {
			sum += " + "
		}
		sum += "(" + fmt.Sprintf(format, j) + ")"
		conds = append(conds, fmt.Sprintf("%s < %d", sum, k))
	}
	return strings.Join(conds, " AND ")
}

// denseLookup is how many rows of a name on the branch make a depends: or
// inherits: lookup common (see SearchRecipes).
const denseLookup = 500

// denseLookups reports whether every depends: and inherits: name of q has at
// least denseLookup rows on the branch.
func (s *Store) denseLookups(ctx context.Context, branchID int64, q RecipeQuery) (bool, error) {
	if len(q.Depends)+len(q.Inherits) == 0 {
		return false, nil
	}
	count := func(table, name string) (int64, error) {
		var n int64
		err := s.with(ctx).Raw(`SELECT COUNT(*) FROM (SELECT 1 FROM `+table+` WHERE name = ? AND branch_id = ? LIMIT ?) t`,
			name, branchID, denseLookup).Scan(&n).Error
		if err != nil {
			return 0, fmt.Errorf("counting %s of %s: %w", table, name, err)
		}
		return n, nil
	}
	for _, d := range q.Depends {
		n, err := count("recipe_build_deps", d)
		if err != nil || n < denseLookup {
			return false, err
		}
	}
	for _, c := range q.Inherits {
		n, err := count("recipe_inherits", c)
		if err != nil || n < denseLookup {
			return false, err
		}
	}
	return true, nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

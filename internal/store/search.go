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

// SearchRecipes runs a recipe search on a branch. A layer: naming no
// published layer gives ErrUnknownLayer.
func (s *Store) SearchRecipes(ctx context.Context, branch *Branch, q RecipeQuery, sort string, p Page) (Paged[RecipeRow], error) {
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

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

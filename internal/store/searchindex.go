package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"
)

// SearchIndex answers recipe searches of one branch from memory, with the
// same results as SearchRecipes (pages, order, bounded totals). Even
// bounded and grouped, a search in SQL cost 3–6 ms of server CPU on the
// real corpus and 50 ms–1 s at the size of the public index (a common word's
// full-text matches on every branch on SQLite, the walk over each recipe's
// document on PostgreSQL for a word in no name): every search is read and
// joined again although the index changes only when a layer is re-indexed.
// Held per branch and index version (the web server does, building it in
// the background while SQL answers), a search costs tens of microseconds:
// bitmaps of the branch's recipes in name order, intersected.
//
// Full text is matched the way both databases' indexes match it (words are
// runs of letters and digits, lower-cased; a term's words form a phrase
// whose last word is a prefix; PostgreSQL reads summary and description as
// one text, SQLite's FTS5 as two columns). Names are compared as the
// database lower-cases them (lower(pn) is read from it).
type SearchIndex struct {
	BranchID int64
	pg       bool
	rows     []searchRow // in the default order: lower(pn), index preference descending, layer name, id
	byLayer  map[int64][]int32
	layers   map[string]int64   // every published layer, by name (layer: names one of any branch)
	byPN     map[string][]int32 // ordinals of rows, ascending
	deps     map[string][]int32 // DEPENDS and PACKAGECONFIG build dependencies
	inherits map[string][]int32
	grams    map[uint32][]int32 // 1-, 2- and 3-byte substrings of lpn
	vocab    []string           // full-text words, sorted
	postings [][]int32          // rows holding vocab[i]

	orderMu sync.Mutex
	orders  map[string][]int32 // the column orders, built on first use
}

// LoadSearchIndex reads the branch's published recipes, their dependency
// and class names, and indexes them.
func (s *Store) LoadSearchIndex(ctx context.Context, branchID int64) (*SearchIndex, error) {
	x := &SearchIndex{BranchID: branchID, pg: s.db.Dialector.Name() == "postgres"}
	// Read with database/sql: gorm's reflective scan allocated as much
	// again as the rows hold.
	sqlRows, err := s.with(ctx).Raw(`SELECT r.id, r.pn, lower(r.pn) AS lpn, r.pv, r.filename, r.filepath, r.summary, r.description,
       r.license, r.inherits, r.blacklisted, r.skip_reason, r.unevaluated, l.name AS layer_name, l.id AS layer_id,
       l.index_preference
FROM recipes r JOIN layer_branches lb ON lb.id = r.layer_branch_id JOIN layers l ON l.id = lb.layer_id
WHERE r.branch_id = ? AND l.status IN ? AND NOT l.comparison
ORDER BY `+s.collate("lower(r.pn) %[1]s, l.index_preference DESC, l.name %[1]s, r.id"), branchID, publishedStatuses).Rows()
	if err != nil {
		return nil, fmt.Errorf("reading the recipes of branch %d: %w", branchID, err)
	}
	defer sqlRows.Close()
	var rows []searchRow
	for sqlRows.Next() {
		var r searchRow
		if err := sqlRows.Scan(&r.ID, &r.PN, &r.LPN, &r.PV, &r.Filename, &r.Filepath, &r.Summary, &r.Description, &r.License,
			&r.Inherits, &r.Blacklisted, &r.SkipReason, &r.Unevaluated, &r.LayerName, &r.LayerID, &r.IndexPreference); err != nil {
			return nil, fmt.Errorf("reading the recipes of branch %d: %w", branchID, err)
		}
		rows = append(rows, r)
	}
	if err := sqlRows.Err(); err != nil {
		return nil, fmt.Errorf("reading the recipes of branch %d: %w", branchID, err)
	}
	sqlRows.Close()
	n := len(rows)
	x.rows, x.byLayer = rows, map[int64][]int32{}
	ord := make(map[int64]int32, n)
	x.byPN = make(map[string][]int32, n)
	x.grams = map[uint32][]int32{}
	wordIDs := map[string]int32{}
	var (
		postings [][]int32
		gramBuf  []uint32
		wordBuf  []byte
	)
	for i := range rows {
		r := &rows[i]
		o := int32(i)
		x.byLayer[r.LayerID] = append(x.byLayer[r.LayerID], o)
		ord[r.ID] = o
		x.byPN[r.PN] = append(x.byPN[r.PN], o)
		gramBuf = nameGrams(r.LPN, gramBuf[:0])
		for _, g := range gramBuf {
			x.grams[g] = append(x.grams[g], o)
		}
		add := func(w []byte) {
			id, ok := wordIDs[string(w)]
			if !ok {
				id = int32(len(postings))
				wordIDs[string(w)] = id
				postings = append(postings, nil)
			}
			if l := postings[id]; len(l) == 0 || l[len(l)-1] != o {
				postings[id] = append(l, o)
			}
		}
		wordBuf = eachWord(r.Summary, wordBuf, add)
		wordBuf = eachWord(r.Description, wordBuf, add)
	}
	x.vocab = make([]string, 0, len(wordIDs))
	for w := range wordIDs {
		x.vocab = append(x.vocab, w)
	}
	slices.Sort(x.vocab)
	x.postings = make([][]int32, len(x.vocab))
	for i, w := range x.vocab {
		x.postings[i] = postings[wordIDs[w]]
	}
	packLists(x.postings)
	packMap(x.grams)
	packMap(x.byPN)
	packMap(x.byLayer)

	names := func(sql string, args ...any) (map[string][]int32, error) {
		rs, err := s.with(ctx).Raw(sql, args...).Rows()
		if err != nil {
			return nil, err
		}
		defer rs.Close()
		m := map[string][]int32{}
		var (
			id   int64
			name []byte
		)
		for rs.Next() {
			if err := rs.Scan(&id, &name); err != nil {
				return nil, err
			}
			if o, ok := ord[id]; ok {
				if l, ok := m[string(name)]; ok {
					m[string(name)] = append(l, o)
				} else {
					m[string(name)] = []int32{o}
				}
			}
		}
		if err := rs.Err(); err != nil {
			return nil, err
		}
		for k, l := range m {
			slices.Sort(l)
			m[k] = slices.Compact(l)
		}
		return m, nil
	}
	if x.deps, err = names(`SELECT recipe_id, name FROM recipe_build_deps WHERE branch_id = ?
UNION ALL SELECT recipe_id, name FROM recipe_package_config_deps WHERE branch_id = ?`, branchID, branchID); err != nil {
		return nil, fmt.Errorf("reading the dependencies of branch %d: %w", branchID, err)
	}
	if x.inherits, err = names(`SELECT recipe_id, name FROM recipe_inherits WHERE branch_id = ?`, branchID); err != nil {
		return nil, fmt.Errorf("reading the classes of branch %d: %w", branchID, err)
	}
	packMap(x.deps)
	packMap(x.inherits)
	ls, err := s.PublishedLayers(ctx)
	if err != nil {
		return nil, fmt.Errorf("reading the published layers: %w", err)
	}
	x.layers = make(map[string]int64, len(ls))
	for _, l := range ls {
		x.layers[l.Name] = l.ID
	}
	return x, nil
}

// eachWord calls add with each word of s as searchTokens splits it (runs
// of letters and digits, lower-cased), written into buf, without
// allocating; it returns buf for reuse.
func eachWord(s string, buf []byte, add func([]byte)) []byte {
	buf = buf[:0]
	for _, r := range s {
		if l := unicode.ToLower(r); unicode.IsLetter(l) || unicode.IsDigit(l) {
			buf = utf8.AppendRune(buf, l)
			continue
		}
		if len(buf) > 0 {
			add(buf)
			buf = buf[:0]
		}
	}
	if len(buf) > 0 {
		add(buf)
	}
	return buf[:0]
}

// searchRow is a recipe of the index: what a search returns and what it
// orders by.
type searchRow struct {
	RecipeRow
	LPN             string `gorm:"column:lpn"` // lower(pn) as the database computes it
	LayerID         int64
	IndexPreference int
}

// nameGrams appends the distinct 1-, 2- and 3-byte substrings of a name
// to gs.
func nameGrams(s string, gs []uint32) []uint32 {
	for i := range len(s) {
		for n := 1; n <= 3 && i+n <= len(s); n++ {
			gs = append(gs, gramKey(s[i:i+n]))
		}
	}
	slices.Sort(gs)
	return slices.Compact(gs)
}

func gramKey(s string) uint32 {
	k := uint32(len(s)) << 24
	for i := range len(s) {
		k |= uint32(s[i]) << (8 * (2 - i))
	}
	return k
}

// Len is the number of recipes indexed.
func (x *SearchIndex) Len() int { return len(x.rows) }

// bitset is a set of row ordinals.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) add(o int32)      { b[o>>6] |= 1 << (uint(o) & 63) }
func (b bitset) has(o int32) bool { return b[o>>6]&(1<<(uint(o)&63)) != 0 }
func (b bitset) and(c bitset) {
	for i := range b {
		b[i] &= c[i]
	}
}
func (b bitset) or(c bitset) {
	for i := range b {
		b[i] |= c[i]
	}
}
func (b bitset) andNot(c bitset) {
	for i := range b {
		b[i] &^= c[i]
	}
}
func (b bitset) addList(l []int32) {
	for _, o := range l {
		b.add(o)
	}
}
func (x *SearchIndex) fromList(l []int32) bitset { b := newBitset(len(x.rows)); b.addList(l); return b }

func (b bitset) count() int {
	n := 0
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

func (x *SearchIndex) all() bitset {
	b := newBitset(len(x.rows))
	for i := range b {
		b[i] = ^uint64(0)
	}
	if r := len(x.rows) % 64; r != 0 {
		b[len(b)-1] = 1<<uint(r) - 1
	}
	return b
}

// Search runs a recipe search: the same page, order and total as
// SearchRecipes on the same index version.
func (x *SearchIndex) Search(q RecipeQuery, sortBy string, p Page) (Paged[RecipeRow], error) {
	p = p.norm()
	out := Paged[RecipeRow]{Page: p}
	f := x.all()
	for _, pn := range q.PN {
		f.and(x.fromList(x.byPN[pn]))
	}
	for _, d := range q.Depends {
		f.and(x.fromList(x.deps[d]))
	}
	for _, c := range q.Inherits {
		f.and(x.fromList(x.inherits[c]))
	}
	if q.Layer != "" {
		id, ok := x.layers[q.Layer]
		if !ok && q.Layer == "oe-core" {
			id, ok = x.layers["openembedded-core"]
		}
		if !ok {
			return out, ErrUnknownLayer
		}
		f.and(x.fromList(x.byLayer[id]))
	}
	_, sorted := searchSorts[sortBy]
	var groups []bitset
	if len(q.Terms) == 0 {
		groups = []bitset{f}
	} else {
		name := x.nameMatches(q.Terms, f)
		fts, hasFTS := x.textMatches(q.Terms, f)
		if sorted {
			if hasFTS {
				name.or(fts)
			}
			groups = []bitset{name}
		} else {
			whole := strings.ToLower(strings.Join(q.Terms, " "))
			prefix := newBitset(len(x.rows))
			lo := sort.Search(len(x.rows), func(i int) bool { return x.rows[i].LPN >= whole })
			for o := lo; o < len(x.rows) && strings.HasPrefix(x.rows[o].LPN, whole); o++ {
				prefix.add(int32(o))
			}
			prefix.and(f)
			name.andNot(prefix)
			groups = []bitset{prefix, name}
			if hasFTS {
				fts.andNot(name)
				fts.andNot(prefix)
				groups = append(groups, fts)
			}
		}
	}
	var order []int32
	if sorted && sortBy != "name" {
		order = x.order(sortBy)
	}
	total := 0
	first, last := p.Offset(), p.Offset()+p.Size
	// The page's rows are allocated once at their final size: grown by
	// appends, they were a third of a search page's allocations (a row is
	// ~200 bytes), and every byte allocated brings the next collection
	// nearer.
	matches := 0
	for _, g := range groups {
		matches += g.count()
	}
	if n := min(matches, last) - first; n > 0 {
		out.Items = make([]RecipeRow, 0, n)
	}
	for _, g := range groups {
		if total >= last {
			total += g.count()
			continue
		}
		visit := func(o int32) {
			if total >= first && total < last {
				out.Items = append(out.Items, x.rows[o].RecipeRow)
			}
			total++
		}
		if order != nil {
			for _, o := range order {
				if g.has(o) {
					visit(o)
				}
			}
			continue
		}
		for i, w := range g {
			for w != 0 {
				visit(int32(i*64 + bits.TrailingZeros64(w)))
				w &= w - 1
			}
		}
	}
	out.Total = int64(total)
	if q.Empty() || (p.Number == 1 && len(out.Items) < p.Size) {
		return out, nil
	}
	if limit := max(SearchCountCap, p.Offset()+2*p.Size); total > limit {
		out.Total, out.More = int64(limit), true
	}
	return out, nil
}

// nameMatches is the rows of f whose lower-cased name contains every term
// (lower-cased): candidates from the name's substrings of up to 3 bytes,
// checked when a term is longer.
func (x *SearchIndex) nameMatches(terms []string, f bitset) bitset {
	m := slices.Clone(f)
	for _, t := range terms {
		t = strings.ToLower(t)
		long := len(t) > 3
		for i := 0; i+min(3, len(t)) <= len(t); i++ {
			m.and(x.fromList(x.grams[gramKey(t[i:i+min(3, len(t))])]))
			if !long {
				break
			}
		}
		if long {
			for i, w := range m {
				for w != 0 {
					o := i*64 + bits.TrailingZeros64(w)
					w &= w - 1
					if !strings.Contains(x.rows[o].LPN, t) {
						m[i] &^= 1 << (uint(o) & 63)
					}
				}
			}
		}
	}
	return m
}

// textMatches is the rows of f whose summary or description match every
// term with words (as the databases' full-text indexes do), and whether any
// term has words (if none, there is no full-text group).
func (x *SearchIndex) textMatches(terms []string, f bitset) (bitset, bool) {
	m := slices.Clone(f)
	has := false
	for _, t := range terms {
		toks := searchTokens(t)
		if len(toks) == 0 {
			continue
		}
		has = true
		for i, tok := range toks {
			m.and(x.wordRows(tok, i == len(toks)-1))
		}
		if len(toks) == 1 {
			continue
		}
		for i, w := range m {
			for w != 0 {
				o := i*64 + bits.TrailingZeros64(w)
				w &= w - 1
				if !x.hasPhrase(&x.rows[o].RecipeRow, toks) {
					m[i] &^= 1 << (uint(o) & 63)
				}
			}
		}
	}
	return m, has
}

// wordRows is the rows holding the word, or with prefix any word starting
// with it.
func (x *SearchIndex) wordRows(w string, prefix bool) bitset {
	b := newBitset(len(x.rows))
	i := sort.SearchStrings(x.vocab, w)
	for ; i < len(x.vocab) && strings.HasPrefix(x.vocab[i], w); i++ {
		if !prefix && x.vocab[i] != w {
			break
		}
		b.addList(x.postings[i])
	}
	return b
}

// hasPhrase reports whether the recipe's text holds the words in a row,
// the last as a prefix: within summary and description joined on
// PostgreSQL (its document), within one of them on SQLite (FTS5 columns).
func (x *SearchIndex) hasPhrase(r *RecipeRow, toks []string) bool {
	texts := []string{r.Summary, r.Description}
	if x.pg {
		texts = []string{r.Summary + " " + r.Description}
	}
	for _, text := range texts {
		ws := searchTokens(text)
	start:
		for i := 0; i+len(toks) <= len(ws); i++ {
			for j, t := range toks {
				if j == len(toks)-1 {
					if !strings.HasPrefix(ws[i+j], t) {
						continue start
					}
				} else if ws[i+j] != t {
					continue start
				}
			}
			return true
		}
	}
	return false
}

// order is the rows in a column order of searchSorts, as the databases
// sort them (byte order of the text).
func (x *SearchIndex) order(sortBy string) []int32 {
	x.orderMu.Lock()
	defer x.orderMu.Unlock()
	if o, ok := x.orders[sortBy]; ok {
		return o
	}
	o := make([]int32, len(x.rows))
	for i := range o {
		o[i] = int32(i)
	}
	r := x.rows
	byName := func(a, b int32) int { return cmp.Compare(r[a].LPN, r[b].LPN) }
	byID := func(a, b int32) int { return cmp.Compare(r[a].ID, r[b].ID) }
	var c func(a, b int32) int
	switch sortBy {
	case "-name":
		c = func(a, b int32) int {
			return cmp.Or(-byName(a, b), -cmp.Compare(r[a].IndexPreference, r[b].IndexPreference), cmp.Compare(r[a].LayerName, r[b].LayerName), byID(a, b))
		}
	case "layer":
		c = func(a, b int32) int {
			return cmp.Or(cmp.Compare(r[a].LayerName, r[b].LayerName), byName(a, b), byID(a, b))
		}
	case "-layer":
		c = func(a, b int32) int {
			return cmp.Or(-cmp.Compare(r[a].LayerName, r[b].LayerName), byName(a, b), byID(a, b))
		}
	case "version":
		c = func(a, b int32) int { return cmp.Or(cmp.Compare(r[a].PV, r[b].PV), byName(a, b), byID(a, b)) }
	case "-version":
		c = func(a, b int32) int { return cmp.Or(-cmp.Compare(r[a].PV, r[b].PV), byName(a, b), byID(a, b)) }
	default:
		panic(errors.New("unknown search order " + sortBy))
	}
	slices.SortFunc(o, c)
	if x.orders == nil {
		x.orders = map[string][]int32{}
	}
	x.orders[sortBy] = o
	return o
}

// packLists moves lists grown by append (up to twice their length each)
// into one array of their exact total size: a third of the index's heap at
// the size of the public index.
func packLists(lists [][]int32) {
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	all := make([]int32, 0, n)
	for i, l := range lists {
		start := len(all)
		all = append(all, l...)
		lists[i] = all[start:len(all):len(all)]
	}
}

// packMap is packLists for the lists of a map.
func packMap[K comparable](m map[K][]int32) {
	keys := make([]K, 0, len(m))
	lists := make([][]int32, 0, len(m))
	for k, l := range m {
		keys, lists = append(keys, k), append(lists, l)
	}
	packLists(lists)
	for i, k := range keys {
		m[k] = lists[i]
	}
}

package store

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
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
	BranchID  int64
	pg        bool
	text      string        // the rows' texts, each distinct one once (textRef)
	rows      []searchRow   // in the default order: lower(pn), index preference descending, layer name, id
	rowLayers []searchLayer // the layers of the rows (searchRow.layer)
	byLayer   map[int64]rowSet
	layers    map[string]int64  // every published layer, by name (layer: names one of any branch)
	byPN      []int32           // the rows by pn (byte order), then ordinal
	deps      map[string]rowSet // DEPENDS and PACKAGECONFIG build dependencies
	inherits  map[string]rowSet
	grams     map[uint32]rowSet // 1-, 2- and 3-byte substrings of lpn
	vocab     []string          // full-text words, sorted
	postings  []rowSet          // rows holding vocab[i]
	// words holds each row's full-text words from searchRow.words on: the
	// summary's count and word ids, then the description's, each a
	// uvarint; a word id is its rank in the order words were first met
	// (frequent words come early: mostly one byte), wordRank its place in
	// vocab. Phrases are checked on them: the descriptions themselves, two
	// thirds of the text of a branch, are kept only where a result shows
	// one (an empty summary).
	words    []byte
	wordRank []int32

	orderMu sync.Mutex
	orders  map[string][]int32 // the column orders, built on first use
}

// textRef is a text of SearchIndex.text.
type textRef struct{ off, n uint32 }

// searchRow is a recipe of the index: what a search returns (RecipeRow,
// its texts as textRefs into SearchIndex.text) and what it orders by. At
// the size of the public index, rows of strings each allocated on its own
// were over a third of the index's heap.
type searchRow struct {
	id                                         int64
	pn, lpn, pv, filename, filepath, summary   textRef // lpn: lower(pn) as the database computes it
	description                                textRef // only where the summary is empty (RecipeRow.ShortDesc)
	license, inherits, blacklisted, skipReason textRef
	layer                                      int32  // in SearchIndex.rowLayers
	words                                      uint32 // offset in SearchIndex.words
	unevaluated                                int
}

// searchLayer is a layer of the index's rows.
type searchLayer struct {
	name       string
	id         int64
	preference int
}

func (x *SearchIndex) str(t textRef) string { return x.text[t.off : t.off+t.n] }

// lpn is row o's lower-cased name.
func (x *SearchIndex) lpn(o int32) string { return x.str(x.rows[o].lpn) }

// recipeRow is row o as SearchRecipes returns it; its strings share the
// index's text.
func (x *SearchIndex) recipeRow(o int32) RecipeRow {
	r := &x.rows[o]
	return RecipeRow{ID: r.id, PN: x.str(r.pn), PV: x.str(r.pv), Filename: x.str(r.filename), Filepath: x.str(r.filepath),
		Summary: x.str(r.summary), Description: x.str(r.description), License: x.str(r.license), Inherits: x.str(r.inherits),
		Blacklisted: x.str(r.blacklisted), SkipReason: x.str(r.skipReason), Unevaluated: r.unevaluated,
		LayerName: x.rowLayers[r.layer].name}
}

// textTable collects the distinct texts of an index while it is built.
// They are found by hash, so that no text is copied but into b.
type textTable struct {
	b    []byte
	seed maphash.Seed
	seen map[uint64]textRef // by maphash (of one of the texts, if several have the same)
	err  error
}

func (t *textTable) add(v []byte) textRef {
	if len(v) == 0 {
		return textRef{}
	}
	h := maphash.Bytes(t.seed, v)
	if r, ok := t.seen[h]; ok && string(t.b[r.off:r.off+r.n]) == string(v) {
		return r
	}
	if len(t.b)+len(v) > math.MaxUint32 {
		t.err = errors.New("more than 4 GB of recipe text")
		return textRef{}
	}
	r := textRef{uint32(len(t.b)), uint32(len(v))}
	t.b = append(t.b, v...)
	t.seen[h] = r
	return r
}

// LoadSearchIndex reads the branch's published recipes, their dependency
// and class names, and indexes them.
func (s *Store) LoadSearchIndex(ctx context.Context, branchID int64) (*SearchIndex, error) {
	x := &SearchIndex{BranchID: branchID, pg: s.db.Dialector.Name() == "postgres"}
	// Read with database/sql into buffers reused from row to row: gorm's
	// reflective scan allocated as much again as the rows hold.
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
	texts := textTable{seed: maphash.MakeSeed(), seen: map[uint64]textRef{}}
	layerOrd := map[int64]int32{}
	var (
		rows     []searchRow
		ord      = map[int64]int32{}
		wordIDs  = map[string]int32{}
		postings [][]int32
		gramBuf  []uint32
		wordBuf  []byte
		words    []byte
		rowWords []int32          // the current text's word ids
		f        [11]sql.RawBytes // pn, lpn, pv, filename, filepath, summary, description, license, inherits, blacklisted, skip_reason
		layer    sql.RawBytes
	)
	byLayer, grams := map[int64][]int32{}, map[uint32][]int32{}
	for sqlRows.Next() {
		var (
			r          searchRow
			layerID    int64
			preference int
		)
		if err := sqlRows.Scan(&r.id, &f[0], &f[1], &f[2], &f[3], &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10],
			&r.unevaluated, &layer, &layerID, &preference); err != nil {
			return nil, fmt.Errorf("reading the recipes of branch %d: %w", branchID, err)
		}
		o := int32(len(rows))
		lo, ok := layerOrd[layerID]
		if !ok {
			lo = int32(len(x.rowLayers))
			layerOrd[layerID] = lo
			x.rowLayers = append(x.rowLayers, searchLayer{name: string(layer), id: layerID, preference: preference})
		}
		r.layer = lo
		r.pn, r.lpn, r.pv, r.filename, r.filepath, r.summary = texts.add(f[0]), texts.add(f[1]), texts.add(f[2]), texts.add(f[3]), texts.add(f[4]), texts.add(f[5])
		if len(f[5]) == 0 {
			r.description = texts.add(f[6])
		}
		r.license, r.inherits, r.blacklisted, r.skipReason = texts.add(f[7]), texts.add(f[8]), texts.add(f[9]), texts.add(f[10])
		if len(words) > math.MaxUint32 {
			return nil, fmt.Errorf("indexing the recipes of branch %d: more than 4 GB of words", branchID)
		}
		r.words = uint32(len(words))
		rows = append(rows, r)
		byLayer[layerID] = append(byLayer[layerID], o)
		ord[r.id] = o
		gramBuf = nameGrams(string(f[1]), gramBuf[:0])
		for _, g := range gramBuf {
			grams[g] = append(grams[g], o)
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
			rowWords = append(rowWords, id)
		}
		for _, text := range [][]byte{f[5], f[6]} {
			rowWords = rowWords[:0]
			wordBuf = eachWord(text, wordBuf, add)
			words = binary.AppendUvarint(words, uint64(len(rowWords)))
			for _, id := range rowWords {
				words = binary.AppendUvarint(words, uint64(id))
			}
		}
	}
	if err := sqlRows.Err(); err != nil {
		return nil, fmt.Errorf("reading the recipes of branch %d: %w", branchID, err)
	}
	sqlRows.Close()
	if texts.err != nil {
		return nil, fmt.Errorf("indexing the recipes of branch %d: %w", branchID, texts.err)
	}
	x.text = string(texts.b)
	texts = textTable{}
	x.rows = rows
	n := len(rows)
	x.vocab = make([]string, 0, len(wordIDs))
	for w := range wordIDs {
		x.vocab = append(x.vocab, w)
	}
	slices.Sort(x.vocab)
	lists := make([][]int32, len(x.vocab))
	x.wordRank = make([]int32, len(x.vocab)) // by word id
	for i, w := range x.vocab {
		id := wordIDs[w]
		lists[i] = postings[id]
		x.wordRank[id] = int32(i)
	}
	x.words = slices.Clone(words) // its exact size
	x.byPN = make([]int32, n)
	for i := range x.byPN {
		x.byPN[i] = int32(i)
	}
	slices.SortFunc(x.byPN, func(a, b int32) int {
		return cmp.Or(strings.Compare(x.str(rows[a].pn), x.str(rows[b].pn)), cmp.Compare(a, b))
	})
	x.postings = rowSets(lists, n)
	x.grams = rowSetMap(grams, n)
	x.byLayer = rowSetMap(byLayer, n)

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
	deps, err := names(`SELECT recipe_id, name FROM recipe_build_deps WHERE branch_id = ?
UNION ALL SELECT recipe_id, name FROM recipe_package_config_deps WHERE branch_id = ?`, branchID, branchID)
	if err != nil {
		return nil, fmt.Errorf("reading the dependencies of branch %d: %w", branchID, err)
	}
	inherits, err := names(`SELECT recipe_id, name FROM recipe_inherits WHERE branch_id = ?`, branchID)
	if err != nil {
		return nil, fmt.Errorf("reading the classes of branch %d: %w", branchID, err)
	}
	x.deps, x.inherits = rowSetMap(deps, n), rowSetMap(inherits, n)
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
func eachWord(s []byte, buf []byte, add func([]byte)) []byte {
	buf = buf[:0]
	for len(s) > 0 {
		r, n := utf8.DecodeRune(s)
		s = s[n:]
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

// pnRows is the rows named pn, ascending.
func (x *SearchIndex) pnRows(pn string) []int32 {
	lo := sort.Search(len(x.byPN), func(i int) bool { return x.str(x.rows[x.byPN[i]].pn) >= pn })
	hi := lo
	for hi < len(x.byPN) && x.str(x.rows[x.byPN[hi]].pn) == pn {
		hi++
	}
	return x.byPN[lo:hi]
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
		f.and(x.fromList(x.pnRows(pn)))
	}
	for _, d := range q.Depends {
		f.and(x.bits(x.deps[d]))
	}
	for _, c := range q.Inherits {
		f.and(x.bits(x.inherits[c]))
	}
	if q.Layer != "" {
		id, ok := x.layers[q.Layer]
		if !ok && q.Layer == "oe-core" {
			id, ok = x.layers["openembedded-core"]
		}
		if !ok {
			return out, ErrUnknownLayer
		}
		f.and(x.bits(x.byLayer[id]))
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
			lo := sort.Search(len(x.rows), func(i int) bool { return x.lpn(int32(i)) >= whole })
			for o := lo; o < len(x.rows) && strings.HasPrefix(x.lpn(int32(o)), whole); o++ {
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
				out.Items = append(out.Items, x.recipeRow(o))
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
			m.and(x.bits(x.grams[gramKey(t[i:i+min(3, len(t))])]))
			if !long {
				break
			}
		}
		if long {
			for i, w := range m {
				for w != 0 {
					o := i*64 + bits.TrailingZeros64(w)
					w &= w - 1
					if !strings.Contains(x.lpn(int32(o)), t) {
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
		spans := make([][2]int, len(toks))
		for i, tok := range toks {
			spans[i] = x.wordSpan(tok, i == len(toks)-1)
		}
		var buf []int
		for i, w := range m {
			for w != 0 {
				o := i*64 + bits.TrailingZeros64(w)
				w &= w - 1
				var has bool
				if has, buf = x.hasPhrase(int32(o), spans, buf); !has {
					m[i] &^= 1 << (uint(o) & 63)
				}
			}
		}
	}
	return m, has
}

// wordSpan is the range of vocab holding the word, or with prefix the
// words starting with it.
func (x *SearchIndex) wordSpan(w string, prefix bool) [2]int {
	lo := sort.SearchStrings(x.vocab, w)
	hi := lo
	for hi < len(x.vocab) && strings.HasPrefix(x.vocab[hi], w) && (prefix || x.vocab[hi] == w) {
		hi++
	}
	return [2]int{lo, hi}
}

// wordRows is the rows holding the word, or with prefix any word starting
// with it.
func (x *SearchIndex) wordRows(w string, prefix bool) bitset {
	b := newBitset(len(x.rows))
	sp := x.wordSpan(w, prefix)
	for _, rs := range x.postings[sp[0]:sp[1]] {
		if rs.bits != nil {
			b.or(rs.bits)
		} else {
			b.addList(rs.list)
		}
	}
	return b
}

// hasPhrase reports whether row o's text holds a word of each span in a
// row (the spans of a phrase's words, the last a prefix's): within summary
// and description joined on PostgreSQL (its document), within one of them
// on SQLite (FTS5 columns). buf is scratch space, returned for reuse.
func (x *SearchIndex) hasPhrase(o int32, spans [][2]int, buf []int) (bool, []int) {
	ws := x.words[x.rows[o].words:]
	var texts [2][]int
	buf = buf[:0]
	for i := range texts {
		c, k := binary.Uvarint(ws)
		ws = ws[k:]
		at := len(buf)
		for range c {
			id, k := binary.Uvarint(ws)
			ws = ws[k:]
			buf = append(buf, int(x.wordRank[id]))
		}
		texts[i] = buf[at:]
	}
	if x.pg {
		texts = [2][]int{buf, nil} // the summary's words, then the description's
	}
	for _, ids := range texts {
	start:
		for i := 0; i+len(spans) <= len(ids); i++ {
			for j, sp := range spans {
				if id := ids[i+j]; id < sp[0] || id >= sp[1] {
					continue start
				}
			}
			return true, buf
		}
	}
	return false, buf
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
	r, l := x.rows, x.rowLayers
	byName := func(a, b int32) int { return strings.Compare(x.lpn(a), x.lpn(b)) }
	byID := func(a, b int32) int { return cmp.Compare(r[a].id, r[b].id) }
	layer := func(a, b int32) int { return strings.Compare(l[r[a].layer].name, l[r[b].layer].name) }
	version := func(a, b int32) int { return strings.Compare(x.str(r[a].pv), x.str(r[b].pv)) }
	var c func(a, b int32) int
	switch sortBy {
	case "-name":
		c = func(a, b int32) int {
			return cmp.Or(-byName(a, b), -cmp.Compare(l[r[a].layer].preference, l[r[b].layer].preference), layer(a, b), byID(a, b))
		}
	case "layer":
		c = func(a, b int32) int { return cmp.Or(layer(a, b), byName(a, b), byID(a, b)) }
	case "-layer":
		c = func(a, b int32) int { return cmp.Or(-layer(a, b), byName(a, b), byID(a, b)) }
	case "version":
		c = func(a, b int32) int { return cmp.Or(version(a, b), byName(a, b), byID(a, b)) }
	case "-version":
		c = func(a, b int32) int { return cmp.Or(-version(a, b), byName(a, b), byID(a, b)) }
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

// rowSet is a set of an index's rows: their ordinals, ascending, or a
// bitset where that is smaller (a set of more than one row in 32). At the
// size of the public index most of the lists' entries are in sets of
// common words and name substrings, which are smaller as bitsets and are
// combined as bitsets by a search anyway.
type rowSet struct {
	list []int32
	bits bitset
}

// bits is the set as a bitset of the index's rows, not to be modified.
func (x *SearchIndex) bits(s rowSet) bitset {
	if s.bits != nil {
		return s.bits
	}
	return x.fromList(s.list)
}

// rowSets makes sets of lists of the ordinals of n rows, each ascending:
// lists grown by append (up to twice their length each) are moved into one
// array of their exact total size, dense ones into bitsets.
func rowSets(lists [][]int32, n int) []rowSet {
	sets := make([]rowSet, len(lists))
	sparse := 0
	for _, l := range lists {
		if !dense(l, n) {
			sparse += len(l)
		}
	}
	all := make([]int32, 0, sparse)
	for i, l := range lists {
		if dense(l, n) {
			b := newBitset(n)
			b.addList(l)
			sets[i].bits = b
			continue
		}
		start := len(all)
		all = append(all, l...)
		sets[i].list = all[start:len(all):len(all)]
	}
	return sets
}

// dense reports whether a list of ordinals of n rows is smaller as a bitset.
func dense(l []int32, n int) bool { return len(l)*32 > n }

// rowSetMap is rowSets for the lists of a map.
func rowSetMap[K comparable](m map[K][]int32, n int) map[K]rowSet {
	keys := make([]K, 0, len(m))
	lists := make([][]int32, 0, len(m))
	for k, l := range m {
		keys, lists = append(keys, k), append(lists, l)
	}
	sets := rowSets(lists, n)
	out := make(map[K]rowSet, len(m))
	for i, k := range keys {
		out[k] = sets[i]
	}
	return out
}

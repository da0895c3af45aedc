package web

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"layerindex/internal/store"
)

// The long tables of the layer pages — a layer's recipes (up to 100 rows)
// and the layer list (every layer of a branch, about 400 on the public
// index) — are written here rather than by a {{range}} in the templates:
// html/template evaluates every field, method and escaper of every row
// by reflection, which made the rows most of the pages' cost. The markup
// and the escaping are exactly those the templates produced
// (layerrows_test.go renders both and compares them).

// rowWriter builds HTML with html/template's escaping rules.
type rowWriter struct{ strings.Builder }

// text writes s escaped as html/template escapes text and quoted
// attribute values.
func (w *rowWriter) text(s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case 0:
			r = "\uFFFD"
		case '"':
			r = "&#34;"
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '+':
			r = "&#43;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		default:
			continue
		}
		w.WriteString(s[last:i])
		w.WriteString(r)
		last = i + 1
	}
	w.WriteString(s[last:])
}

// url writes s as html/template writes a value in a quoted URL attribute:
// at the start of the URL (start) an unsafe scheme becomes #ZgotmplZ, then
// bytes that may not appear in a URL are percent-encoded and the result is
// escaped as an attribute value.
func (w *rowWriter) url(s string, start bool) {
	if start && !safeURLScheme(s) {
		w.WriteString("#ZgotmplZ")
		return
	}
	const hex = "0123456789abcdef"
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if urlKept(c) || c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			continue
		}
		w.text(s[last:i])
		w.WriteByte('%')
		w.WriteByte(hex[c>>4])
		w.WriteByte(hex[c&15])
		last = i + 1
	}
	w.text(s[last:])
}

// urlKept tells the bytes html/template leaves as they are when it
// normalizes a URL: letters, digits, RFC 3986's unreserved and reserved
// characters but for the quote and parentheses (and % when it starts an
// escape, see url).
func urlKept(c byte) bool {
	switch {
	case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		return true
	}
	return strings.IndexByte("-._~!#$&*+,/:;=?@[]", c) >= 0
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// safeURLScheme is html/template's test of a URL at the start of an
// attribute: no scheme, or http, https or mailto.
func safeURLScheme(s string) bool {
	colon := strings.IndexByte(s, ':')
	if colon < 0 || strings.IndexByte(s[:colon], '/') >= 0 {
		return true
	}
	switch strings.ToLower(s[:colon]) {
	case "http", "https", "mailto":
		return true
	}
	return false
}

func (w *rowWriter) int(n int64) { w.WriteString(strconv.FormatInt(n, 10)) }

// recipeFlags is the "recipeflags" partial of templates/layout.
func (w *rowWriter) recipeFlags(r *store.RecipeRow) {
	if isImage(r.Inherits) {
		w.WriteString(` <span class="badge image" title="Builds an image">image</span>`)
	}
	if r.Blacklisted != "" {
		w.WriteString(` <span class="badge err" title="`)
		w.text(r.Blacklisted)
		w.WriteString(`">blacklisted</span>`)
	}
	if r.SkipReason != "" {
		w.WriteString(` <span class="badge warnb" title="`)
		w.text(r.SkipReason)
		w.WriteString(`">skipped</span>`)
	}
	if r.Unevaluated != 0 {
		w.WriteString(` <span class="badge partial" title="The parser could not evaluate `)
		w.int(int64(r.Unevaluated))
		w.WriteString(` expression(s) in this recipe">partly evaluated</span>`)
	}
}

// isImage is RecipeRow.IsImage without splitting the list.
func isImage(inherits string) bool {
	for len(inherits) > 0 {
		i := strings.IndexAny(inherits, " \t\n\r\v\f")
		w := inherits
		if i >= 0 {
			w, inherits = inherits[:i], inherits[i+1:]
		} else {
			inherits = ""
		}
		if w == "image" || w == "core-image" {
			return true
		}
	}
	return false
}

// layerRecipeRows are the rows of a layer's recipe table.
func layerRecipeRows(rows []store.RecipeRow) template.HTML {
	var w rowWriter
	w.Grow(len(rows) * 200)
	for i := range rows {
		r := &rows[i]
		w.WriteString("\n      <tr><td class=\"name\"><a href=\"/layerindex/recipe/")
		w.int(r.ID)
		w.WriteString(`/">`)
		w.text(r.PN)
		w.WriteString(`</a>`)
		w.recipeFlags(r)
		w.WriteString(`</td><td>`)
		w.text(r.PV)
		w.WriteString(`</td><td>`)
		w.text(r.ShortDesc())
		w.WriteString(`</td></tr>`)
	}
	return template.HTML(w.String())
}

// layerListRows are the rows of the layer list's table.
func layerListRows(rows []store.LayerRow, branch string, staleDays int) template.HTML {
	return newLayerList(rows, branch).html(rows, staleDays)
}

// layerList is a branch's layer list at an index version (memo.go): its
// rows, and each row's markup written once, split where its stale badge
// goes — whether a layer is stale changes without the version. An uncached
// list page then copies markup instead of escaping every field of its 400
// rows (at the size of the public index a third of the page's CPU).
type layerList struct {
	rows   []store.LayerRow
	markup map[int64]layerRowMarkup // by layer branch id
}

// layerRowMarkup is a row's markup before and after its stale badge.
type layerRowMarkup struct{ head, tail string }

func newLayerList(rows []store.LayerRow, branch string) *layerList {
	l := &layerList{rows: rows, markup: make(map[int64]layerRowMarkup, len(rows))}
	var w rowWriter
	for i := range rows {
		r := &rows[i]
		w.Reset()
		w.WriteString("\n  <tr>\n    <td class=\"name\"><a href=\"")
		w.url(branchPathOf(branch), true)
		w.WriteString("layer/")
		w.url(r.Name, false)
		w.WriteString(`/">`)
		w.text(r.Name)
		w.WriteString(`</a> `)
		if r.YPName != "" { // the "yp" partial
			if r.YPLinkURL != "" {
				w.WriteString(`<a href="`)
				w.url(r.YPLinkURL, true)
				w.WriteString(`" class="yp" title="Yocto Project Compatible `)
				w.text(r.YPName)
				w.WriteString(`">`)
			}
			w.WriteString(`<span class="badge yp-badge">YP Compatible `)
			w.text(r.YPName)
			w.WriteString(`</span>`)
			if r.YPLinkURL != "" {
				w.WriteString(`</a>`)
			}
		}
		w.WriteString("\n      ")
		if r.VCSLastRev == "" {
			w.WriteString(`<span class="badge pending" title="No update has indexed this layer on this branch yet">not indexed yet</span>`)
		}
		w.WriteString("\n      ")
		head := w.String()
		w.Reset()
		w.WriteString("</td>\n    <td>")
		w.text(r.Summary)
		w.WriteString("</td>\n    <td>")
		w.WriteString(`<span class="badge type-`) // the "typebadge" partial
		w.text(r.LayerType)
		w.WriteString(`">`)
		w.text(store.LayerTypeLabel(r.LayerType))
		w.WriteString("</span></td>\n    <td class=\"repo\"><code>")
		w.text(r.VCSURL)
		w.WriteString("</code>\n      ")
		if r.VCSWebURL != "" {
			w.WriteString(`<a class="sublink" href="`)
			w.url(r.VCSWebURL, true)
			w.WriteString(`">web repo</a>`)
		}
		w.WriteString("\n      ")
		if t := r.TreeURL(); t != "" {
			w.WriteString(`<a class="sublink" href="`)
			w.url(t, true)
			w.WriteString(`">tree</a>`)
		}
		w.WriteString("</td>\n  </tr>\n  ")
		l.markup[r.LayerBranchID] = layerRowMarkup{head: head, tail: w.String()}
	}
	return l
}

// html is the table's rows for items, rows of l (filtered, sorted, paged,
// each marked stale or not).
func (l *layerList) html(items []store.LayerRow, staleDays int) template.HTML {
	var b strings.Builder
	n := 0
	for i := range items {
		m := l.markup[items[i].LayerBranchID]
		n += len(m.head) + len(m.tail)
	}
	b.Grow(n + 200)
	for i := range items {
		m := l.markup[items[i].LayerBranchID]
		b.WriteString(m.head)
		if items[i].Stale {
			b.WriteString(`<span class="badge stale" title="No successful update in `)
			b.WriteString(strconv.Itoa(staleDays))
			b.WriteString(` days, or its repository is gone">stale</span>`)
		}
		b.WriteString(m.tail)
	}
	return template.HTML(b.String())
}

// branchPathOf is the templates' branchPath.
func branchPathOf(b string) string { return "/layerindex/branch/" + url.PathEscape(b) + "/" }

// layerTabLinks are the links of a layer page's tabs, each with how much
// it holds (but the releases and dependencies tabs).
func layerTabLinks(branch, layer, current string, n store.LayerCounts) template.HTML {
	var w rowWriter
	w.Grow(len(layerTabs) * 120)
	base := branchPathOf(branch) + "layer/" + layer + "/"
	for _, t := range layerTabs {
		w.WriteString(`<a href="`)
		w.url(base, true)
		if t.Key != "recipes" {
			w.WriteString("?tab=")
			w.WriteString(t.Key) // letters only: nothing to escape
		}
		w.WriteByte('"')
		if t.Key == current {
			w.WriteString(` aria-current="page"`)
		}
		w.WriteByte('>')
		w.text(t.Label)
		w.WriteString("\n    ")
		var count int64 = -1
		switch t.Key {
		case "recipes":
			count = n.Recipes
		case "machines":
			count = n.Machines
		case "distros":
			count = n.Distros
		case "classes":
			count = n.Classes
		case "appends":
			count = n.Appends
		case "updates":
			count = n.Updates
		}
		if count >= 0 {
			w.WriteString(`<span class="n">`)
			w.int(count)
			w.WriteString(`</span>`)
		}
		w.WriteString(`</a>`)
	}
	return template.HTML(w.String())
}

// dependentRows writes the rows of the recipe page's "Recipes that depend
// on it" table (bp is the branch's path): up to 500 on a popular recipe
// (zlib, openssl) of the public index, where the template's {{range}} was
// most of the page's CPU.
func (w *rowWriter) dependentRows(rows []store.Dependent, bp string) {
	w.Grow(len(rows) * 220)
	for i := range rows {
		d := &rows[i]
		w.WriteString(`<tr><td class="name"><a href="/layerindex/recipe/`)
		w.int(d.ID)
		w.WriteString(`/">`)
		w.text(d.PN)
		w.WriteString(`</a> <span class="muted small">`)
		w.text(d.PV)
		w.WriteString("</span></td>\n      <td><a href=\"")
		w.url(bp, true)
		w.WriteString("layer/")
		w.url(d.LayerName, false)
		w.WriteString(`/">`)
		w.text(d.LayerName)
		w.WriteString(`</a></td><td>`)
		for j, v := range d.Via {
			if j > 0 {
				w.WriteString(", ")
			}
			w.WriteString("<code>")
			w.text(v)
			w.WriteString("</code>")
		}
		w.WriteString(`</td></tr>`)
	}
}

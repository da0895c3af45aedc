package web

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"

	"layerindex/internal/store"
)

// searchRows writes the result rows of the search page. Executed by
// html/template, the 50 rows of a page were two thirds of a search's CPU
// once the search itself came from memory (a reflective call and an
// escaper per value, a partial per row); written here they cost a few
// microseconds. The bytes are the template's: TestSearchRowsAsTemplate
// renders the same rows with the markup the page had and the layout's
// "recipeflags" partial, and compares.
func searchRows(branch string, rows []store.RecipeRow) template.HTML {
	var b strings.Builder
	b.Grow(len(rows) * 400)
	layerBase := urlNormalize("/layerindex/branch/" + url.PathEscape(branch) + "/")
	for i := range rows {
		r := &rows[i]
		b.WriteString("\n  <tr>\n    <td class=\"name\"><a href=\"/layerindex/recipe/")
		b.WriteString(strconv.FormatInt(r.ID, 10))
		b.WriteString("/\">")
		htmlEscape(&b, r.PN)
		b.WriteString("</a>")
		if r.IsImage() {
			b.WriteString(` <span class="badge image" title="Builds an image">image</span>`)
		}
		if r.Blacklisted != "" {
			b.WriteString(` <span class="badge err" title="`)
			htmlEscape(&b, r.Blacklisted)
			b.WriteString(`">blacklisted</span>`)
		}
		if r.SkipReason != "" {
			b.WriteString(` <span class="badge warnb" title="`)
			htmlEscape(&b, r.SkipReason)
			b.WriteString(`">skipped</span>`)
		}
		if r.Unevaluated != 0 {
			b.WriteString(` <span class="badge partial" title="The parser could not evaluate `)
			b.WriteString(strconv.Itoa(r.Unevaluated))
			b.WriteString(` expression(s) in this recipe">partly evaluated</span>`)
		}
		b.WriteString("</td>\n    <td>")
		htmlEscape(&b, r.PV)
		b.WriteString("</td>\n    <td>")
		htmlEscape(&b, r.ShortDesc())
		b.WriteString("</td>\n    <td><a href=\"")
		htmlEscape(&b, layerBase)
		b.WriteString("layer/")
		htmlEscape(&b, urlNormalize(r.LayerName))
		b.WriteString("/\">")
		htmlEscape(&b, r.LayerName)
		b.WriteString("</a></td>\n  </tr>\n  ")
	}
	return template.HTML(b.String())
}

// htmlEscape escapes text as html/template does in text and quoted
// attributes (its htmlEscaper and attrEscaper).
func htmlEscape(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case 0:
			rep = "\uFFFD"
		case '"':
			rep = "&#34;"
		case '&':
			rep = "&amp;"
		case '\'':
			rep = "&#39;"
		case '+':
			rep = "&#43;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// urlNormalize percent-encodes what html/template's URL normalizer does in
// a URL attribute: every byte but letters, digits, reserved characters and
// valid percent escapes.
func urlNormalize(s string) string {
	var b strings.Builder
	last := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '!', '#', '$', '&', '*', '+', ',', '/', ':', ';', '=', '?', '@', '[', ']', '-', '.', '_', '~':
			continue
		case '%':
			if i+2 < len(s) && isHexDigit(s[i+1]) && isHexDigit(s[i+2]) {
				continue
			}
		default:
			if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				continue
			}
		}
		b.WriteString(s[last:i])
		const hex = "0123456789abcdef"
		b.Write([]byte{'%', hex[c>>4], hex[c&15]})
		last = i + 1
	}
	if last == 0 {
		return s
	}
	b.WriteString(s[last:])
	return b.String()
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

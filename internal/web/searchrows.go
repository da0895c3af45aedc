package web

import (
	"html/template"
	"net/url"

	"layerindex/internal/store"
)

// searchRows writes the result rows of the search page. Executed by
// html/template, the 50 rows of a page were two thirds of a search's CPU
// once the search itself came from memory (a reflective call and an
// escaper per value, a partial per row); written here they cost a few
// microseconds. The bytes are the template's: TestSearchRowsAsTemplate
// renders the same rows with the markup the page had and the layout's
// "recipeflags" partial, and compares. The escaping is the layer pages'
// (rowWriter, layerrows.go).
func searchRows(branch string, rows []store.RecipeRow) template.HTML {
	var w rowWriter
	w.Grow(len(rows) * 400)
	layerBase := "/layerindex/branch/" + url.PathEscape(branch) + "/layer/"
	for i := range rows {
		r := &rows[i]
		w.WriteString("\n  <tr>\n    <td class=\"name\"><a href=\"/layerindex/recipe/")
		w.int(r.ID)
		w.WriteString("/\">")
		w.text(r.PN)
		w.WriteString("</a>")
		w.recipeFlags(r)
		w.WriteString("</td>\n    <td>")
		w.text(r.PV)
		w.WriteString("</td>\n    <td>")
		w.text(r.ShortDesc())
		w.WriteString("</td>\n    <td><a href=\"")
		w.url(layerBase, true)
		w.url(r.LayerName, false)
		w.WriteString("/\">")
		w.text(r.LayerName)
		w.WriteString("</a></td>\n  </tr>\n  ")
	}
	return template.HTML(w.String())
}

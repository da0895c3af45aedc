package web

import (
	"html/template"
	"strings"
	"testing"

	"layerindex/internal/store"
	"layerindex/templates"
)

// searchRowsTemplate is the markup the search page's rows had as a
// template: searchRows must write what html/template made of it.
const searchRowsTemplate = `{{define "ref"}}{{range .Items}}
  <tr>
    <td class="name"><a href="/layerindex/recipe/{{.ID}}/">{{.PN}}</a>{{template "recipeflags" .}}</td>
    <td>{{.PV}}</td>
    <td>{{.ShortDesc}}</td>
    <td><a href="{{branchPath $.Branch}}layer/{{.LayerName}}/">{{.LayerName}}</a></td>
  </tr>
  {{end}}{{end}}`

func TestSearchRowsAsTemplate(t *testing.T) {
	tmpl, err := template.New("").Funcs(templateFuncs()).ParseFS(templates.FS, "layout/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if tmpl, err = tmpl.Parse(searchRowsTemplate); err != nil {
		t.Fatal(err)
	}
	odd := "a<b>&\"c'd+e\x00f é%41%zz %4 #?x=1&y=2 :/\\ 💡"
	rows := []store.RecipeRow{
		{ID: 1, PN: "zlib", PV: "1.3.1", Summary: "Compression library", LayerName: "openembedded-core", Inherits: "autotools"},
		{ID: 22, PN: "core-image-minimal", PV: "1.0", Description: "Only a description", LayerName: "meta-oe", Inherits: "core-image image"},
		{ID: 333, PN: odd, PV: odd, Summary: odd, LayerName: odd, Blacklisted: odd, SkipReason: odd, Unevaluated: 3},
		{ID: 4444, PN: "x", LayerName: "meta x+y", Blacklisted: "no", Unevaluated: 1, Inherits: "image"},
		{},
	}
	for _, branch := range []string{"master", "release/1.0", odd} {
		var want strings.Builder
		if err := tmpl.ExecuteTemplate(&want, "ref", struct {
			Branch string
			Items  []store.RecipeRow
		}{branch, rows}); err != nil {
			t.Fatal(err)
		}
		if got := string(searchRows(branch, rows)); got != want.String() {
			t.Errorf("branch %q:\ngot  %s\nwant %s", branch, got, want.String())
		}
	}
	if searchRows("master", nil) != "" {
		t.Error("rows written for no results")
	}
}

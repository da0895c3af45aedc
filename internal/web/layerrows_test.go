package web

import (
	"html/template"
	"strings"
	"testing"

	"layerindex/internal/store"
	"layerindex/templates"
)

// The rows layerrows.go writes must be byte for byte what the templates'
// {{range}} wrote before, escaping included: both are rendered here from
// rows full of characters html/template escapes.

// Row markup as the templates had it.
const (
	recipeRowsTemplate = `{{range .}}
      <tr><td class="name"><a href="/layerindex/recipe/{{.ID}}/">{{.PN}}</a>{{template "recipeflags" .}}</td><td>{{.PV}}</td><td>{{.ShortDesc}}</td></tr>{{end}}`
	layerRowsTemplate = `{{range .Items}}
  <tr>
    <td class="name"><a href="{{branchPath $.Branch}}layer/{{.Name}}/">{{.Name}}</a> {{template "yp" .}}
      {{if not .VCSLastRev}}<span class="badge pending" title="No update has indexed this layer on this branch yet">not indexed yet</span>{{end}}
      {{if .Stale}}<span class="badge stale" title="No successful update in {{$.StaleDays}} days, or its repository is gone">stale</span>{{end}}</td>
    <td>{{.Summary}}</td>
    <td>{{template "typebadge" .LayerType}}</td>
    <td class="repo"><code>{{.VCSURL}}</code>
      {{if .VCSWebURL}}<a class="sublink" href="{{.VCSWebURL}}">web repo</a>{{end}}
      {{with .TreeURL}}<a class="sublink" href="{{.}}">tree</a>{{end}}</td>
  </tr>
  {{end}}`
)

func rowsTemplate(t *testing.T, text string) *template.Template {
	t.Helper()
	tpl, err := template.New("").Funcs(templateFuncs()).ParseFS(templates.FS, "layout/partials.html")
	if err != nil {
		t.Fatal(err)
	}
	if tpl, err = tpl.New("rows").Parse(text); err != nil {
		t.Fatal(err)
	}
	return tpl
}

// nasty are strings with every character the escapers treat specially.
var nasty = []string{"", "plain", `a"b'c&d<e>f+g`, "nul\x00byte", "ünïcødé ✔", "tab\tand\nnewline",
	"100% (sure) {x} `q` |p| \\ ^", "javascript:alert(1)", "JavaScript:x", "http://h/p?q=1&r=2#f", "HTTPS://H/a b",
	"mailto:a@b", "data:text/html,x", "/rel/path:with:colons", "no/scheme:here", "ftp://x", "%41%zz", "%4", "end%", "%%41", "%Af%fA"}

func TestLayerRecipeRowsMatchTemplate(t *testing.T) {
	tpl := rowsTemplate(t, recipeRowsTemplate)
	var rows []store.RecipeRow
	for i, s := range nasty {
		rows = append(rows, store.RecipeRow{ID: int64(i + 1), PN: s, PV: s, Summary: s, Blacklisted: s, SkipReason: s,
			Unevaluated: i % 3})
		rows = append(rows, store.RecipeRow{ID: int64(1000 + i), PN: "p" + s, Description: s, Inherits: []string{
			"", "image", "a core-image b", "images", "x\timage", "core-image\n", "imagex core"}[i%7]})
	}
	var want strings.Builder
	if err := tpl.ExecuteTemplate(&want, "rows", rows); err != nil {
		t.Fatal(err)
	}
	if got := string(layerRecipeRows(rows)); got != want.String() {
		t.Errorf("recipe rows differ from the template's:\ngot:\n%s\nwant:\n%s", got, want.String())
	}
	if got := string(layerRecipeRows(nil)); got != "" {
		t.Errorf("no rows: %q", got)
	}
}

func TestLayerListRowsMatchTemplate(t *testing.T) {
	tpl := rowsTemplate(t, layerRowsTemplate)
	var rows []store.LayerRow
	for i, s := range nasty {
		// Each row a layer branch of its own, as on a branch's list (the
		// markup is kept by layer branch).
		rows = append(rows, store.LayerRow{LayerBranchID: int64(2*i + 1), Name: s, Summary: s, LayerType: []string{"A", "B", "S", "D", "M", s}[i%6],
			VCSURL: s, VCSWebURL: s, VCSWebTreeBaseURL: s, VCSSubdir: s, ActualBranch: s, VCSLastRev: s, YPName: s,
			YPLinkURL: nasty[(i+3)%len(nasty)], Stale: i%2 == 0, BranchName: "master"})
		rows = append(rows, store.LayerRow{LayerBranchID: int64(2*i + 2), Name: "meta-" + s, VCSURL: "https://git.example/" + s,
			VCSWebTreeBaseURL: "https://web.example/tree/%branch%/%path%", VCSSubdir: s, YPName: s, BranchName: "master"})
	}
	for _, branch := range []string{"master", "a b/c&d"} {
		data := struct {
			Items     []store.LayerRow
			Branch    string
			StaleDays int
		}{rows, branch, 42}
		var want strings.Builder
		if err := tpl.ExecuteTemplate(&want, "rows", data); err != nil {
			t.Fatal(err)
		}
		if got := string(layerListRows(rows, branch, 42)); got != want.String() {
			t.Errorf("layer rows (branch %q) differ from the template's:\ngot:\n%s\nwant:\n%s", branch, got, want.String())
		}
	}
}

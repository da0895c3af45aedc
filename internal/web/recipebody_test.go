package web

import (
	"html/template"
	"strings"
	"testing"
	"time"

	"layerindex/internal/setup"
	"layerindex/internal/store"
)

// recipeContentTemplate is the recipe page's content as a template, the
// form recipeBody replaced: recipeBody must write exactly what it writes,
// escaping included. Two changes from the template as it was: the rows of
// dependents are in it (they were written in Go already), and a patch's
// link is closed only when it was opened (the template closed it whenever
// the layer had a file URL).
const recipeContentTemplate = `{{define "content"}}
{{$r := .P.Recipe}}{{$lb := .P.LayerBranch}}{{$l := $lb.Layer}}{{$b := $lb.Branch.Name}}
<nav class="breadcrumb" aria-label="Breadcrumb">
  <a href="{{branchPath $b}}layers/">Layers on {{$b}}</a> <span aria-hidden="true">›</span>
  <a href="{{branchPath $b}}layer/{{$l.Name}}/">{{$l.Name}}</a> <span aria-hidden="true">›</span>
  <span aria-current="page">{{$r.PN}}</span>
</nav>
<div class="page-head">
  <h1>{{$r.PN}} <span class="version">{{if $r.PE}}{{$r.PE}}:{{end}}{{$r.PV}}{{if $r.PR}}-{{$r.PR}}{{end}}</span></h1>
  {{if $r.Summary}}<p class="lead">{{$r.Summary}}</p>{{end}}
</div>

{{if $r.Unevaluated}}<div class="alert partial-alert" role="note"><strong>Partly evaluated.</strong> The parser could not evaluate {{$r.Unevaluated}} inline Python expression{{plural $r.Unevaluated}} in this recipe; values shown here may be incomplete.</div>{{end}}
{{if $r.Blacklisted}}<div class="alert err" role="note"><strong>Blacklisted:</strong> {{$r.Blacklisted}}</div>{{end}}
{{if $r.SkipReason}}<div class="alert warn" role="note"><strong>Skipped by BitBake:</strong> {{$r.SkipReason}}</div>{{end}}

<table class="fields">
  <tbody>
  {{if $r.Description}}<tr><th scope="row">Description</th><td class="pre-wrap">{{$r.Description}}</td></tr>{{end}}
  <tr><th scope="row">Version</th><td>{{$r.PV}}{{if $r.PE}} <span class="muted">epoch {{$r.PE}}</span>{{end}}{{if $r.PR}} <span class="muted">revision {{$r.PR}}</span>{{end}}{{if $r.SrcRev}}<br><span class="muted">SRCREV</span> <code>{{$r.SrcRev}}</code>{{end}}</td></tr>
  {{if $r.Section}}<tr><th scope="row">Section</th><td>{{$r.Section}}</td></tr>{{end}}
  <tr><th scope="row">License</th><td>{{$r.License}}</td></tr>
  {{if $r.Homepage}}<tr><th scope="row">Homepage</th><td>{{if isURL $r.Homepage}}<a href="{{$r.Homepage}}">{{$r.Homepage}}</a>{{else}}{{$r.Homepage}}{{end}}</td></tr>{{end}}
  {{if $r.Bugtracker}}<tr><th scope="row">Bug tracker</th><td>{{if isURL $r.Bugtracker}}<a href="{{$r.Bugtracker}}">{{$r.Bugtracker}}</a>{{else}}{{$r.Bugtracker}}{{end}}</td></tr>{{end}}
  <tr><th scope="row">Recipe file</th><td>{{with .P.RecipeFileURL}}<a href="{{.}}"><code>{{$r.Path}}</code></a>{{else}}<code>{{$r.Path}}</code>{{end}}</td></tr>
  {{if .P.Files}}<tr><th scope="row">Files read</th><td><ul class="plain">{{range .P.Files}}<li>{{if .URL}}<a href="{{.URL}}"><code>{{.Path}}</code></a>{{else}}<code>{{.Path}}</code>{{end}}</li>{{end}}</ul></td></tr>{{end}}
  {{if not $r.UpdatedAt.IsZero}}<tr><th scope="row">Last indexed</th><td><span title="{{date $r.UpdatedAt}}">{{ago (ptr $r.UpdatedAt)}}</span></td></tr>{{end}}
  <tr><th scope="row">Layer</th><td><a href="{{branchPath $b}}layer/{{$l.Name}}/">{{$l.Name}}</a> <span class="muted">({{$b}} branch)</span></td></tr>
  {{if $r.Inherits}}<tr><th scope="row">Inherits</th><td class="words">{{range fields $r.Inherits}}<a href="{{branchPath $b}}recipes/?q=inherits%3A{{.}}" title="Recipes inheriting {{.}}">{{.}}</a> {{end}}</td></tr>{{end}}
  {{if $r.Provides}}<tr><th scope="row">Provides</th><td class="words">{{range fields $r.Provides}}<code>{{.}}</code> {{end}}</td></tr>{{end}}
  {{if $r.BBClassExtend}}<tr><th scope="row">BBCLASSEXTEND</th><td class="words">{{range fields $r.BBClassExtend}}<code>{{.}}</code> {{end}}</td></tr>{{end}}
  {{if $r.ConfigOpts}}<tr><th scope="row">Configure options</th><td><code class="wrap">{{$r.ConfigOpts}}</code></td></tr>{{end}}
  <tr><th scope="row">Build dependencies</th><td>
    {{if .P.Depends}}<ul class="deps">{{range .P.Depends}}<li>{{dep . $b}}</li>{{end}}</ul>
    <p class="muted small">From DEPENDS; PACKAGECONFIG options below may add more depending on configuration.</p>
    {{else}}<span class="muted">None in DEPENDS.</span>{{end}}</td></tr>
  </tbody>
</table>

{{if .P.PackageConfigs}}
<section>
  <h2>PACKAGECONFIG options</h2>
  <div class="table-wrap"><table class="list">
    <thead><tr><th scope="col">Option</th><th scope="col">Enabled</th><th scope="col">Disabled</th><th scope="col">Build dependencies</th></tr></thead>
    <tbody>{{range .P.PackageConfigs}}<tr>
      <td class="name">{{.Feature}}</td><td><code class="wrap">{{.WithOption}}</code></td><td><code class="wrap">{{.WithoutOption}}</code></td>
      <td>{{range .Deps}}{{dep . $b}} {{end}}</td></tr>{{end}}
    </tbody></table></div>
</section>
{{end}}

<section>
  <h2>Sources</h2>
  {{if .P.Sources}}<ul class="plain sources">{{range .P.Sources}}<li>{{with sourceURL .URL}}<a href="{{.}}">{{end}}<code class="wrap">{{.URL}}</code>{{if sourceURL .URL}}</a>{{end}}{{if .SHA256Sum}} <span class="muted small">sha256 {{.SHA256Sum}}</span>{{end}}</li>{{end}}</ul>
  {{else}}<p class="muted">No remote sources (only local files, or none).</p>{{end}}
</section>

{{if .P.Patches}}
<section>
  <h2>Patches</h2>
  <div class="table-wrap"><table class="list">
    <thead><tr><th scope="col">Patch</th><th scope="col">Upstream status</th></tr></thead>
    <tbody>{{range .P.Patches}}<tr{{if not .Applied}} class="muted"{{end}}>
      <td>{{with $.P.PatchURL .}}<a href="{{.}}">{{end}}<code>{{or .SrcPath .Path}}</code>{{if $.P.PatchURL .}}</a>{{end}}{{if not .Applied}} <span class="badge muted-badge">not applied</span>{{end}}{{if ne .Striplevel 1}} <span class="muted small">-p{{.Striplevel}}</span>{{end}}</td>
      <td><span class="badge patch-{{.Status}}">{{patchLabel .Status}}</span> {{.StatusExtra}}</td></tr>{{end}}
    </tbody></table></div>
</section>
{{end}}

<section>
  <h2>bbappends</h2>
  {{if .P.Appends}}
  <div class="table-wrap"><table class="list">
    <thead><tr><th scope="col">bbappend</th><th scope="col">Layer</th><th scope="col">Applies</th></tr></thead>
    <tbody>{{range .P.Appends}}<tr{{if not .Applies}} class="muted"{{end}}>
      <td>{{if .URL}}<a href="{{.URL}}"><code>{{.Filepath}}/{{.Filename}}</code></a>{{else}}<code>{{.Filepath}}/{{.Filename}}</code>{{end}}</td>
      <td><a href="{{branchPath $b}}layer/{{.LayerName}}/">{{.LayerName}}</a></td>
      <td>{{if .Applies}}yes{{else}}no — for another version{{end}}</td></tr>{{end}}
    </tbody></table></div>
  {{else}}<p class="muted">No layer on {{$b}} appends to this recipe.</p>{{end}}
</section>

<section id="dependents">
  <h2>Recipes that depend on it</h2>
  {{if .Dependents}}<p class="muted small">{{.NDependents}} recipe{{plural .NDependents}} on {{$b}} name something {{$r.PN}} provides in DEPENDS or a PACKAGECONFIG option{{if gt .NDependents (len .Dependents)}}; the first {{len .Dependents}} are listed{{end}}.</p>
  <div class="table-wrap"><table class="list">
    <thead><tr><th scope="col">Recipe</th><th scope="col">Layer</th><th scope="col">Through</th></tr></thead>
    <tbody>{{range .Dependents}}<tr><td class="name"><a href="/layerindex/recipe/{{.ID}}/">{{.PN}}</a> <span class="muted small">{{.PV}}</span></td>
      <td><a href="{{branchPath $b}}layer/{{.LayerName}}/">{{.LayerName}}</a></td><td>{{range $i, $v := .Via}}{{if $i}}, {{end}}<code>{{$v}}</code>{{end}}</td></tr>{{end}}</tbody>
  </table></div>
  {{else}}<p class="muted">No recipe on {{$b}} depends on {{$r.PN}}.</p>{{end}}
  <p class="small"><a href="/layerindex/recipe_deps/?branch={{$.P.LayerBranch.BranchID}}&amp;layer={{$l.ID}}">Dependencies of every recipe in {{$l.Name}}</a></p>
</section>

{{if .Covered}}<section id="comparison">
  <h2>Other distributions' packages it covers</h2>
  <ul class="plain">{{range .Covered}}<li><a href="/layerindex/comparison/recipe/{{.ID}}/">{{.Name}} {{.Version}}</a> in <a href="/layerindex/comparison/recipes/{{.Branch}}/">{{.Branch}}</a> <span class="badge cover-{{coverGroup .CoverStatus}}">{{coverLabel .CoverStatus}}</span></li>{{end}}</ul>
</section>{{end}}

<section id="layersets">
  <h2>Layer sets</h2>
  {{if .LayerSets}}<p class="muted small">Published layer sets on {{$b}} whose build has {{$l.Name}}, and so {{$r.PN}}:</p>
  <ul class="plain">{{range .LayerSets}}<li><a href="/layerindex/layersets/#set-{{.Set.Name}}">{{.Set.Name}}</a>{{with .Set.Description}} — {{.}}{{end}}
    <span class="muted small">({{if .Picked}}picked{{else}}as a dependency{{end}})</span></li>{{end}}</ul>
  {{else}}<p class="muted">No published layer set on {{$b}} includes {{$l.Name}}.</p>{{end}}
</section>

<section>
  <h2>Other branches</h2>
  {{if .P.OtherBranches}}<ul class="plain">{{range .P.OtherBranches}}<li><a href="/layerindex/recipe/{{.ID}}/">{{$r.PN}} {{.PV}}</a> on <strong>{{.BranchName}}</strong></li>{{end}}</ul>
  {{else}}<p class="muted">{{$l.Name}} has no recipe named {{$r.PN}} on any other branch.</p>{{end}}
  <p><a href="/layerindex/feeds/recipe/{{urlquery $r.PN}}/">Follow {{$r.PN}} on every layer (Atom feed)</a></p>
</section>
{{end}}

{{define "dep"}}<span class="dep"><code>{{.D.Name}}</code>{{if .D.Providers}} <span class="providers">→ {{range $i, $p := .D.Providers}}{{if $i}}, {{end}}<a href="/layerindex/recipe/{{$p.RecipeID}}/" title="{{$p.PN}} {{$p.PV}} in {{$p.LayerName}}">{{$p.PN}}</a> <span class="muted small">({{$p.LayerName}})</span>{{end}}</span>{{else}} <span class="muted small" title="No recipe on this branch provides it">(no provider found)</span>{{end}}</span>{{end}}`

// depArg carries a dependency and the branch into the "dep" template.
type depArg struct {
	D      store.DepProviders
	Branch string
}

func TestRecipeBodyMatchesTemplate(t *testing.T) {
	var tpl *template.Template
	funcs := templateFuncs()
	funcs["dep"] = func(d store.DepProviders, branch string) (template.HTML, error) {
		var b strings.Builder
		err := tpl.ExecuteTemplate(&b, "dep", depArg{d, branch})
		return template.HTML(b.String()), err
	}
	tpl = template.Must(template.New("").Funcs(funcs).Parse(recipeContentTemplate))

	n := len(nasty)
	at := func(i int) string { return nasty[i%n] }
	updated := time.Now().Add(-50 * time.Hour)
	pages := 0
	for i := 0; i < 3*n; i++ {
		s, s2, s3 := at(i), at(i+7), at(i+13)
		full := i%3 != 2 // every optional part filled, or every one empty
		layer := &store.Layer{ID: int64(i + 1), Name: "meta-" + s2}
		if i%2 == 0 {
			layer.VCSWebFileBaseURL = "https://git.example.org/" + s3 + "/tree/%path%?h=%branch%"
		}
		lb := store.LayerBranch{ID: int64(i + 1), BranchID: int64(i%4 + 1), Layer: layer, Branch: &store.Branch{Name: at(i + 3)}}
		if i%5 == 0 {
			lb.VCSSubdir = "sub/" + s
		}
		r := store.Recipe{ID: int64(100 + i), PN: "pn" + s, PV: s2, License: s3, Filename: s + ".bb", Filepath: "recipes-" + s2}
		p := &store.RecipePage{Recipe: r, LayerBranch: lb}
		d := &recipeData{P: p}
		if full {
			r := &p.Recipe
			r.PE, r.PR, r.Summary, r.Description, r.SrcRev, r.Section = at(i+1), at(i+2), s3, s+"\n"+s2, s2, s
			r.Homepage, r.Bugtracker = []string{s, "https://h.example/" + s, "gopher://x/" + s2}[i%3], s2+"://"+s
			r.Inherits, r.Provides, r.BBClassExtend, r.ConfigOpts = "autotools "+s+" "+s2, s2+" "+s3, s, "--with-"+s
			r.Blacklisted, r.SkipReason, r.Unevaluated = s2, s3, i%3
			r.UpdatedAt = updated
			p.Files = []store.FileRef{{Path: s, URL: []string{"", "https://f/" + s2, "javascript:" + s}[i%3]}, {Path: s2}}
			deps := []store.DepProviders{{Name: s}, {Name: s2, Providers: []store.Provider{
				{RecipeID: 7, PN: s, PV: s2, LayerName: s3}, {RecipeID: 8, PN: "x", PV: "1", LayerName: "meta-" + s}}}}
			p.Depends = deps
			p.PackageConfigs = []store.PackageConfigRow{{RecipePackageConfig: store.RecipePackageConfig{Feature: s, WithOption: s2, WithoutOption: s3}, Deps: deps},
				{RecipePackageConfig: store.RecipePackageConfig{Feature: "f"}}}
			p.Sources = []store.RecipeSource{{URL: "https://s.example/" + s, SHA256Sum: s2}, {URL: "git://github.com/" + s2 + ".git"}, {URL: s3}}
			p.Patches = []store.RecipePatch{{Path: s, SrcPath: s2, Status: s3, StatusExtra: s, Applied: true, Striplevel: 1},
				{Path: "p/" + s, Status: "Pending", Striplevel: i % 3}}
			p.Appends = []store.AppendRow{{Filename: s + ".bbappend", Filepath: s2, LayerName: s3, URL: "https://a/" + s, Applies: true},
				{Filename: "x.bbappend", LayerName: "meta-" + s}}
			p.OtherBranches = []store.OtherBranchRecipe{{ID: 5, PV: s, BranchName: s2}, {ID: 6, BranchName: "b"}}
			d.Dependents = []store.Dependent{{ID: 9, PN: s, PV: s2, LayerName: s3, Via: []string{s, s2 + " (PACKAGECONFIG)"}}, {ID: 10, PN: "q", LayerName: "l"}}
			d.NDependents = 2 + i%2
			d.LayerSets = []setup.Membership{{Set: &store.LayerSet{Name: s, Description: s2}, Picked: true},
				{Set: &store.LayerSet{Name: "set-" + s3}}}
			d.Covered = []store.CoveredPackage{{ID: 3, Name: s, Version: s2, Branch: s3, CoverStatus: []string{"U", "P", s}[i%3]}}
		}
		var want strings.Builder
		if err := tpl.ExecuteTemplate(&want, "content", d); err != nil {
			t.Fatal(err)
		}
		if got := string(recipeBody(d)); got != want.String() {
			a, b := got, want.String()
			k := 0
			for k < min(len(a), len(b)) && a[k] == b[k] {
				k++
			}
			t.Errorf("page %d: recipeBody differs from the template at byte %d:\ngot:  %q\nwant: %q", i, k, a[k:min(len(a), k+160)], b[k:min(len(b), k+160)])
		}
		pages++
	}
	if pages < 60 {
		t.Fatalf("only %d pages compared", pages)
	}
}

package web

import (
	"html/template"
	"net/url"
	"strings"

	"layerindex/internal/setup"
	"layerindex/internal/store"
)

// recipeData is the recipe page's data.
type recipeData struct {
	pageData
	P           *store.RecipePage
	Dependents  []store.Dependent
	NDependents int
	LayerSets   []setup.Membership
	Covered     []store.CoveredPackage
	// Body is the page's content, written by recipeBody.
	Body template.HTML
}

// recipeBody writes the recipe page's content — the page most often
// rendered on a cache miss. As a template, its hundred-odd actions (each
// field, method and escaper a reflective call) were 40 % of the page's CPU
// at the size of the public index; here they are plain writes. The markup
// and the escaping are exactly those of the template it replaces
// (recipebody_test.go keeps that template and compares the two on recipes
// full of characters html/template escapes).
func recipeBody(d *recipeData) template.HTML {
	p := d.P
	r, lb := &p.Recipe, &p.LayerBranch
	l, b := lb.Layer, lb.Branch.Name
	bp := branchPathOf(b)
	var w rowWriter
	w.Grow(8192 + len(r.Description) + len(d.Dependents)*220)
	// layerLink is an <a> to the layer's page on the branch.
	layerLink := func(name string) {
		w.WriteString(`<a href="`)
		w.url(bp, true)
		w.WriteString("layer/")
		w.url(name, false)
		w.WriteString(`/">`)
		w.text(name)
		w.WriteString(`</a>`)
	}
	// link is an <a> around inner when href is not empty.
	link := func(href string, inner func()) {
		if href == "" {
			inner()
			return
		}
		w.WriteString(`<a href="`)
		w.url(href, true)
		w.WriteString(`">`)
		inner()
		w.WriteString(`</a>`)
	}
	code := func(s string) func() {
		return func() { w.WriteString("<code>"); w.text(s); w.WriteString("</code>") }
	}
	// row is a field of the table, written when value is not empty; td
	// opens its cell.
	row := func(label, value, td string, cell func()) {
		w.WriteString("  ")
		if value != "" {
			w.WriteString(`<tr><th scope="row">`)
			w.WriteString(label)
			w.WriteString(`</th>`)
			w.WriteString(td)
			cell()
			w.WriteString(`</td></tr>`)
		}
		w.WriteString("\n")
	}
	maybeURL := func(s string) func() {
		return func() {
			if strings.Contains(s, "://") {
				link(s, func() { w.text(s) })
			} else {
				w.text(s)
			}
		}
	}

	// listTable opens a list table with its column heads.
	listTable := func(cols ...string) {
		w.WriteString("<div class=\"table-wrap\"><table class=\"list\">\n    <thead><tr>")
		for _, c := range cols {
			w.WriteString(`<th scope="col">`)
			w.WriteString(c)
			w.WriteString(`</th>`)
		}
		w.WriteString("</tr></thead>\n    <tbody>")
	}
	// listRow opens a row of a list table and its first cell, muted for
	// what does not apply.
	listRow := func(muted bool) {
		w.WriteString("<tr")
		if muted {
			w.WriteString(` class="muted"`)
		}
		w.WriteString(">\n      <td>")
	}

	w.WriteString("\n\n<nav class=\"breadcrumb\" aria-label=\"Breadcrumb\">\n  <a href=\"")
	w.url(bp, true)
	w.WriteString(`layers/">Layers on `)
	w.text(b)
	w.WriteString("</a> <span aria-hidden=\"true\">›</span>\n  ")
	layerLink(l.Name)
	w.WriteString(" <span aria-hidden=\"true\">›</span>\n  <span aria-current=\"page\">")
	w.text(r.PN)
	w.WriteString("</span>\n</nav>\n<div class=\"page-head\">\n  <h1>")
	w.text(r.PN)
	w.WriteString(` <span class="version">`)
	if r.PE != "" {
		w.text(r.PE)
		w.WriteByte(':')
	}
	w.text(r.PV)
	if r.PR != "" {
		w.WriteByte('-')
		w.text(r.PR)
	}
	w.WriteString("</span></h1>\n  ")
	if r.Summary != "" {
		w.WriteString(`<p class="lead">`)
		w.text(r.Summary)
		w.WriteString(`</p>`)
	}
	w.WriteString("\n</div>\n\n")
	if r.Unevaluated != 0 {
		w.WriteString(`<div class="alert partial-alert" role="note"><strong>Partly evaluated.</strong> The parser could not evaluate `)
		w.int(int64(r.Unevaluated))
		w.WriteString(` inline Python expression`)
		w.WriteString(plural(r.Unevaluated))
		w.WriteString(` in this recipe; values shown here may be incomplete.</div>`)
	}
	w.WriteString("\n")
	if r.Blacklisted != "" {
		w.WriteString(`<div class="alert err" role="note"><strong>Blacklisted:</strong> `)
		w.text(r.Blacklisted)
		w.WriteString(`</div>`)
	}
	w.WriteString("\n")
	if r.SkipReason != "" {
		w.WriteString(`<div class="alert warn" role="note"><strong>Skipped by BitBake:</strong> `)
		w.text(r.SkipReason)
		w.WriteString(`</div>`)
	}
	w.WriteString("\n\n<table class=\"fields\">\n  <tbody>\n  ")
	if r.Description != "" {
		w.WriteString(`<tr><th scope="row">Description</th><td class="pre-wrap">`)
		w.text(r.Description)
		w.WriteString(`</td></tr>`)
	}
	w.WriteString("\n  <tr><th scope=\"row\">Version</th><td>")
	w.text(r.PV)
	if r.PE != "" {
		w.WriteString(` <span class="muted">epoch `)
		w.text(r.PE)
		w.WriteString(`</span>`)
	}
	if r.PR != "" {
		w.WriteString(` <span class="muted">revision `)
		w.text(r.PR)
		w.WriteString(`</span>`)
	}
	if r.SrcRev != "" {
		w.WriteString(`<br><span class="muted">SRCREV</span> <code>`)
		w.text(r.SrcRev)
		w.WriteString(`</code>`)
	}
	w.WriteString("</td></tr>\n")
	row("Section", r.Section, "<td>", func() { w.text(r.Section) })
	w.WriteString(`  <tr><th scope="row">License</th><td>`)
	w.text(r.License)
	w.WriteString("</td></tr>\n")
	row("Homepage", r.Homepage, "<td>", maybeURL(r.Homepage))
	row("Bug tracker", r.Bugtracker, "<td>", maybeURL(r.Bugtracker))
	w.WriteString(`  <tr><th scope="row">Recipe file</th><td>`)
	link(p.RecipeFileURL(), code(r.Path()))
	w.WriteString("</td></tr>\n  ")
	if len(p.Files) > 0 {
		w.WriteString(`<tr><th scope="row">Files read</th><td><ul class="plain">`)
		for _, f := range p.Files {
			w.WriteString("<li>")
			link(f.URL, code(f.Path))
			w.WriteString("</li>")
		}
		w.WriteString(`</ul></td></tr>`)
	}
	w.WriteString("\n  ")
	if !r.UpdatedAt.IsZero() {
		w.WriteString(`<tr><th scope="row">Last indexed</th><td><span title="`)
		w.text(formatDate(r.UpdatedAt))
		w.WriteString(`">`)
		w.text(ago(&r.UpdatedAt))
		w.WriteString(`</span></td></tr>`)
	}
	w.WriteString("\n  <tr><th scope=\"row\">Layer</th><td>")
	layerLink(l.Name)
	w.WriteString(` <span class="muted">(`)
	w.text(b)
	w.WriteString(" branch)</span></td></tr>\n  ")
	if r.Inherits != "" {
		w.WriteString(`<tr><th scope="row">Inherits</th><td class="words">`)
		for _, c := range strings.Fields(r.Inherits) {
			w.WriteString(`<a href="`)
			w.url(bp, true)
			w.WriteString(`recipes/?q=inherits%3A`)
			w.query(c)
			w.WriteString(`" title="Recipes inheriting `)
			w.text(c)
			w.WriteString(`">`)
			w.text(c)
			w.WriteString(`</a> `)
		}
		w.WriteString(`</td></tr>`)
	}
	w.WriteString("\n")
	words := func(label, value string) {
		row(label, value, `<td class="words">`, func() {
			for _, s := range strings.Fields(value) {
				code(s)()
				w.WriteByte(' ')
			}
		})
	}
	words("Provides", r.Provides)
	words("BBCLASSEXTEND", r.BBClassExtend)
	row("Configure options", r.ConfigOpts, "<td>", func() {
		w.WriteString(`<code class="wrap">`)
		w.text(r.ConfigOpts)
		w.WriteString(`</code>`)
	})
	w.WriteString("  <tr><th scope=\"row\">Build dependencies</th><td>\n    ")
	if len(p.Depends) > 0 {
		w.WriteString(`<ul class="deps">`)
		for i := range p.Depends {
			w.WriteString("<li>")
			w.dep(&p.Depends[i])
			w.WriteString("</li>")
		}
		w.WriteString("</ul>\n    <p class=\"muted small\">From DEPENDS; PACKAGECONFIG options below may add more depending on configuration.</p>\n    ")
	} else {
		w.WriteString(`<span class="muted">None in DEPENDS.</span>`)
	}
	w.WriteString("</td></tr>\n  </tbody>\n</table>\n\n")

	if len(p.PackageConfigs) > 0 {
		w.WriteString("\n<section>\n  <h2>PACKAGECONFIG options</h2>\n  ")
		listTable("Option", "Enabled", "Disabled", "Build dependencies")
		for i := range p.PackageConfigs {
			pc := &p.PackageConfigs[i]
			w.WriteString("<tr>\n      <td class=\"name\">")
			w.text(pc.Feature)
			w.WriteString(`</td><td><code class="wrap">`)
			w.text(pc.WithOption)
			w.WriteString(`</code></td><td><code class="wrap">`)
			w.text(pc.WithoutOption)
			w.WriteString("</code></td>\n      <td>")
			for j := range pc.Deps {
				w.dep(&pc.Deps[j])
				w.WriteByte(' ')
			}
			w.WriteString("</td></tr>")
		}
		w.WriteString("\n    </tbody></table></div>\n</section>\n")
	}
	w.WriteString("\n\n<section>\n  <h2>Sources</h2>\n  ")
	if len(p.Sources) > 0 {
		w.WriteString(`<ul class="plain sources">`)
		for _, src := range p.Sources {
			w.WriteString("<li>")
			link(sourceURL(src.URL), func() {
				w.WriteString(`<code class="wrap">`)
				w.text(src.URL)
				w.WriteString(`</code>`)
			})
			if src.SHA256Sum != "" {
				w.WriteString(` <span class="muted small">sha256 `)
				w.text(src.SHA256Sum)
				w.WriteString(`</span>`)
			}
			w.WriteString("</li>")
		}
		w.WriteString("</ul>\n  ")
	} else {
		w.WriteString(`<p class="muted">No remote sources (only local files, or none).</p>`)
	}
	w.WriteString("\n</section>\n\n")

	if len(p.Patches) > 0 {
		w.WriteString("\n<section>\n  <h2>Patches</h2>\n  ")
		listTable("Patch", "Upstream status")
		for _, pt := range p.Patches {
			listRow(!pt.Applied)
			name := pt.SrcPath
			if name == "" {
				name = pt.Path
			}
			link(p.PatchURL(pt), code(name))
			if !pt.Applied {
				w.WriteString(` <span class="badge muted-badge">not applied</span>`)
			}
			if pt.Striplevel != 1 {
				w.WriteString(` <span class="muted small">-p`)
				w.int(int64(pt.Striplevel))
				w.WriteString(`</span>`)
			}
			w.WriteString("</td>\n      <td><span class=\"badge patch-")
			w.text(pt.Status)
			w.WriteString(`">`)
			w.text(patchStatusLabel(pt.Status))
			w.WriteString(`</span> `)
			w.text(pt.StatusExtra)
			w.WriteString("</td></tr>")
		}
		w.WriteString("\n    </tbody></table></div>\n</section>\n")
	}
	w.WriteString("\n\n<section>\n  <h2>bbappends</h2>\n  ")
	if len(p.Appends) > 0 {
		w.WriteString("\n  ")
		listTable("bbappend", "Layer", "Applies")
		for _, a := range p.Appends {
			listRow(!a.Applies)
			link(a.URL, func() {
				w.WriteString("<code>")
				w.text(a.Filepath)
				w.WriteByte('/')
				w.text(a.Filename)
				w.WriteString("</code>")
			})
			w.WriteString("</td>\n      <td>")
			layerLink(a.LayerName)
			w.WriteString("</td>\n      <td>")
			if a.Applies {
				w.WriteString("yes")
			} else {
				w.WriteString("no — for another version")
			}
			w.WriteString("</td></tr>")
		}
		w.WriteString("\n    </tbody></table></div>\n  ")
	} else {
		w.WriteString(`<p class="muted">No layer on `)
		w.text(b)
		w.WriteString(` appends to this recipe.</p>`)
	}

	w.WriteString("\n</section>\n\n<section id=\"dependents\">\n  <h2>Recipes that depend on it</h2>\n  ")
	if len(d.Dependents) > 0 {
		w.WriteString(`<p class="muted small">`)
		w.int(int64(d.NDependents))
		w.WriteString(" recipe")
		w.WriteString(plural(d.NDependents))
		w.WriteString(" on ")
		w.text(b)
		w.WriteString(" name something ")
		w.text(r.PN)
		w.WriteString(" provides in DEPENDS or a PACKAGECONFIG option")
		if d.NDependents > len(d.Dependents) {
			w.WriteString("; the first ")
			w.int(int64(len(d.Dependents)))
			w.WriteString(" are listed")
		}
		w.WriteString(".</p>\n  ")
		listTable("Recipe", "Layer", "Through")
		w.dependentRows(d.Dependents, bp)
		w.WriteString("</tbody>\n  </table></div>\n  ")
	} else {
		w.WriteString(`<p class="muted">No recipe on `)
		w.text(b)
		w.WriteString(" depends on ")
		w.text(r.PN)
		w.WriteString(".</p>")
	}
	w.WriteString("\n  <p class=\"small\"><a href=\"/layerindex/recipe_deps/?branch=")
	w.int(lb.BranchID)
	w.WriteString("&amp;layer=")
	w.int(l.ID)
	w.WriteString(`">Dependencies of every recipe in `)
	w.text(l.Name)
	w.WriteString("</a></p>\n</section>\n\n")

	if len(d.Covered) > 0 {
		w.WriteString("<section id=\"comparison\">\n  <h2>Other distributions' packages it covers</h2>\n  <ul class=\"plain\">")
		for _, c := range d.Covered {
			w.WriteString(`<li><a href="/layerindex/comparison/recipe/`)
			w.int(c.ID)
			w.WriteString(`/">`)
			w.text(c.Name)
			w.WriteByte(' ')
			w.text(c.Version)
			w.WriteString(`</a> in <a href="/layerindex/comparison/recipes/`)
			w.url(c.Branch, false)
			w.WriteString(`/">`)
			w.text(c.Branch)
			w.WriteString(`</a> <span class="badge cover-`)
			w.text(store.CoverGroup(c.CoverStatus))
			w.WriteString(`">`)
			w.text(store.CoverLabel(c.CoverStatus))
			w.WriteString(`</span></li>`)
		}
		w.WriteString("</ul>\n</section>")
	}
	w.WriteString("\n\n<section id=\"layersets\">\n  <h2>Layer sets</h2>\n  ")
	if len(d.LayerSets) > 0 {
		w.WriteString(`<p class="muted small">Published layer sets on `)
		w.text(b)
		w.WriteString(" whose build has ")
		w.text(l.Name)
		w.WriteString(", and so ")
		w.text(r.PN)
		w.WriteString(":</p>\n  <ul class=\"plain\">")
		for _, m := range d.LayerSets {
			w.WriteString(`<li><a href="/layerindex/layersets/#set-`)
			w.query(m.Set.Name)
			w.WriteString(`">`)
			w.text(m.Set.Name)
			w.WriteString(`</a>`)
			if m.Set.Description != "" {
				w.WriteString(" — ")
				w.text(m.Set.Description)
			}
			w.WriteString("\n    <span class=\"muted small\">(")
			if m.Picked {
				w.WriteString("picked")
			} else {
				w.WriteString("as a dependency")
			}
			w.WriteString(")</span></li>")
		}
		w.WriteString("</ul>\n  ")
	} else {
		w.WriteString(`<p class="muted">No published layer set on `)
		w.text(b)
		w.WriteString(" includes ")
		w.text(l.Name)
		w.WriteString(".</p>")
	}
	w.WriteString("\n</section>\n\n<section>\n  <h2>Other branches</h2>\n  ")
	if len(p.OtherBranches) > 0 {
		w.WriteString(`<ul class="plain">`)
		for _, o := range p.OtherBranches {
			w.WriteString(`<li><a href="/layerindex/recipe/`)
			w.int(o.ID)
			w.WriteString(`/">`)
			w.text(r.PN)
			w.WriteByte(' ')
			w.text(o.PV)
			w.WriteString(`</a> on <strong>`)
			w.text(o.BranchName)
			w.WriteString(`</strong></li>`)
		}
		w.WriteString("</ul>\n  ")
	} else {
		w.WriteString(`<p class="muted">`)
		w.text(l.Name)
		w.WriteString(" has no recipe named ")
		w.text(r.PN)
		w.WriteString(" on any other branch.</p>")
	}
	w.WriteString("\n  <p><a href=\"/layerindex/feeds/recipe/")
	w.url(url.QueryEscape(r.PN), false)
	w.WriteString(`/">Follow `)
	w.text(r.PN)
	w.WriteString(" on every layer (Atom feed)</a></p>\n</section>\n")
	return template.HTML(w.String())
}

// dep writes a build dependency with the recipes that provide it.
func (w *rowWriter) dep(d *store.DepProviders) {
	w.WriteString(`<span class="dep"><code>`)
	w.text(d.Name)
	w.WriteString(`</code>`)
	if len(d.Providers) == 0 {
		w.WriteString(` <span class="muted small" title="No recipe on this branch provides it">(no provider found)</span></span>`)
		return
	}
	w.WriteString(` <span class="providers">→ `)
	for i, p := range d.Providers {
		if i > 0 {
			w.WriteString(", ")
		}
		w.WriteString(`<a href="/layerindex/recipe/`)
		w.int(p.RecipeID)
		w.WriteString(`/" title="`)
		w.text(p.PN)
		w.WriteByte(' ')
		w.text(p.PV)
		w.WriteString(" in ")
		w.text(p.LayerName)
		w.WriteString(`">`)
		w.text(p.PN)
		w.WriteString(`</a> <span class="muted small">(`)
		w.text(p.LayerName)
		w.WriteString(`)</span>`)
	}
	w.WriteString(`</span></span>`)
}

// query writes s as html/template writes a value in the query or fragment
// of a quoted URL attribute: every byte but RFC 3986's unreserved
// characters percent-encoded.
func (w *rowWriter) query(s string) {
	const hex = "0123456789abcdef"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-', c == '.', c == '_', c == '~':
			w.WriteByte(c)
		default:
			w.WriteByte('%')
			w.WriteByte(hex[c>>4])
			w.WriteByte(hex[c&15])
		}
	}
}

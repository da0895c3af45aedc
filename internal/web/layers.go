package web

import (
	"encoding/csv"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"reflect"
	"strings"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/store"
)

const (
	layersPerPage  = 100
	recipesPerPage = 50
	itemsPerPage   = 100
)

// layerList is /layerindex/branch/B/layers/: the published layers on a
// branch with type and text filters.
func (s *Server) layerList(c echo.Context) error {
	b, err := s.branch(c)
	if err != nil {
		return err
	}
	p, err := pageParam(c, layersPerPage)
	if err != nil {
		return err
	}
	q, err := textParam(c, "q")
	if err != nil {
		return err
	}
	var types []string
	for _, t := range c.QueryParams()["type"] {
		if store.LayerTypeLabel(t) != t {
			types = append(types, t)
		}
	}
	// ?compatible=RELEASE keeps the layers whose LAYERSERIES_COMPAT names
	// one of that release's core names (looked up only then: the list
	// costs no query more without it).
	releases := s.visibleBranches(c)
	var compat *store.Release
	if name := c.QueryParam("compatible"); name != "" {
		for i := range releases {
			if releases[i].Name == name {
				compat = &store.Release{Branch: releases[i]}
			}
		}
		if compat == nil {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("There is no release branch named %q.", truncate(name, 40)))
		}
		if compat.CoreNames, err = s.store.ReleaseCoreNames(c.Request().Context(), compat.ID); err != nil {
			return err
		}
	}
	f := store.LayerFilter{Types: types, Query: q, Sort: c.QueryParam("sort"), Page: p, StaleCutoff: s.cat.StaleCutoff()}
	if compat != nil {
		// A release whose core is not indexed has no known names: nothing
		// can be shown as compatible with it, and the page says why.
		f.CompatOnly, f.CompatCoreNames = true, compat.CoreNames
	}
	// The rows come from memory at the index version; whether a layer is
	// stale changes without it (staleLayers).
	memo, err := s.layerListRows(c.Request().Context(), b)
	if err != nil {
		return err
	}
	stale, err := s.staleLayers(c.Request().Context(), b.ID, f.StaleCutoff)
	if err != nil {
		return err
	}
	list := store.FilterLayers(memo.rows, stale, f)
	if err := checkPage(list.Paged); err != nil {
		return err
	}
	// The layers that declare compatibility with this release from
	// another one (a master-only layer that works with a stable release).
	var elsewhere []store.CompatibleElsewhere
	if compat == nil && q == "" && len(types) == 0 && p.Number == 1 {
		extra, err := s.releaseExtra(c.Request().Context(), b)
		if err != nil {
			return err
		}
		elsewhere = extra.elsewhere
	}
	return s.pages.render(c, http.StatusOK, "layers", struct {
		pageData
		Branch    *store.Branch
		List      *store.LayerList
		Q         string
		Types     []string
		Releases  []store.Branch
		Compat    *store.Release
		Elsewhere []store.CompatibleElsewhere
		// StaleDays: a layer branch without a successful update for
		// this long is marked stale.
		StaleDays int
		// Rows are the table's rows (layerrows.go).
		Rows template.HTML
	}{s.browsePage(c, b, "layers"), b, list, q, types, releases, compat, elsewhere, s.staleDays(),
		memo.html(list.Items, s.staleDays())})
}

// layerTabs are the tabs of a layer page, in order.
var layerTabs = []struct{ Key, Label string }{
	{"recipes", "Recipes"}, {"machines", "Machines"}, {"distros", "Distros"}, {"classes", "Classes"},
	{"appends", "bbappends"}, {"updates", "Updates"}, {"releases", "Releases"}, {"dependencies", "Dependencies"},
}

// layerDetail is /layerindex/branch/B/layer/NAME/: the layer on a branch
// and one tab of its content (?tab=).
func (s *Server) layerDetail(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.branch(c)
	if err != nil {
		return err
	}
	name := c.Param("name")
	head, err := s.layerHead(ctx, b, name)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("There is no published layer named %q.", name))
	} else if err != nil {
		return err
	}
	// A copy, as the head is shared: only whether it is stale is this
	// request's own.
	ov := *head.o
	o := &ov
	if o.LayerBranch != nil {
		stale, err := s.staleLayers(ctx, b.ID, s.cat.StaleCutoff())
		if err != nil {
			return err
		}
		o.Stale = stale[o.LayerBranch.ID]
	}
	tab := c.QueryParam("tab")
	if tab == "" || !validTab(tab) {
		tab = "recipes"
	}
	data := struct {
		pageData
		Branch *store.Branch
		O      *store.LayerOverview
		Tab    string
		// TabLinks are the links of the tabs (layerTabLinks).
		TabLinks template.HTML
		Q        string
		Recipes  store.Paged[store.RecipeRow]
		// RecipeRows are the rows of the recipes tab (layerrows.go).
		RecipeRows template.HTML
		Machines   store.Paged[store.Machine]
		Distros    store.Paged[store.Distro]
		Classes    store.Paged[store.BBClass]
		Appends    store.Paged[store.BBAppend]
		Updates    store.Paged[store.LayerUpdate]
		Pager      pageInfo
		// Run is the layer branch's newest update run, if any; Manage
		// tells whether the visitor may edit the layer and index it.
		Run    *store.LayerUpdate
		Manage bool
		// Matrix is the releases tab: the layer's compatibility with
		// every release.
		Matrix *store.CompatMatrix
		// Graph is the dependencies tab.
		Graph *depGraphView
		// StaleDays: O.Stale says the layer branch had no successful
		// update for this long (or its repository is gone).
		StaleDays int
	}{pageData: s.browsePage(c, b, "layers"), Branch: b, O: o, Tab: tab}
	if o.LayerBranch != nil {
		data.TabLinks = layerTabLinks(b.Name, o.Layer.Name, tab, o.Counts)
	}
	if o.LayerBranch != nil {
		data.Feeds = append(data.Feeds, feedLink{o.Layer.Name + " on " + b.Name + ": recipe changes", layerFeedPath(b.Name, o.Layer.Name)})
	}
	if o.LayerBranch != nil {
		data.Run = head.run
		data.StaleDays = s.staleDays()
	}
	if currentUser(c) != nil {
		if data.Manage = s.allowed(c, auth.EditLayer, o.Layer); data.Manage {
			data.CSRF = s.acct.sessions.CSRFToken(ctx) // for the "Index now" form
		}
	}
	status := http.StatusOK
	if o.LayerBranch == nil {
		// The layer exists, only not on this branch: say so and link the
		// branches it is on.
		status = http.StatusNotFound
		return s.pages.render(c, status, "layer", data)
	}
	switch tab {
	case "releases":
		if data.Matrix, err = s.store.LayerCompatMatrix(ctx, o.Layer.ID); err != nil {
			return err
		}
		return s.pages.render(c, status, "layer", data)
	case "dependencies":
		if data.Graph, err = s.dependencyGraph(ctx, o.LayerBranch); err != nil {
			return err
		}
		return s.pages.render(c, status, "layer", data)
	}
	size := itemsPerPage
	if tab == "updates" {
		size = 50
	}
	p, err := pageParam(c, size)
	if err != nil {
		return err
	}
	lbID := o.LayerBranch.ID
	switch tab {
	case "recipes":
		if data.Q, err = textParam(c, "q"); err != nil {
			return err
		}
		data.Recipes, err = s.store.LayerRecipes(ctx, lbID, data.Q, c.QueryParam("sort"), p, o.Counts.Recipes)
		data.Pager = data.Recipes
		data.RecipeRows = layerRecipeRows(data.Recipes.Items)
	case "machines":
		data.Machines, err = s.store.LayerMachines(ctx, lbID, p)
		data.Pager = data.Machines
	case "distros":
		data.Distros, err = s.store.LayerDistros(ctx, lbID, p)
		data.Pager = data.Distros
	case "classes":
		data.Classes, err = s.store.LayerClasses(ctx, lbID, p)
		data.Pager = data.Classes
	case "appends":
		data.Appends, err = s.store.LayerAppends(ctx, lbID, p)
		data.Pager = data.Appends
	case "updates":
		data.Updates, err = s.store.LayerUpdates(ctx, o.Layer.ID, b.ID, p)
		data.Pager = data.Updates
	}
	if err != nil {
		return err
	}
	if err := checkPage(data.Pager); err != nil {
		return err
	}
	return s.pages.render(c, status, "layer", data)
}

func validTab(t string) bool {
	for _, x := range layerTabs {
		if x.Key == t {
			return true
		}
	}
	return false
}

// csvFields are the recipe columns the CSV export may name, by column name.
var csvFields = func() map[string]int {
	m := map[string]int{}
	rt := reflect.TypeOf(store.Recipe{})
	for i := range rt.NumField() {
		f := rt.Field(i)
		col := f.Tag.Get("gorm")
		if c, ok := strings.CutPrefix(col, "column:"); ok {
			col = c
		} else {
			col = snake(f.Name)
		}
		m[col] = i
	}
	return m
}()

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 && !(s[i-1] >= 'A' && s[i-1] <= 'Z') {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// layerRecipesCSV is …/layer/NAME/recipes/csv/?fields=pn,pv,license: the
// layer's recipes as CSV without a header row, as upstream.
func (s *Server) layerRecipesCSV(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.branch(c)
	if err != nil {
		return err
	}
	fields := strings.Split(c.QueryParam("fields"), ",")
	if c.QueryParam("fields") == "" {
		fields = []string{"pn", "pv", "license"}
	}
	if len(fields) > len(csvFields) {
		return echo.NewHTTPError(http.StatusBadRequest, "Too many fields.")
	}
	idx := make([]int, len(fields))
	for i, f := range fields {
		n, ok := csvFields[strings.TrimSpace(f)]
		if !ok {
			return echo.NewHTTPError(http.StatusBadRequest, fmt.Sprintf("Field %q is invalid.", truncate(f, 40)))
		}
		idx[i] = n
	}
	o, err := s.store.LayerOverview(ctx, c.Param("name"), b, s.cat.StaleCutoff())
	if errors.Is(err, store.ErrNotFound) || (err == nil && o.LayerBranch == nil) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no such layer on this branch.")
	} else if err != nil {
		return err
	}
	rs, err := s.store.LayerRecipesAll(ctx, o.LayerBranch.ID)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="recipes_%s_%s.csv"`, safeFilename(o.Layer.Name), safeFilename(b.Name)))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	row := make([]string, len(idx))
	for i := range rs {
		v := reflect.ValueOf(rs[i])
		for j, n := range idx {
			row[j] = fmt.Sprint(v.Field(n).Interface())
		}
		if err := w.Write(row); err != nil {
			return nil // the client went away
		}
	}
	w.Flush()
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// safeFilename keeps a name usable inside a quoted header value.
func safeFilename(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '"' || r == '\\' || r < ' ' || r > '~' {
			return '_'
		}
		return r
	}, s)
}

// staleDays is the catalog's stale period in days, for pages.
func (s *Server) staleDays() int { return int(s.cat.StaleAfter().Hours() / 24) }

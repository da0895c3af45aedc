package web

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// recipeDepsData is the dependency report page.
type recipeDepsData struct {
	pageData
	Branch     *store.Branch
	Layer      *store.Layer
	AllLayers  []store.Layer
	CrossLayer bool
	Excluded   map[int64]bool
	ExclNames  []string
	Recipes    []store.ReportRecipe
	Indexed    bool // the layer is on the branch
	Params     string
}

// layerParam resolves a published layer named by id (upstream's form) or
// by name among the given layers; "" is none.
func layerParam(c echo.Context, name string, all []store.Layer) (*store.Layer, error) {
	v, err := textParam(c, name)
	if err != nil || v == "" {
		return nil, err
	}
	id, _ := strconv.ParseInt(v, 10, 64)
	for i := range all {
		if all[i].ID == id || all[i].Name == v {
			return &all[i], nil
		}
	}
	return nil, echo.NewHTTPError(http.StatusNotFound, fmt.Sprintf("There is no published layer %q.", truncate(v, 40)))
}

// recipeDeps is upstream's RecipeDependenciesView: for each recipe of a
// layer on a branch, its DEPENDS and PACKAGECONFIG build dependencies
// resolved to the recipes that provide them (name, version, license,
// layer), for license and dependency audits; ?crosslayer=1 keeps only
// what other layers provide, ?excludelayers= leaves layers out as
// providers, ?format=csv downloads it.
func (s *Server) recipeDeps(c echo.Context) error {
	ctx := c.Request().Context()
	format := c.QueryParam("format")
	if format != "" && format != "html" && format != "csv" {
		return echo.NewHTTPError(http.StatusBadRequest, "The format must be html or csv.")
	}
	all, err := s.store.PublishedLayers(ctx)
	if err != nil {
		return err
	}
	b, err := s.branchParam(c, "branch")
	if err != nil {
		return err
	}
	l, err := layerParam(c, "layer", all)
	if err != nil {
		return err
	}
	excl, err := layerIDsParam(c, "excludelayers")
	if err != nil {
		return err
	}
	cross := c.QueryParam("crosslayer")
	d := recipeDepsData{pageData: s.basePage(c, ""), Branch: b, Layer: l, AllLayers: all,
		CrossLayer: cross != "" && cross != "0" && cross != "false", Excluded: map[int64]bool{}}
	d.Nav = "recipedeps"
	if b != nil {
		d.pageData = s.basePage(c, b.Name)
		d.Nav = "recipedeps"
	}
	for _, id := range excl {
		d.Excluded[id] = true
	}
	for _, x := range all {
		if d.Excluded[x.ID] {
			d.ExclNames = append(d.ExclNames, x.Name)
		}
	}
	if b != nil && l != nil {
		lb, err := s.store.LayerBranch(ctx, l.ID, b.ID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if lb != nil && err == nil {
			d.Indexed = true
			d.Recipes, err = s.store.RecipeDependencyReport(ctx, lb, store.DepReportOptions{CrossLayer: d.CrossLayer, ExcludeLayers: excl})
			if err != nil {
				return err
			}
		}
		q := c.QueryParams()
		q.Del("format")
		d.Params = q.Encode()
	} else if format == "csv" {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose a branch and a layer (branch= and layer=).")
	}
	if format == "csv" {
		return recipeDepsCSV(c, &d)
	}
	return s.pages.render(c, http.StatusOK, "recipedeps", d)
}

// recipeDepsCSV is one row per recipe, dependency and provider.
func recipeDepsCSV(c echo.Context, d *recipeDepsData) error {
	h := c.Response().Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="recipe_deps_%s_%s.csv"`, safeFilename(d.Layer.Name), safeFilename(d.Branch.Name)))
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"recipe", "version", "license", "dependency", "kind", "provider", "provider_version", "provider_license", "provider_layer"})
	for _, r := range d.Recipes {
		for _, dep := range r.Deps {
			kind := "DEPENDS"
			if dep.Dynamic {
				kind = "PACKAGECONFIG"
			}
			if len(dep.Providers) == 0 {
				_ = w.Write([]string{r.PN, r.PV, r.License, dep.Name, kind, "", "", "", ""})
			}
			for _, p := range dep.Providers {
				_ = w.Write([]string{r.PN, r.PV, r.License, dep.Name, kind, p.PN, p.PV, p.License, p.LayerName})
			}
		}
	}
	w.Flush()
	return w.Error()
}

// dependentsMemo keeps a DependentsIndex per branch for one index version,
// so the recipe page's reverse view costs no query once built.
type dependentsMemo struct {
	mu       sync.Mutex
	version  int64
	byBranch map[int64]*store.DependentsIndex
}

// dependentsIndex is the branch's DependentsIndex at the current version.
func (s *Server) dependentsIndex(ctx context.Context, branchID int64) (*store.DependentsIndex, error) {
	v, err := s.indexVersion(ctx)
	if err != nil {
		return nil, err
	}
	m := &s.dependents
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.version != v || m.byBranch == nil {
		m.version, m.byBranch = v, map[int64]*store.DependentsIndex{}
	}
	if x := m.byBranch[branchID]; x != nil {
		return x, nil
	}
	x, err := s.store.LoadDependentsIndex(ctx, branchID)
	if err != nil {
		return nil, err
	}
	m.byBranch[branchID] = x
	return x, nil
}

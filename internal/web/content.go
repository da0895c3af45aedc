package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// contentSearch serves /layerindex/branch/B/{machines,distros,classes}/?q=:
// every word must appear in the name (or description); no query lists all.
func (s *Server) contentSearch(kind string) echo.HandlerFunc {
	return func(c echo.Context) error {
		b, err := s.branch(c)
		if err != nil {
			return err
		}
		p, err := pageParam(c, recipesPerPage)
		if err != nil {
			return err
		}
		q, err := textParam(c, "q")
		if err != nil {
			return err
		}
		res, err := s.store.SearchContent(c.Request().Context(), kind, b, q, c.QueryParam("sort"), p)
		if err != nil {
			return err
		}
		if err := checkPage(res); err != nil {
			return err
		}
		return s.pages.render(c, http.StatusOK, "content", struct {
			pageData
			Branch  *store.Branch
			Kind    string
			Q       string
			Results store.Paged[store.ContentRow]
		}{s.browsePage(c, b, kind), b, kind, q, res})
	}
}

var dupTabs = []struct{ Key, Label string }{
	{store.DupRecipes, "Recipes"}, {store.DupClasses, "Classes"}, {store.DupIncFiles, "Include files"},
}

// duplicates is /layerindex/branch/B/duplicates/: recipes, classes and inc
// files found in more than one layer, optionally among ?l=ID layers only.
func (s *Server) duplicates(c echo.Context) error {
	ctx := c.Request().Context()
	b, err := s.branch(c)
	if err != nil {
		return err
	}
	p, err := pageParam(c, recipesPerPage)
	if err != nil {
		return err
	}
	kind := c.QueryParam("show")
	if kind != store.DupClasses && kind != store.DupIncFiles {
		kind = store.DupRecipes
	}
	var ids []int64
	for _, v := range c.QueryParams()["l"] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return echo.NewHTTPError(http.StatusBadRequest, "Layer filters (l=) must be layer ids.")
		}
		ids = append(ids, id)
	}
	if len(ids) > 1000 {
		return echo.NewHTTPError(http.StatusBadRequest, "Too many layer filters.")
	}
	res, err := s.store.Duplicates(ctx, kind, b, ids, p)
	if err != nil {
		return err
	}
	if err := checkPage(res); err != nil {
		return err
	}
	layers, err := s.store.BranchLayers(ctx, b.ID)
	if err != nil {
		return err
	}
	selected := map[int64]bool{}
	for _, id := range ids {
		selected[id] = true
	}
	return s.pages.render(c, http.StatusOK, "duplicates", struct {
		pageData
		Branch   *store.Branch
		Kind     string
		Tabs     any
		Results  store.Paged[store.DupGroup]
		Layers   []store.Layer
		Selected map[int64]bool
	}{s.browsePage(c, b, "duplicates"), b, kind, dupTabs, res, layers, selected})
}

// stats is /layerindex/stats/.
func (s *Server) stats(c echo.Context) error {
	st, err := s.store.Stats(c.Request().Context())
	if err != nil {
		return err
	}
	pd := s.basePage(c, "")
	pd.Nav = "stats"
	return s.pages.render(c, http.StatusOK, "stats", struct {
		pageData
		S *store.Stats
	}{pd, st})
}

package web

import (
	"archive/tar"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/bulkchange"
	"layerindex/internal/store"
)

// Bulk change (upstream's /layerindex/bulkchange/…): handlers parse the
// form and call internal/bulkchange, which keeps every changeset private to
// its owner (another user's is a 404).

func (s *Server) bulkChangeRoutes() {
	e := s.echo
	e.GET("/layerindex/bulkchange/", s.bulkChangeList)
	e.POST("/layerindex/bulkchange/", s.bulkChangeList)
	e.GET("/layerindex/bulkchange/:id/", func(c echo.Context) error {
		return c.Redirect(http.StatusFound, "/layerindex/bulkchange/"+c.Param("id")+"/search/")
	})
	e.GET("/layerindex/bulkchange/:id/search/", s.bulkChangeSearch)
	e.POST("/layerindex/bulkchange/:id/search/", s.bulkChangeSearch)
	e.GET("/layerindex/bulkchange/:id/edit/", s.bulkChangeEdit)
	e.POST("/layerindex/bulkchange/:id/edit/", s.bulkChangeEdit)
	e.GET("/layerindex/bulkchange/:id/review/", s.bulkChangeReview)
	e.GET("/layerindex/bulkchange/:id/patches/", s.bulkChangePatches)
	e.POST("/layerindex/bulkchange/:id/delete/", s.bulkChangeDelete)
}

func (s *Server) bulk() *bulkchange.Service { return bulkchange.New(s.store, s.opts.Repos) }

// changeset checks sign-in and loads the user's changeset from :id.
func (s *Server) changeset(c echo.Context) (*store.User, *store.RecipeChangeset, error) {
	if err := s.require(c, auth.BulkChange, nil); err != nil {
		return nil, nil, err
	}
	u := currentUser(c)
	id, err := idParam(c, "id")
	if err != nil {
		return nil, nil, err
	}
	cs, err := s.bulk().Get(c.Request().Context(), u.ID, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, echo.NewHTTPError(http.StatusNotFound, "You have no changeset with this id.")
	}
	return u, cs, err
}

// bulkError turns the service's refusals into a 4xx.
func bulkError(err error) error {
	switch {
	case errors.Is(err, bulkchange.ErrInvalid):
		return echo.NewHTTPError(http.StatusUnprocessableEntity, strings.TrimPrefix(err.Error(), "invalid: "))
	case errors.Is(err, store.ErrNotFound):
		return echo.NewHTTPError(http.StatusNotFound, "You have no changeset with this id.")
	case errors.Is(err, bulkchange.ErrNoRepos):
		return echo.NewHTTPError(http.StatusServiceUnavailable, err.Error())
	}
	return err
}

func (s *Server) bulkChangeList(c echo.Context) error {
	if err := s.require(c, auth.BulkChange, nil); err != nil {
		return err
	}
	u := currentUser(c)
	ctx := c.Request().Context()
	if c.Request().Method == http.MethodPost {
		cs, err := s.bulk().Create(ctx, u.ID, c.FormValue("name"))
		if err != nil {
			return bulkError(err)
		}
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/layerindex/bulkchange/%d/search/", cs.ID))
	}
	list, err := s.store.Changesets(ctx, u.ID)
	if err != nil {
		return err
	}
	pd := s.basePage(c, "")
	return s.pages.render(c, http.StatusOK, "bulkchange", struct {
		pageData
		Changesets []store.RecipeChangeset
	}{pd, list})
}

// formIDs reads ids from a repeated form field.
func formIDs(c echo.Context, name string) ([]int64, error) {
	ps, err := c.FormParams()
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "Unreadable form.")
	}
	var ids []int64
	for _, v := range ps[name] {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id < 1 {
			return nil, echo.NewHTTPError(http.StatusBadRequest, "Recipes are chosen by id.")
		}
		ids = append(ids, id)
	}
	if len(ids) > bulkchange.MaxRecipes {
		return nil, echo.NewHTTPError(http.StatusBadRequest, "Too many recipes at once.")
	}
	return ids, nil
}

const bulkSearchLimit = 500

// bulkChangeSearch is the advanced search (field × match × value × layer)
// on the default branch, adding found recipes to the changeset, and the
// list of recipes already in it.
func (s *Server) bulkChangeSearch(c echo.Context) error {
	u, cs, err := s.changeset(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	branch, err := s.store.DefaultBranch(ctx)
	if err != nil {
		return err
	}
	get := func(name string) string {
		if c.Request().Method == http.MethodPost {
			return c.FormValue(name)
		}
		return c.QueryParam(name)
	}
	field, match, value := get("field"), get("match"), strings.TrimSpace(get("value"))
	if len(value) > store.MaxQueryLen {
		return echo.NewHTTPError(http.StatusBadRequest, "The search text is too long.")
	}
	layerID, _ := strconv.ParseInt(get("layer"), 10, 64)
	var results []store.RecipeRow
	searched := field != "" && match != ""
	if searched {
		results, err = s.store.BulkSearch(ctx, branch.ID, field, match, value, layerID, bulkSearchLimit)
		if errors.Is(err, store.ErrNotFound) {
			return echo.NewHTTPError(http.StatusBadRequest, "Unknown search field or match type.")
		} else if err != nil {
			return err
		}
	}
	if c.Request().Method == http.MethodPost {
		svc := s.bulk()
		switch c.FormValue("action") {
		case "add", "addall":
			ids, err := formIDs(c, "recipe")
			if err != nil {
				return err
			}
			if c.FormValue("action") == "addall" {
				ids = ids[:0]
				for _, r := range results {
					ids = append(ids, r.ID)
				}
			}
			n, err := svc.Add(ctx, u.ID, cs.ID, ids)
			if err != nil {
				return bulkError(err)
			}
			s.flash(c, "%d recipe%s added.", n, plural(n))
		case "remove", "removeall":
			ids, err := formIDs(c, "change")
			if err != nil {
				return err
			}
			if c.FormValue("action") == "removeall" {
				ids = nil
			} else if len(ids) == 0 {
				break
			}
			if err := svc.Remove(ctx, u.ID, cs.ID, ids); err != nil {
				return bulkError(err)
			}
			s.flash(c, "Recipes removed.")
		default:
			return echo.NewHTTPError(http.StatusBadRequest, "Unknown action.")
		}
		q := c.Request().URL.Query()
		for _, k := range []string{"field", "match", "value", "layer"} {
			if v := c.FormValue(k); v != "" {
				q.Set(k, v)
			}
		}
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/layerindex/bulkchange/%d/search/?%s", cs.ID, q.Encode()))
	}
	rows, err := s.store.ChangeRows(ctx, cs.ID)
	if err != nil {
		return err
	}
	layers, err := s.store.BranchLayers(ctx, branch.ID)
	if err != nil {
		return err
	}
	return s.pages.render(c, http.StatusOK, "bulkchangesearch", struct {
		pageData
		CS                  *store.RecipeChangeset
		Branch              *store.Branch
		Fields, Matches     []string
		Field, Match, Value string
		LayerID             int64
		Layers              []store.Layer
		Searched            bool
		Results             []store.RecipeRow
		Limit               int
		Rows                []store.ChangeRow
	}{s.basePage(c, branch.Name), cs, branch, store.BulkSearchFields, store.BulkSearchMatches, field, match, value, layerID,
		layers, searched, results, bulkSearchLimit, rows})
}

// bulkChangeEdit is the grid of the six fields for each recipe.
func (s *Server) bulkChangeEdit(c echo.Context) error {
	u, cs, err := s.changeset(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rows, err := s.store.ChangeRows(ctx, cs.ID)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodPost {
		if _, err := c.FormParams(); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, "Unreadable form.")
		}
		var changes []store.RecipeChange
		for _, r := range rows {
			p := fmt.Sprintf("c%d-", r.Change.ID)
			if _, ok := c.Request().PostForm[p+"summary"]; !ok {
				continue
			}
			changes = append(changes, store.RecipeChange{ID: r.Change.ID, Summary: c.FormValue(p + "summary"),
				Description: c.FormValue(p + "description"), Section: c.FormValue(p + "section"), License: c.FormValue(p + "license"),
				Homepage: c.FormValue(p + "homepage"), Bugtracker: c.FormValue(p + "bugtracker")})
		}
		if err := s.bulk().Save(ctx, u.ID, cs.ID, changes); err != nil {
			return bulkError(err)
		}
		s.flash(c, "Changes saved.")
		return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/layerindex/bulkchange/%d/review/", cs.ID))
	}
	type cell struct{ Name, Var, Value string }
	type editRow struct {
		Row   store.ChangeRow
		Cells []cell
	}
	var er []editRow
	for _, r := range rows {
		e := editRow{Row: r}
		for _, f := range bulkchange.Fields {
			e.Cells = append(e.Cells, cell{fmt.Sprintf("c%d-%s", r.Change.ID, f.Name), f.Var, bulkchange.Value(&r.Change, f)})
		}
		er = append(er, e)
	}
	return s.pages.render(c, http.StatusOK, "bulkchangeedit", struct {
		pageData
		CS   *store.RecipeChangeset
		Rows []editRow
	}{s.basePage(c, ""), cs, er})
}

// bulkChangeReview shows the changed fields and what the patch will do.
func (s *Server) bulkChangeReview(c echo.Context) error {
	u, cs, err := s.changeset(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	rows, err := s.store.ChangeRows(ctx, cs.ID)
	if err != nil {
		return err
	}
	type diff struct{ Var, Old, New string }
	type revRow struct {
		Row   store.ChangeRow
		Diffs []diff
	}
	var rr []revRow
	for _, r := range rows {
		x := revRow{Row: r}
		for _, f := range bulkchange.Changed(&r) {
			x.Diffs = append(x.Diffs, diff{f.Var, bulkchange.Current(&r.Recipe, f), bulkchange.Value(&r.Change, f)})
		}
		if len(x.Diffs) > 0 {
			rr = append(rr, x)
		}
	}
	var patches []bulkchange.LayerPatch
	var patchErr string
	if len(rr) > 0 {
		_, patches, err = s.bulk().Patches(ctx, u.ID, cs.ID, s.patchAuthor(u), time.Now())
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			s.log.WarnContext(c.Request().Context(), "bulk change patches", "changeset", cs.ID, "err", err)
			patchErr = strings.TrimPrefix(err.Error(), "invalid: ")
		}
	}
	return s.pages.render(c, http.StatusOK, "bulkchangereview", struct {
		pageData
		CS       *store.RecipeChangeset
		Rows     []revRow
		Patches  []bulkchange.LayerPatch
		PatchErr string
	}{s.basePage(c, ""), cs, rr, patches, patchErr})
}

func (s *Server) patchAuthor(u *store.User) bulkchange.Author {
	return bulkchange.Author{Name: u.Name, Email: u.Email}
}

// bulkChangePatches downloads the patches: one layer's (?layer=NAME), the
// only one, or a .tar.gz of all.
func (s *Server) bulkChangePatches(c echo.Context) error {
	u, cs, err := s.changeset(c)
	if err != nil {
		return err
	}
	_, patches, err := s.bulk().Patches(c.Request().Context(), u.ID, cs.ID, s.patchAuthor(u), time.Now())
	if err != nil {
		return bulkError(err)
	}
	var ready []bulkchange.LayerPatch
	for _, p := range patches {
		if p.Patch != "" && (c.QueryParam("layer") == "" || c.QueryParam("layer") == p.Layer) {
			ready = append(ready, p)
		}
	}
	h := c.Response().Header()
	switch len(ready) {
	case 0:
		return echo.NewHTTPError(http.StatusNotFound, "Nothing to patch: no recipe of this changeset has a change the patches can make.")
	case 1:
		h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, ready[0].Filename))
		return c.Blob(http.StatusOK, "text/x-diff; charset=utf-8", []byte(ready[0].Patch))
	}
	h.Set("Content-Type", "application/gzip")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="bulkchange-%d.tar.gz"`, cs.ID))
	c.Response().WriteHeader(http.StatusOK)
	gz := gzip.NewWriter(c.Response())
	tw := tar.NewWriter(gz)
	now := time.Now()
	for _, p := range ready {
		if err := tw.WriteHeader(&tar.Header{Name: p.Filename, Mode: 0o644, Size: int64(len(p.Patch)), ModTime: now}); err != nil {
			return err
		}
		if _, err := tw.Write([]byte(p.Patch)); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return gz.Close()
}

func (s *Server) bulkChangeDelete(c echo.Context) error {
	u, cs, err := s.changeset(c)
	if err != nil {
		return err
	}
	if err := s.bulk().Delete(c.Request().Context(), u.ID, cs.ID); err != nil {
		return bulkError(err)
	}
	s.flash(c, "Changeset %q deleted.", cs.Name)
	return c.Redirect(http.StatusSeeOther, "/layerindex/bulkchange/")
}

package web

import (
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// recipeSearch is /layerindex/branch/B/recipes/?q=: upstream's query
// language with better ranking; one result on the first page redirects to
// it. A query that cannot run shows the form again with the reason (400).
func (s *Server) recipeSearch(c echo.Context) error {
	b, err := s.branch(c)
	if err != nil {
		return err
	}
	p, err := pageParam(c, recipesPerPage)
	if err != nil {
		return err
	}
	raw := c.QueryParam("q")
	data := struct {
		pageData
		Branch  *store.Branch
		Q       string
		Error   string
		Results store.Paged[store.RecipeRow]
		Listing bool          // no query: every recipe on the branch
		Rows    template.HTML // the rows of Results (searchRows)
	}{pageData: s.browsePage(c, b, "recipes"), Branch: b, Q: raw}
	q, err := store.ParseRecipeQuery(raw)
	var qe *store.QueryError
	if errors.As(err, &qe) {
		data.Error = qe.Msg
		return s.pages.render(c, http.StatusBadRequest, "recipes", data)
	}
	data.Listing = q.Empty()
	if x := s.searchIndex(c.Request().Context(), b.ID); x != nil {
		data.Results, err = x.Search(q, c.QueryParam("sort"), p)
	} else {
		data.Results, err = s.store.SearchRecipes(c.Request().Context(), b, q, c.QueryParam("sort"), p)
	}
	if errors.Is(err, store.ErrUnknownLayer) {
		data.Error = fmt.Sprintf("No layer %q was found on this branch.", q.Layer)
		return s.pages.render(c, http.StatusOK, "recipes", data)
	} else if err != nil {
		return err
	}
	if err := checkPage(data.Results); err != nil {
		return err
	}
	if !q.Empty() && data.Results.Total == 1 && p.Number == 1 {
		return c.Redirect(http.StatusFound, "/layerindex/recipe/"+strconv.FormatInt(data.Results.Items[0].ID, 10)+"/")
	}
	data.Rows = searchRows(b.Name, data.Results.Items)
	return s.pages.render(c, http.StatusOK, "recipes", data)
}

// recipeDetail is /layerindex/recipe/ID/.
func (s *Server) recipeDetail(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	p, err := s.store.RecipePage(c.Request().Context(), id, s.branchIndex, s.layerBranch)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no recipe with this id; it may have been removed from its layer.")
	} else if err != nil {
		return err
	}
	pd := s.browsePage(c, p.LayerBranch.Branch, "recipes")
	// The release selector leads to this recipe's search on other branches.
	for i := range pd.BranchLinks {
		pd.BranchLinks[i].URL = "/layerindex/branch/" + url.PathEscape(pd.BranchLinks[i].Name) + "/recipes/?q=" +
			url.QueryEscape("pn:"+p.Recipe.PN+" layer:"+p.LayerBranch.Layer.Name)
	}
	pd.Feeds = append(pd.Feeds, feedLink{"Recipe " + p.Recipe.PN + " on every layer", recipeFeedPath(p.Recipe.PN)})
	// Issue 17: the reverse of the dependency report.
	dx, err := s.dependentsIndex(c.Request().Context(), p.LayerBranch.BranchID)
	if err != nil {
		return err
	}
	dependents, nDependents := dx.Dependents(&p.Recipe)
	// Other distributions' packages it covers (upstream shows them too),
	// looked up only when some package has a cover at all.
	var covered []store.CoveredPackage
	if has, err := s.anyCovers(c.Request().Context()); err != nil {
		return err
	} else if has {
		if covered, err = s.store.PackagesCoveredBy(c.Request().Context(), p.Recipe.LayerBranchID, p.Recipe.PN, 50); err != nil {
			return err
		}
	}
	// Issue 14: the published layer sets whose builds have this recipe.
	extra, err := s.releaseExtra(c.Request().Context(), p.LayerBranch.Branch)
	if err != nil {
		return err
	}
	sets := extra.sets[p.LayerBranch.Layer.Name]
	d := &recipeData{pageData: pd, P: p, Dependents: dependents, NDependents: nDependents, LayerSets: sets, Covered: covered}
	d.Body = recipeBody(d)
	return s.pages.render(c, http.StatusOK, "recipe", d)
}

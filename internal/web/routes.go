package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"layerindex/internal/api"
	"layerindex/internal/store"
	"layerindex/static"
)

// routes lists every route of the site.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/", s.home)
	apiOpts := api.Options{BaseURL: s.opts.BaseURL, Version: s.opts.Version, Logger: s.log}
	if s.versions != nil {
		apiOpts.IndexVersion = s.versions.Current
	}
	api.Register(e, s.store, apiOpts)

	// Accounts, submission, review, maintenance and administration
	// (account.go, admin.go; handlers in submit.go, review.go, maintain.go).
	s.accountRoutes()
	s.layerAdminRoutes()
	s.bulkChangeRoutes()
	s.comparisonRoutes()
	e.HEAD("/", s.home)

	// Browsing and search (same URLs as upstream layerindex-web).
	e.Pre(addSlash, cleanInput)
	// Pages answer HEAD as well as GET (monitors and crawlers use it).
	page := func(path string, h echo.HandlerFunc) {
		e.GET(path, h)
		e.HEAD(path, h)
	}
	page("/layerindex/", s.defaultBranchRedirect(fixed("layers/")))
	page("/layerindex/layers/", s.defaultBranchRedirect(fixed("layers/")))
	page("/layerindex/layer/:name/", s.defaultBranchRedirect(func(c echo.Context) string {
		return "layer/" + url.PathEscape(c.Param("name")) + "/"
	}))
	for _, p := range []string{"recipes", "machines", "distros", "classes", "duplicates"} {
		page("/layerindex/"+p+"/", s.defaultBranchRedirect(fixed(p+"/")))
	}
	page("/layerindex/branch/:branch/", func(c echo.Context) error {
		return redirectTo(c, "/layerindex/branch/"+url.PathEscape(c.Param("branch"))+"/layers/")
	})
	page("/layerindex/branch/:branch/layers/", s.cached(s.layerList))
	page("/layerindex/branch/:branch/layer/:name/", s.cached(s.layerDetail))
	page("/layerindex/branch/:branch/layer/:name/recipes/csv/", s.layerRecipesCSV)
	page("/layerindex/branch/:branch/recipes/", s.cached(s.recipeSearch))
	page("/layerindex/branch/:branch/machines/", s.cached(s.contentSearch(store.KindMachines)))
	page("/layerindex/branch/:branch/distros/", s.cached(s.contentSearch(store.KindDistros)))
	page("/layerindex/branch/:branch/classes/", s.cached(s.contentSearch(store.KindClasses)))
	page("/layerindex/branch/:branch/duplicates/", s.cached(s.duplicates))
	page("/layerindex/branch/:branch/setup/", s.cached(s.setupPage))
	e.GET("/layerindex/api/setup/*", s.setupFile)
	e.HEAD("/layerindex/api/setup/*", s.setupFile)
	s.layerSetRoutes()
	page("/layerindex/recipe/:id/", s.cached(s.recipeDetail))
	page("/layerindex/updates/", s.cached(s.updateList))
	page("/layerindex/updates/:id/", s.cached(s.updateDetail))
	page("/layerindex/layerupdate/:id/", s.cached(s.layerUpdateDetail))
	page("/layerindex/stats/", s.cached(s.stats))
	page("/layerindex/status/", s.indexingStatus)
	s.feedRoutes()
	page("/layerindex/branch/:branch/layer/:name/badge/:file", s.badgeImage)
	page("/layerindex/branch_comparison/", s.cached(s.branchComparison(false)))
	page("/layerindex/branch_comparison_plain/", s.cached(s.branchComparison(true)))
	page("/layerindex/recipe_deps/", s.cached(s.recipeDeps))
	page("/layerindex/about/", s.cached(func(c echo.Context) error {
		return s.pages.render(c, http.StatusOK, "about", s.basePage(c, ""))
	}))

	assets := http.StripPrefix("/static/", http.FileServer(http.FS(static.FS)))
	e.GET("/static/*", echo.WrapHandler(cacheFor(assets, 3600)))
}

// cacheFor adds a Cache-Control max-age to static responses.
func cacheFor(h http.Handler, seconds int) http.Handler {
	v := "public, max-age=" + strconv.Itoa(seconds)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", v)
		h.ServeHTTP(w, r)
	})
}

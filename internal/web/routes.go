package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
	"layerindex/static"
)

// routes lists every route of the site.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/", s.home)

	// Browsing and search (same URLs as upstream layerindex-web).
	e.Pre(addSlash, cleanInput)
	e.GET("/layerindex/", s.defaultBranchRedirect(fixed("layers/")))
	e.GET("/layerindex/layers/", s.defaultBranchRedirect(fixed("layers/")))
	e.GET("/layerindex/layer/:name/", s.defaultBranchRedirect(func(c echo.Context) string {
		return "layer/" + url.PathEscape(c.Param("name")) + "/"
	}))
	for _, p := range []string{"recipes", "machines", "distros", "classes", "duplicates"} {
		e.GET("/layerindex/"+p+"/", s.defaultBranchRedirect(fixed(p+"/")))
	}
	e.GET("/layerindex/branch/:branch/", func(c echo.Context) error {
		return redirectTo(c, "/layerindex/branch/"+url.PathEscape(c.Param("branch"))+"/layers/")
	})
	e.GET("/layerindex/branch/:branch/layers/", s.cached(s.layerList))
	e.GET("/layerindex/branch/:branch/layer/:name/", s.cached(s.layerDetail))
	e.GET("/layerindex/branch/:branch/layer/:name/recipes/csv/", s.layerRecipesCSV)
	e.GET("/layerindex/branch/:branch/recipes/", s.cached(s.recipeSearch))
	e.GET("/layerindex/branch/:branch/machines/", s.cached(s.contentSearch(store.KindMachines)))
	e.GET("/layerindex/branch/:branch/distros/", s.cached(s.contentSearch(store.KindDistros)))
	e.GET("/layerindex/branch/:branch/classes/", s.cached(s.contentSearch(store.KindClasses)))
	e.GET("/layerindex/branch/:branch/duplicates/", s.cached(s.duplicates))
	e.GET("/layerindex/recipe/:id/", s.cached(s.recipeDetail))
	e.GET("/layerindex/updates/", s.cached(s.updateList))
	e.GET("/layerindex/updates/:id/", s.cached(s.updateDetail))
	e.GET("/layerindex/layerupdate/:id/", s.cached(s.layerUpdateDetail))
	e.GET("/layerindex/stats/", s.cached(s.stats))

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

package web

import (
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"layerindex/internal/api"
	"layerindex/static"
)

// routes lists every route of the site.
func (s *Server) routes() {
	e := s.echo
	e.GET("/healthz", s.healthz)
	e.GET("/readyz", s.readyz)
	e.GET("/", s.home)
	api.Register(e, s.store, api.Options{BaseURL: s.opts.BaseURL, Version: s.opts.Version, Logger: s.log})

	// Accounts, submission, review, maintenance and administration
	// (account.go, admin.go; handlers in submit.go, review.go, maintain.go).
	s.accountRoutes()
	s.layerAdminRoutes()

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

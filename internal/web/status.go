package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// statusRefreshMS is how often the indexing status page reloads its live
// part (static/js/status.js).
const statusRefreshMS = 3000

// indexingStatus is /layerindex/status/: the update runs running (with
// their logs so far, saved by the catalog while they run), waiting, and
// the layer branches whose last update failed. It is read from the runs
// on every request, never from the page cache, so that it is always true;
// its script reloads the live part every few seconds.
func (s *Server) indexingStatus(c echo.Context) error {
	st, err := s.store.IndexingStatus(c.Request().Context())
	if err != nil {
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	pd := s.basePage(c, "")
	pd.Nav = "status"
	return s.pages.render(c, http.StatusOK, "status", struct {
		pageData
		S         *store.IndexingStatus
		RefreshMS int
	}{pd, st, statusRefreshMS})
}

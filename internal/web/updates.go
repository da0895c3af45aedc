package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"layerindex/internal/store"
)

// updateList is /layerindex/updates/: update runs, newest first.
func (s *Server) updateList(c echo.Context) error {
	p, err := pageParam(c, 50)
	if err != nil {
		return err
	}
	res, err := s.store.Updates(c.Request().Context(), p)
	if err != nil {
		return err
	}
	if err := checkPage(res); err != nil {
		return err
	}
	pd := s.basePage(c, "")
	pd.Nav = "updates"
	return s.pages.render(c, http.StatusOK, "updates", struct {
		pageData
		Results store.Paged[store.UpdateRow]
	}{pd, res})
}

// updateDetail is /layerindex/updates/ID/: one run and its layer updates.
func (s *Server) updateDetail(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u, err := s.store.UpdatePage(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no update run with this id; old runs are removed after a while.")
	} else if err != nil {
		return err
	}
	pd := s.basePage(c, "")
	pd.Nav = "updates"
	return s.pages.render(c, http.StatusOK, "update", struct {
		pageData
		U *store.UpdatePage
	}{pd, u})
}

// layerUpdateDetail is /layerindex/layerupdate/ID/: one layer's update log.
func (s *Server) layerUpdateDetail(c echo.Context) error {
	id, err := idParam(c, "id")
	if err != nil {
		return err
	}
	u, err := s.store.LayerUpdatePage(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no layer update with this id; old logs are removed after a while.")
	} else if err != nil {
		return err
	}
	pd := s.basePage(c, u.BranchName)
	pd.Nav = "updates"
	return s.pages.render(c, http.StatusOK, "layerupdate", struct {
		pageData
		U *store.LayerUpdatePage
	}{pd, u})
}

package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/catalog"
	"layerindex/internal/store"
)

// layerAdminRoutes lists submission, review, maintenance and administration
// routes. Every POST is checked by the policy in its handler and by the CSRF
// middleware.
func (s *Server) layerAdminRoutes() {
	e := s.echo
	e.GET("/layerindex/submit/", s.submitLayer)
	e.POST("/layerindex/submit/", s.submitLayer)
	e.GET("/layerindex/submit/thanks/", s.submitThanks)

	e.GET("/layerindex/review/", s.reviewList)
	e.GET("/layerindex/review/:name/", s.reviewLayer)
	e.POST("/layerindex/layer/:name/publish/", s.publishLayer)
	e.POST("/layerindex/layer/:name/reject/", s.rejectLayer)
	e.GET("/layerindex/layer/:name/delete/", s.deleteLayer)
	e.POST("/layerindex/layer/:name/delete/", s.deleteLayer)

	e.GET("/layerindex/layer/:name/manage/", s.manageLayer)
	e.GET("/layerindex/branch/:branch/edit/:name/", s.editLayer)
	e.POST("/layerindex/branch/:branch/edit/:name/", s.editLayer)
	e.GET("/layerindex/layer/:name/addnote/", s.editNote)
	e.POST("/layerindex/layer/:name/addnote/", s.editNote)
	e.GET("/layerindex/layer/:name/editnote/:id/", s.editNote)
	e.POST("/layerindex/layer/:name/editnote/:id/", s.editNote)
	e.GET("/layerindex/layer/:name/deletenote/:id/", s.deleteNote)
	e.POST("/layerindex/layer/:name/deletenote/:id/", s.deleteNote)
	e.POST("/layerindex/layer/:name/update/", s.reindex)
	e.GET("/layerindex/layer/:name/update/", s.reindexStatus)
	e.POST("/layerindex/layer/:name/addbranch/", s.addLayerBranch)
	e.POST("/layerindex/layer/:name/masterforcompatible/", s.masterForCompatible)
	s.hookRoutes()

	e.GET("/layerindex/history/", s.historyList)
	e.GET("/layerindex/admin/", s.adminIndex)
	e.GET("/layerindex/admin/layers/", s.adminLayers)
	e.GET("/layerindex/admin/branches/", s.adminBranches)
	e.POST("/layerindex/admin/branches/", s.adminBranches)
	e.POST("/layerindex/admin/branches/:id/", s.adminBranch)
	e.GET("/layerindex/admin/outbox/", s.outbox)
	e.GET("/layerindex/admin/credentials/", s.adminCredentials)
	e.POST("/layerindex/admin/credentials/", s.adminCredentials)
	e.POST("/layerindex/admin/credentials/remove/", s.removeCredential)
}

// adminPerPage is the page size of the administration lists.
const adminPerPage = 50

func (s *Server) adminIndex(c echo.Context) error {
	if err := s.require(c, auth.ReviewLayers, nil); err != nil {
		return err
	}
	return s.pages.render(c, http.StatusOK, "admin", s.formPage(c))
}

func (s *Server) adminLayers(c echo.Context) error {
	if err := s.require(c, auth.ReviewLayers, nil); err != nil {
		return err
	}
	ls, err := s.store.AllLayers(c.Request().Context())
	if err != nil {
		return err
	}
	data := struct {
		pageData
		Layers []store.Layer
	}{s.formPage(c), ls}
	return s.pages.render(c, http.StatusOK, "adminlayers", data)
}

// historyList is the change history, for administrators; ?layer= narrows
// it to one layer.
func (s *Server) historyList(c echo.Context) error {
	if err := s.require(c, auth.ViewHistory, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var layerID *int64
	name := c.QueryParam("layer")
	if name != "" {
		l, err := s.store.LayerByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return echo.NewHTTPError(http.StatusNotFound, "There is no layer called "+name+".")
		} else if err != nil {
			return err
		}
		layerID = &l.ID
	}
	page, err := pageParam(c, adminPerPage)
	if err != nil {
		return err
	}
	cs, err := s.store.LayerChanges(ctx, layerID, page)
	if err != nil {
		return err
	}
	if err := checkPage(cs); err != nil {
		return err
	}
	data := struct {
		pageData
		Changes []store.LayerChange
		Layer   string
		Pager   store.Paged[store.LayerChange]
	}{s.formPage(c), cs.Items, name, cs}
	return s.pages.render(c, http.StatusOK, "history", data)
}

func (s *Server) outbox(c echo.Context) error {
	if err := s.require(c, auth.ViewOutbox, nil); err != nil {
		return err
	}
	page, err := pageParam(c, adminPerPage)
	if err != nil {
		return err
	}
	ms, err := s.store.Mails(c.Request().Context(), page)
	if err != nil {
		return err
	}
	if err := checkPage(ms); err != nil {
		return err
	}
	data := struct {
		pageData
		Mails []store.Mail
		Pager store.Paged[store.Mail]
	}{s.formPage(c), ms.Items, ms}
	return s.pages.render(c, http.StatusOK, "outbox", data)
}

// branchForm validates a branch's settings from f into b.
func branchForm(f *form, b *store.Branch) {
	b.BitbakeBranch = strings.TrimSpace(f.V("bitbake_branch"))
	if len(b.BitbakeBranch) > 50 || strings.ContainsAny(b.BitbakeBranch, " \t<>") {
		f.fail("bitbake_branch", "Enter a BitBake branch name or commit (at most 50 characters).")
	}
	b.ShortDescription = f.text("short_description", textOpts{max: 50})
	b.SortPriority = nil
	if v := strings.TrimSpace(f.V("sort_priority")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < -10000 || n > 10000 {
			f.fail("sort_priority", "Enter a whole number (lower comes first), or leave empty.")
		}
		b.SortPriority = &n
	}
	b.UpdatesEnabled = f.V("updates_enabled") == "on"
	b.Hidden = f.V("hidden") == "on"
}

// adminBranches lists release branches and adds one.
func (s *Server) adminBranches(c echo.Context) error {
	if err := s.require(c, auth.ManageBranches, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := newForm(nil)
	f.set("updates_enabled", "on")
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		b := &store.Branch{Name: strings.TrimSpace(f.V("name"))}
		f.set("name", b.Name)
		f.failWith(catalog.CheckBranchName(b.Name))
		branchForm(f, b)
		if f.OK() {
			n, err := s.cat.AddBranch(ctx, catalog.Web(currentUser(c)), b)
			if errors.Is(err, store.ErrConflict) {
				f.fail("name", "This branch already exists.")
			} else if err != nil {
				return err
			} else {
				s.flash(c, "The branch %s is added. The repositories of %d published layer(s) are being searched for a git branch of that name; "+
					"the layers that have one are added to it and indexed (see the updates page).", b.Name, n)
				return c.Redirect(http.StatusSeeOther, "/layerindex/admin/branches/")
			}
		}
	}
	bs, err := s.store.AllBranches(ctx)
	if err != nil {
		return err
	}
	data := struct {
		formData
		AllBranches []store.Branch
	}{formData{pageData: s.formPage(c), Form: f}, bs}
	return s.pages.render(c, formStatus(c, f, false), "branches", data)
}

// adminBranch saves one branch's settings.
func (s *Server) adminBranch(c echo.Context) error {
	if err := s.require(c, auth.ManageBranches, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "No such branch.")
	}
	b, err := s.store.BranchByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "No such branch.")
	} else if err != nil {
		return err
	}
	ps, _ := c.FormParams()
	f := newForm(ps)
	branchForm(f, b)
	if !f.OK() {
		var msgs []string
		for _, m := range f.Errors {
			msgs = append(msgs, m)
		}
		return echo.NewHTTPError(http.StatusUnprocessableEntity, "Branch "+b.Name+" not saved: "+strings.Join(msgs, " "))
	}
	if err := s.cat.UpdateBranch(ctx, catalog.Web(currentUser(c)), b); err != nil {
		return err
	}
	s.flash(c, "The branch %s is saved.", b.Name)
	return c.Redirect(http.StatusSeeOther, "/layerindex/admin/branches/")
}

// Routes lists the registered routes (tests check every POST for CSRF).
func (s *Server) Routes() []*echo.Route { return s.echo.Routes() }

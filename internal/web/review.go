package web

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/catalog"
	"layerindex/internal/store"
)

// layerParam loads the layer named in the URL.
func (s *Server) layerParam(c echo.Context) (*store.Layer, error) {
	l, err := s.store.LayerByName(c.Request().Context(), c.Param("name"))
	if errors.Is(err, store.ErrNotFound) {
		return nil, echo.NewHTTPError(http.StatusNotFound, "There is no layer called "+c.Param("name")+".")
	}
	return l, err
}

func (s *Server) reviewList(c echo.Context) error {
	if err := s.require(c, auth.ReviewLayers, nil); err != nil {
		return err
	}
	ls, err := s.store.NewLayers(c.Request().Context())
	if err != nil {
		return err
	}
	data := struct {
		pageData
		Layers []store.Layer
	}{s.formPage(c), ls}
	return s.pages.render(c, http.StatusOK, "review", data)
}

// managePage is the data of a layer's maintenance page, which is also the
// review page of a new layer.
type managePage struct {
	pageData
	Layer         *store.Layer
	LayerBranches []store.LayerBranch
	Maintainers   map[int64][]store.LayerMaintainer
	Deps          map[int64][]store.Layer
	Notes         []store.LayerNote
	Changes       []store.LayerChange
	Updates       []store.LayerUpdate // the last month's, newest first
	BranchNames   map[int64]string
	OtherBr       []store.Branch // branches the layer could be added to
	TypeLabel     string
	Admin         bool
	Review        bool // a new layer seen by an administrator: publish, reject
	TestFile      string
	TestTree      string
	Submitter     *store.User
	RejectForm    *form
	Runs          map[int64]store.LayerUpdate // each layer branch's newest run
	PublicURL     string
	// Webhooks: the layer's secret, its hook URL and the last deliveries.
	HookSecret     string
	HookURL        string
	HookDeliveries []store.HookDelivery
	// AlertsOff: the visitor opted out of this layer's alert mail.
	AlertsOff bool
}

func (s *Server) reviewLayer(c echo.Context) error {
	if err := s.require(c, auth.ReviewLayers, nil); err != nil {
		return err
	}
	return s.manage(c, http.StatusOK, nil)
}

func (s *Server) manageLayer(c echo.Context) error {
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if err := s.require(c, auth.EditLayer, l); err != nil {
		return err
	}
	return s.manage(c, http.StatusOK, nil)
}

// manage renders a layer's maintenance or review page.
func (s *Server) manage(c echo.Context, status int, reject *form) error {
	ctx := c.Request().Context()
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	p := &managePage{pageData: s.formPage(c), Layer: l, Admin: s.allowed(c, auth.ReviewLayers, nil),
		Maintainers: map[int64][]store.LayerMaintainer{}, Deps: map[int64][]store.Layer{}, RejectForm: reject}
	p.Review = p.Admin && l.Status == store.StatusNew
	p.TypeLabel = store.LayerTypeLabel(l.LayerType)
	if p.RejectForm == nil {
		p.RejectForm = newForm(nil)
	}
	if p.LayerBranches, err = s.store.LayerBranchesOfLayer(ctx, l.ID); err != nil {
		return err
	}
	have := map[int64]bool{}
	for _, lb := range p.LayerBranches {
		have[lb.BranchID] = true
		if p.Maintainers[lb.ID], err = s.store.LayerMaintainers(ctx, lb.ID); err != nil {
			return err
		}
		deps, err := s.store.Dependencies(ctx, lb.ID)
		if err != nil {
			return err
		}
		for _, d := range deps {
			if dl, err := s.store.LayerByID(ctx, d.DependencyID); err == nil {
				p.Deps[lb.ID] = append(p.Deps[lb.ID], *dl)
			}
		}
	}
	var lbIDs []int64
	for _, lb := range p.LayerBranches {
		lbIDs = append(lbIDs, lb.ID)
	}
	if p.Runs, err = s.store.LastRuns(ctx, lbIDs); err != nil {
		return err
	}
	p.PublicURL = catalog.LayerPath("master", l.Name)
	if len(p.LayerBranches) > 0 {
		p.PublicURL = catalog.LayerPath(p.LayerBranches[0].Branch.Name, l.Name)
		for _, lb := range p.LayerBranches {
			if lb.Branch.Name == "master" {
				p.PublicURL = catalog.LayerPath("master", l.Name)
			}
		}
	}
	if len(p.LayerBranches) > 0 {
		lb := p.LayerBranches[0]
		p.TestFile = expandWebURL(l.VCSWebFileBaseURL, lb.GitBranch(), lb.VCSSubdir, "conf/layer.conf")
		p.TestTree = expandWebURL(l.VCSWebTreeBaseURL, lb.GitBranch(), lb.VCSSubdir, "conf")
	}
	if u := currentUser(c); u != nil {
		if p.AlertsOff, err = s.store.AlertOptedOut(ctx, u.ID, l.ID); err != nil {
			return err
		}
	}
	if p.HookSecret, err = s.cat.HookSecret(ctx, l.ID); err != nil {
		return err
	}
	p.HookURL = strings.TrimRight(s.opts.BaseURL, "/") + hooksPrefix + l.Name + "/"
	if p.HookDeliveries, err = s.store.HookDeliveries(ctx, l.ID, 20); err != nil {
		return err
	}
	if p.Notes, err = s.store.LayerNotes(ctx, l.ID); err != nil {
		return err
	}
	if p.Updates, err = s.store.LayerUpdatesSince(ctx, l.ID, time.Now().Add(-30*24*time.Hour)); err != nil {
		return err
	}
	if len(p.Updates) > 10 {
		p.Updates = p.Updates[:10]
	}
	p.BranchNames = map[int64]string{}
	for _, lb := range p.LayerBranches {
		p.BranchNames[lb.BranchID] = lb.Branch.Name
	}
	if p.Admin {
		changes, err := s.store.LayerChanges(ctx, &l.ID, store.Page{Number: 1, Size: 20})
		p.Changes = changes.Items
		if err != nil {
			return err
		}
		all, err := s.store.AllBranches(ctx)
		if err != nil {
			return err
		}
		for _, b := range all {
			if !have[b.ID] {
				p.OtherBr = append(p.OtherBr, b)
			}
		}
		if l.SubmittedByID != nil {
			if u, err := s.store.UserByID(ctx, *l.SubmittedByID); err == nil {
				p.Submitter = u
			}
		}
	}
	return s.pages.render(c, status, "managelayer", p)
}

func (s *Server) publishLayer(c echo.Context) error {
	if err := s.require(c, auth.ReviewLayers, nil); err != nil {
		return err
	}
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	err = s.cat.Publish(c.Request().Context(), catalog.Web(currentUser(c)), l.ID)
	if errors.Is(err, catalog.ErrNotWaiting) {
		return echo.NewHTTPError(http.StatusConflict, "The layer "+l.Name+" is not waiting for review (it was already published).")
	}
	if err != nil {
		return err
	}
	s.flash(c, "%s is published; its maintainers are notified and its indexing is queued.", l.Name)
	return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/manage/")
}

func (s *Server) rejectLayer(c echo.Context) error {
	if err := s.require(c, auth.ReviewLayers, nil); err != nil {
		return err
	}
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if l.Status != store.StatusNew {
		return echo.NewHTTPError(http.StatusConflict, "Only layers waiting for review can be rejected; delete a published layer instead.")
	}
	ps, _ := c.FormParams()
	f := newForm(ps)
	reason := f.text("reason", textOpts{required: true, max: 2000, multiline: true})
	if !f.OK() {
		return s.manage(c, http.StatusUnprocessableEntity, f)
	}
	err = s.cat.Reject(c.Request().Context(), catalog.Web(currentUser(c)), l.ID, reason)
	if errors.Is(err, catalog.ErrNotWaiting) {
		return echo.NewHTTPError(http.StatusConflict, "Only layers waiting for review can be rejected; delete a published layer instead.")
	}
	if err != nil {
		return err
	}
	s.flash(c, "%s was rejected and removed; the submitter and maintainers are told why.", l.Name)
	return c.Redirect(http.StatusSeeOther, "/layerindex/review/")
}

// deleteLayer: GET asks for confirmation, POST deletes.
func (s *Server) deleteLayer(c echo.Context) error {
	if err := s.require(c, auth.ReviewLayers, nil); err != nil {
		return err
	}
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodGet {
		return s.confirm(c, "Delete the layer "+l.Name+"?",
			"This removes the layer and everything indexed for it on every branch. It cannot be undone.",
			"Delete layer", "/layerindex/layer/"+l.Name+"/manage/")
	}
	if err := s.cat.DeleteLayer(c.Request().Context(), catalog.Web(currentUser(c)), l.ID); err != nil {
		return err
	}
	s.flash(c, "The layer %s is deleted.", l.Name)
	if l.Status == store.StatusNew {
		return c.Redirect(http.StatusSeeOther, "/layerindex/review/")
	}
	return c.Redirect(http.StatusSeeOther, "/layerindex/admin/layers/")
}

// confirm renders a confirmation page whose button posts back to the same
// URL.
func (s *Server) confirm(c echo.Context, title, msg, button, cancel string) error {
	data := struct {
		pageData
		Title, Message, Button, Action, Cancel string
	}{s.formPage(c), title, msg, button, c.Request().URL.Path, cancel}
	return s.pages.render(c, http.StatusOK, "confirm", data)
}

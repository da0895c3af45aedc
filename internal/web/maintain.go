package web

import (
	"errors"
	"net/http"
	"slices"
	"strconv"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/catalog"
	"layerindex/internal/store"
)

// editLayer edits a layer and its layer branch on one release:
// /layerindex/branch/<branch>/edit/<layer>/ as upstream.
func (s *Server) editLayer(c echo.Context) error {
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if err := s.require(c, auth.EditLayer, l); err != nil {
		return err
	}
	ctx := c.Request().Context()
	who := currentUser(c)
	b, err := s.store.BranchByName(ctx, c.Param("branch"))
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no release branch called "+c.Param("branch")+".")
	} else if err != nil {
		return err
	}
	lb, err := s.store.LayerBranch(ctx, l.ID, b.ID)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "The layer "+l.Name+" has no branch "+b.Name+".")
	} else if err != nil {
		return err
	}
	ms, err := s.store.LayerMaintainers(ctx, lb.ID)
	if err != nil {
		return err
	}
	oldDeps, err := s.store.Dependencies(ctx, lb.ID)
	if err != nil {
		return err
	}
	choices, err := s.store.PublishedLayersOnBranch(ctx, b.ID)
	if err != nil {
		return err
	}
	// A dependency on a layer that is not (or no longer) published stays
	// choosable.
	for _, d := range oldDeps {
		if !slices.ContainsFunc(choices, func(x store.Layer) bool { return x.ID == d.DependencyID }) {
			if dl, err := s.store.LayerByID(ctx, d.DependencyID); err == nil {
				choices = append(choices, *dl)
			}
		}
	}
	choices = slices.DeleteFunc(choices, func(x store.Layer) bool { return x.ID == l.ID })
	manage := "/layerindex/layer/" + l.Name + "/manage/"
	view := layerFormView{DepChoices: choices, Edit: true, BranchName: b.Name, CancelURL: manage, SubmitLabel: "Save changes",
		AllowBase: s.allowed(c, auth.SetBaseType, l)}
	f := layerFormValues(l, lb, ms, oldDeps)
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		in, err := s.validateLayer(ctx, f, who, l, choices)
		if err != nil {
			return err
		}
		if f.OK() {
			ed, err := s.cat.EditLayer(ctx, catalog.Web(who), l.ID, b.ID, *in)
			var inv *catalog.InvalidError
			if errors.Is(err, store.ErrConflict) {
				f.fail("name", "A layer with this name already exists.")
			} else if errors.As(err, &inv) {
				f.failWith(err)
			} else if err != nil {
				return err
			} else {
				msg := "Your changes to %s are saved."
				if len(ed.Requeued) > 0 {
					msg += " The change needs a new index: its update is queued."
				}
				s.flash(c, msg, in.Layer.Name)
				return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+in.Layer.Name+"/manage/")
			}
		}
	}
	p := s.layerFormPage(c, f, view)
	p.Layer = l
	return s.pages.render(c, formStatus(c, f, false), "editlayer", p)
}

// Notes.

func (s *Server) noteLayer(c echo.Context) (*store.Layer, *store.LayerNote, error) {
	l, err := s.layerParam(c)
	if err != nil {
		return nil, nil, err
	}
	if err := s.require(c, auth.EditLayer, l); err != nil {
		return nil, nil, err
	}
	n := &store.LayerNote{LayerID: l.ID}
	if idp := c.Param("id"); idp != "" {
		id, err := strconv.ParseInt(idp, 10, 64)
		if err != nil {
			return nil, nil, echo.NewHTTPError(http.StatusNotFound, "No such note.")
		}
		n, err = s.store.LayerNote(c.Request().Context(), l.ID, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil, echo.NewHTTPError(http.StatusNotFound, "No such note.")
		} else if err != nil {
			return nil, nil, err
		}
	}
	return l, n, nil
}

// editNote adds a note (no id) or edits one.
func (s *Server) editNote(c echo.Context) error {
	l, n, err := s.noteLayer(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	f := newForm(nil)
	f.set("text", n.Text)
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		text := f.text("text", textOpts{required: true, max: 2000, multiline: true})
		if f.OK() {
			if err := s.cat.SaveNote(ctx, catalog.Web(currentUser(c)), l.ID, n.ID, text); err != nil {
				return err
			}
			s.flash(c, "The note is saved.")
			return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/manage/")
		}
	}
	data := struct {
		formData
		Layer *store.Layer
		Note  *store.LayerNote
	}{formData{pageData: s.formPage(c), Form: f}, l, n}
	return s.pages.render(c, formStatus(c, f, false), "note", data)
}

func (s *Server) deleteNote(c echo.Context) error {
	l, n, err := s.noteLayer(c)
	if err != nil {
		return err
	}
	if c.Request().Method == http.MethodGet {
		return s.confirm(c, "Delete this note of "+l.Name+"?", n.Text, "Delete note", "/layerindex/layer/"+l.Name+"/manage/")
	}
	if err := s.cat.DeleteNote(c.Request().Context(), catalog.Web(currentUser(c)), l.ID, n.ID); err != nil {
		return err
	}
	s.flash(c, "The note is deleted.")
	return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/manage/")
}

// reindex queues a re-index of every branch of a layer (joining runs
// already waiting) and shows its progress on the update's page.
func (s *Server) reindex(c echo.Context) error {
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if err := s.require(c, auth.EditLayer, l); err != nil {
		return err
	}
	req, err := s.cat.RequestUpdate(c.Request().Context(), catalog.Web(currentUser(c)),
		catalog.UpdateRequest{LayerID: l.ID, Force: c.FormValue("force") == "on"})
	var inv *catalog.InvalidError
	if errors.As(err, &inv) {
		return echo.NewHTTPError(http.StatusConflict, inv.Msg)
	} else if err != nil {
		return err
	}
	for _, r := range req.Runs {
		if r.Joined {
			s.flash(c, "An update of %s was already waiting to run; this request joined it.", l.Name)
			break
		}
	}
	// One branch: its run's page; several: the request's, which lists them.
	if len(req.Runs) == 1 {
		return c.Redirect(http.StatusSeeOther, "/layerindex/layerupdate/"+strconv.FormatInt(req.Runs[0].Run.ID, 10)+"/")
	}
	return c.Redirect(http.StatusSeeOther, "/layerindex/updates/"+strconv.FormatInt(req.Update.ID, 10)+"/")
}

// reindexStatus shows a re-index request: the update's own page does
// (/layerindex/layer/NAME/update/?update=ID redirects there).
func (s *Server) reindexStatus(c echo.Context) error {
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.QueryParam("update"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "No such update request for "+l.Name+".")
	}
	return c.Redirect(http.StatusSeeOther, "/layerindex/updates/"+strconv.FormatInt(id, 10)+"/")
}

// addLayerBranch adds a layer to another release branch, copying the
// subdirectory and maintainers of its first branch (administrators).
func (s *Server) addLayerBranch(c echo.Context) error {
	if err := s.require(c, auth.ManageBranches, nil); err != nil {
		return err
	}
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	bid, err := strconv.ParseInt(c.FormValue("branch"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose a branch.")
	}
	b, err := s.store.BranchByID(ctx, bid)
	if errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusBadRequest, "Choose a branch from the list.")
	} else if err != nil {
		return err
	}
	_, err = s.cat.AddLayerToBranch(ctx, catalog.Web(currentUser(c)), l.ID, b.ID)
	if errors.Is(err, store.ErrConflict) {
		return echo.NewHTTPError(http.StatusConflict, "The layer is already on "+b.Name+".")
	}
	if err != nil {
		return err
	}
	s.flash(c, "%s is now on %s and its update is queued; edit its subdirectory or branch there if they differ.", l.Name, b.Name)
	return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/manage/")
}

// masterForCompatible turns the layer's "master under every compatible
// release" option on or off (its maintainers and administrators).
func (s *Server) masterForCompatible(c echo.Context) error {
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if err := s.require(c, auth.EditLayer, l); err != nil {
		return err
	}
	on := c.FormValue("on") == "on"
	if err := s.cat.SetMasterForCompatible(c.Request().Context(), catalog.Web(currentUser(c)), l.ID, on); err != nil {
		return err
	}
	if on {
		s.flash(c, "%s's master branch is now indexed under every release it declares compatibility with.", l.Name)
	} else {
		s.flash(c, "%s is no longer indexed from master under other releases.", l.Name)
	}
	return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/manage/#master-for-compatible")
}

package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/auth"
	"layerindex/internal/jobs"
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
			err := s.saveLayerEdit(c, who, l, lb, ms, oldDeps, in)
			if errors.Is(err, store.ErrConflict) {
				f.fail("name", "A layer with this name already exists.")
			} else if err != nil {
				return err
			} else {
				s.flash(c, "Your changes to %s are saved.", in.Layer.Name)
				return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+in.Layer.Name+"/manage/")
			}
		}
	}
	p := s.layerFormPage(c, f, view)
	p.Layer = l
	return s.pages.render(c, formStatus(c, f, false), "editlayer", p)
}

// saveLayerEdit writes an edit with its history entry and, in the same
// transaction, a mail to each maintainer added (other than the editor).
func (s *Server) saveLayerEdit(c echo.Context, who *store.User, l *store.Layer, lb *store.LayerBranch,
	oldMs []store.LayerMaintainer, oldDeps []store.LayerDependency, in *layerInput) error {
	ctx := c.Request().Context()
	in.Layer.ID = l.ID
	e := &store.LayerEdit{Layer: in.Layer, BranchID: lb.ID, Subdir: in.Subdir, Actual: in.Actual,
		Maintainers: in.Maintainers, DependsOn: in.DependsOn}

	details := changes(l, &in.Layer, lb, in)
	var oldIDs []int64
	for _, d := range oldDeps {
		oldIDs = append(oldIDs, d.DependencyID)
	}
	slices.Sort(oldIDs)
	newIDs := slices.Clone(in.DependsOn)
	slices.Sort(newIDs)
	depsChanged := !slices.Equal(oldIDs, newIDs)
	if depsChanged {
		details = append(details, "dependencies changed")
	}
	// Upstream forgets to rescan when only the subdirectory or branch
	// changes (its defect #10); any of these makes the next update a full
	// scan here.
	e.ResetAllRevs = l.VCSURL != in.Layer.VCSURL
	e.ResetRev = depsChanged || lb.VCSSubdir != in.Subdir || lb.ActualBranch != in.Actual

	old := map[string]store.LayerMaintainer{}
	for _, m := range oldMs {
		old[store.NormalizeEmail(m.Email)] = m
	}
	var added []store.LayerMaintainer
	for _, m := range in.Maintainers {
		k := store.NormalizeEmail(m.Email)
		o, had := old[k]
		switch {
		case !had:
			details = append(details, "maintainer added: "+m.Name+" <"+m.Email+">")
			if k != store.NormalizeEmail(who.Email) {
				added = append(added, m)
			}
		case o.Name != m.Name || o.Responsibility != m.Responsibility || o.Status != m.Status:
			details = append(details, "maintainer changed: "+m.Name+" <"+m.Email+">")
		}
		delete(old, k)
	}
	for _, m := range old {
		details = append(details, "maintainer removed: "+m.Name+" <"+m.Email+">")
	}
	return s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
		if err := tx.ApplyLayerEdit(ctx, e); err != nil {
			return err
		}
		if len(details) == 0 {
			return nil
		}
		nl := in.Layer
		if err := s.history(ctx, tx.Store, who, &nl, "edited", "branch "+lb.Branch.Name+": "+strings.Join(details, "; ")); err != nil {
			return err
		}
		for _, m := range added {
			err := s.enqueueMail(tx, "maintainer_added", []string{m.Email}, map[string]any{"Name": m.Name, "Layer": nl.Name,
				"By": who.Email, "Link": s.absURL(layerURL(nl.Name))})
			if err != nil {
				return err
			}
		}
		return nil
	})
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
			action := "note added"
			if n.ID != 0 {
				action = "note edited"
			}
			n.Text = text
			err := s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
				if err := tx.SaveLayerNote(ctx, n); err != nil {
					return err
				}
				return s.history(ctx, tx.Store, currentUser(c), l, action, clip(text))
			})
			if err != nil {
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
	ctx := c.Request().Context()
	err = s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
		if err := tx.DeleteLayerNote(ctx, l.ID, n.ID); err != nil {
			return err
		}
		return s.history(ctx, tx.Store, currentUser(c), l, "note deleted", clip(n.Text))
	})
	if err != nil {
		return err
	}
	s.flash(c, "The note is deleted.")
	return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/manage/")
}

// reindex queues a re-index of every branch of a layer. The job is unique
// per layer while pending: a second request joins the first.
func (s *Server) reindex(c echo.Context) error {
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if err := s.require(c, auth.EditLayer, l); err != nil {
		return err
	}
	ctx := c.Request().Context()
	who := currentUser(c)
	force := c.FormValue("force") == "on"
	var res *rivertype.JobInsertResult
	err = s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
		var err error
		res, err = tx.Enqueue(jobs.UpdateLayerArgs{LayerID: l.ID, Force: force, TriggeredBy: &who.ID}, nil)
		if err != nil || res.UniqueSkippedAsDuplicate {
			return err
		}
		what := "re-index requested"
		if force {
			what = "full re-index requested"
		}
		return s.history(ctx, tx.Store, who, l, what, "")
	})
	if err != nil {
		return err
	}
	if res.UniqueSkippedAsDuplicate {
		s.flash(c, "An update of %s is already queued or running; this is its progress.", l.Name)
	}
	return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/update/?job="+strconv.FormatInt(res.Job.ID, 10))
}

// reindexStatus shows a requested update: the job's state, then the logs
// of the layer's branch updates since it was queued. The page refreshes
// itself until everything finished.
func (s *Server) reindexStatus(c echo.Context) error {
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if err := s.require(c, auth.EditLayer, l); err != nil {
		return err
	}
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.QueryParam("job"), 10, 64)
	if err != nil || id <= 0 {
		return echo.NewHTTPError(http.StatusNotFound, "No such update request.")
	}
	job, err := s.jobs.Client().JobGet(ctx, id)
	var args jobs.UpdateLayerArgs
	if err != nil || job.Kind != args.Kind() || json.Unmarshal(job.EncodedArgs, &args) != nil || args.LayerID != l.ID {
		return echo.NewHTTPError(http.StatusNotFound, "No such update request for "+l.Name+".")
	}
	ups, err := s.store.LayerUpdatesSince(ctx, l.ID, job.CreatedAt.Add(-time.Second))
	if err != nil {
		return err
	}
	lbs, err := s.store.LayerBranchesOfLayer(ctx, l.ID)
	if err != nil {
		return err
	}
	branchName := map[int64]string{}
	for _, lb := range lbs {
		branchName[lb.BranchID] = lb.Branch.Name
	}
	finished := job.FinalizedAt != nil
	running := false
	for _, u := range ups {
		running = running || u.Status == store.UpdateRunning
	}
	enabled := 0
	for _, lb := range lbs {
		if lb.UpdatesEnabled {
			enabled++
		}
	}
	done := finished && !running && (len(ups) >= enabled || job.State != rivertype.JobStateCompleted ||
		time.Since(*job.FinalizedAt) > 15*time.Minute)
	var errs []string
	for _, e := range job.Errors {
		errs = append(errs, e.Error)
	}
	data := struct {
		pageData
		Layer       *store.Layer
		Job         *rivertype.JobRow
		State       string
		Errors      []string
		Updates     []store.LayerUpdate
		BranchNames map[int64]string
		Done        bool
	}{s.formPage(c), l, job, string(job.State), errs, ups, branchName, done}
	return s.pages.render(c, http.StatusOK, "reindex", data)
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
	lbs, err := s.store.LayerBranchesOfLayer(ctx, l.ID)
	if err != nil {
		return err
	}
	err = s.jobs.InTx(ctx, func(tx *jobs.Tx) error {
		if len(lbs) == 0 {
			if err := tx.CreateLayerBranch(ctx, &store.LayerBranch{LayerID: l.ID, BranchID: b.ID, UpdatesEnabled: true}); err != nil {
				return err
			}
		} else if _, err := tx.CopyLayerBranch(ctx, &lbs[0], b.ID); err != nil {
			return err
		}
		return s.history(ctx, tx.Store, currentUser(c), l, "branch added", b.Name)
	})
	if errors.Is(err, store.ErrConflict) {
		return echo.NewHTTPError(http.StatusConflict, "The layer is already on "+b.Name+".")
	}
	if err != nil {
		return err
	}
	s.flash(c, "%s is now on %s; edit its subdirectory or branch there if they differ.", l.Name, b.Name)
	return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/manage/")
}

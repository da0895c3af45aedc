package web

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/catalog"
	"layerindex/internal/store"
)

// submitBranch is the release a submission starts on: master, as upstream,
// or the first visible branch when there is no master.
func (s *Server) submitBranch(c echo.Context) (*store.Branch, error) {
	ctx := c.Request().Context()
	b, err := s.store.BranchByName(ctx, "master")
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return b, err
	}
	bs, err := s.store.VisibleBranches(ctx)
	if err != nil || len(bs) == 0 {
		return nil, err
	}
	return &bs[0], nil
}

// layerPage is the data of the layer form pages (submit and edit).
type layerPage struct {
	formData
	View  layerFormView
	Layer *store.Layer
}

func (s *Server) layerFormPage(c echo.Context, f *form, v layerFormView) *layerPage {
	v.Types = store.LayerTypes
	v.Rows = maintainerRows(f)
	v.Presets = webPresets
	return &layerPage{formData: formData{pageData: s.formPage(c), Form: f}, View: v}
}

func (s *Server) submitLayer(c echo.Context) error {
	if err := s.require(c, auth.SubmitLayer, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	who := currentUser(c)
	branch, err := s.submitBranch(c)
	if err != nil {
		return err
	}
	if branch == nil {
		return s.notice(c, http.StatusServiceUnavailable, "Submissions are not open yet",
			"No release branch is defined yet, so there is nothing to submit a layer to. Please ask the site's administrators.")
	}
	deps, err := s.store.PublishedLayersOnBranch(ctx, branch.ID)
	if err != nil {
		return err
	}
	view := layerFormView{DepChoices: deps, BranchName: branch.Name, CancelURL: "/", SubmitLabel: "Submit layer",
		AllowBase: s.allowed(c, auth.SetBaseType, nil)}
	f := newForm(nil)
	limited := false
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		in, err := s.validateLayer(ctx, f, who, nil, deps)
		if err != nil {
			return err
		}
		if auth.NeedsChallenge(who) && !s.checkChallenge(ctx, f.V("challenge")) {
			f.fail("challenge", "That is not the answer; here is another question.")
			if err := s.hit(ctx, limitCheck{s.acct.limits.ChallengeFailPerIP, c.RealIP()}); err != nil {
				return err
			}
		}
		f.set("challenge", "")
		checks := []limitCheck{{s.acct.limits.SubmitPerIP, c.RealIP()}}
		if who != nil {
			checks = []limitCheck{{s.acct.limits.SubmitPerAccount, strconv.FormatInt(who.ID, 10)}}
		} else {
			checks = append(checks, limitCheck{s.acct.limits.ChallengeFailPerIP, c.RealIP()})
		}
		msg, err := s.limited(ctx, checks...)
		if err != nil {
			return err
		}
		if msg != "" {
			f.fail("form", "%s", msg)
			limited = true
		}
		if f.OK() {
			err := s.storeSubmission(c, who, branch, in)
			var inv *catalog.InvalidError
			if errors.Is(err, store.ErrConflict) {
				f.fail("name", "A layer with this name already exists.")
			} else if errors.As(err, &inv) {
				f.failWith(err)
			} else if err != nil {
				return err
			} else {
				if err := s.hit(ctx, checks[0]); err != nil {
					return err
				}
				return c.Redirect(http.StatusSeeOther, "/layerindex/submit/thanks/")
			}
		}
	} else if len(deps) > 0 {
		// Upstream preselects the core layer.
		for _, d := range deps {
			if d.Name == "openembedded-core" {
				f.Values.Add("dep", strconv.FormatInt(d.ID, 10))
			}
		}
	}
	if auth.NeedsChallenge(who) {
		if f.E("challenge") != "" {
			view.Challenge = s.newChallenge(ctx)
		} else {
			view.Challenge = s.challenge(ctx)
		}
	}
	return s.pages.render(c, formStatus(c, f, limited), "submit", s.layerFormPage(c, f, view))
}

// storeSubmission stores the layer as new through the catalog, which
// queues the repository check and mails the administrators with it.
func (s *Server) storeSubmission(c echo.Context, who *store.User, branch *store.Branch, in *catalog.LayerInput) error {
	_, err := s.cat.Submit(c.Request().Context(), catalog.Web(who), []store.Branch{*branch}, *in)
	return err
}

func (s *Server) submitThanks(c echo.Context) error {
	return s.notice(c, http.StatusOK, "Thank you for submitting a layer",
		"The administrators have been notified, and the layer's repository is being checked (that it can be cloned "+
			"and has conf/layer.conf). An administrator will review the submission; once it is published, every "+
			"maintainer you listed gets an email and the layer is indexed within minutes. If it cannot be accepted, "+
			"you will get an email with the reason.")
}

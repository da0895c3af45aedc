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

// maxAPITokens bounds the live tokens of one account.
const maxAPITokens = 20

// createAPIToken makes an API token and shows it once on the profile page.
func (s *Server) createAPIToken(c echo.Context) error {
	if err := s.require(c, auth.ManageAccount, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	u := currentUser(c)
	ps, _ := c.FormParams()
	f := newForm(ps)
	name := f.text("token_name", textOpts{max: 60, required: true})
	existing, err := s.store.APITokens(ctx, u.ID)
	if err != nil {
		return err
	}
	live := 0
	for _, t := range existing {
		if t.RevokedAt == nil {
			live++
		}
	}
	if live >= maxAPITokens {
		f.fail("token_name", "You have %d tokens; revoke one first.", maxAPITokens)
	}
	if !f.OK() {
		f.set("name", u.Name)
		return s.renderProfile(c, f, http.StatusUnprocessableEntity, "")
	}
	token, _, err := s.store.CreateAPIToken(ctx, u.ID, name)
	if err != nil {
		return err
	}
	f = newForm(nil)
	f.set("name", u.Name)
	return s.renderProfile(c, f, http.StatusOK, token)
}

// revokeAPIToken revokes one of the signed-in user's tokens.
func (s *Server) revokeAPIToken(c echo.Context) error {
	if err := s.require(c, auth.ManageAccount, nil); err != nil {
		return err
	}
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.NewHTTPError(http.StatusNotFound, "No such token.")
	}
	if err := s.store.RevokeAPIToken(c.Request().Context(), currentUser(c).ID, id); errors.Is(err, store.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "No such token.")
	} else if err != nil {
		return err
	}
	s.flash(c, "The token is revoked; requests that send it are refused from now on.")
	return c.Redirect(http.StatusSeeOther, "/accounts/profile/")
}

// apiUser authenticates an API request by its "Authorization: Token …"
// header. Errors are JSON, as everywhere under the API.
func (s *Server) apiUser(c echo.Context) (*store.User, error) {
	h := c.Request().Header.Get("Authorization")
	scheme, token, ok := strings.Cut(h, " ")
	if h == "" {
		return nil, apiError(http.StatusUnauthorized, "Authentication credentials were not provided.")
	}
	if !ok || !strings.EqualFold(scheme, "Token") {
		return nil, apiError(http.StatusUnauthorized, "Use an API token: Authorization: Token <token>.")
	}
	u, err := s.store.UserByAPIToken(c.Request().Context(), strings.TrimSpace(token))
	if errors.Is(err, store.ErrNotFound) {
		return nil, apiError(http.StatusUnauthorized, "Invalid or revoked token.")
	}
	return u, err
}

// apiError is an error answered as {"detail": msg} with the status.
func apiError(code int, msg string) error { return echo.NewHTTPError(code, msg) }

// reindexQueued is one branch update queued by apiReindex.
type reindexQueued struct {
	Branch  string `json:"branch"`
	RunID   int64  `json:"run_id"`
	JobID   int64  `json:"job_id"`
	Already bool   `json:"already_queued"`
	URL     string `json:"url"` // the run's page, with its log
}

// apiReindex queues a re-index of a layer (all its branches, or
// ?branch=NAME), for the maintainers of that layer and administrators,
// authenticated by API token: POST /layerindex/api/layerItems/<id>/reindex/
// [?branch=master][&force=true]. It answers 202 with the queued jobs.
func (s *Server) apiReindex(c echo.Context) error {
	who, err := s.apiUser(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return apiError(http.StatusNotFound, "Not found.")
	}
	l, err := s.store.LayerByID(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return apiError(http.StatusNotFound, "Not found.")
	} else if err != nil {
		return err
	}
	ok, err := s.acct.policy.Allowed(ctx, who, auth.EditLayer, l)
	if err != nil {
		return err
	}
	if !ok {
		return apiError(http.StatusForbidden, "You do not have permission to perform this action: only the layer's maintainers and administrators can re-index it.")
	}
	force, _ := strconv.ParseBool(c.QueryParam("force"))
	req, err := s.cat.RequestUpdate(ctx, catalog.API(who), catalog.UpdateRequest{LayerID: l.ID, Branch: c.QueryParam("branch"), Force: force})
	var inv *catalog.InvalidError
	if errors.As(err, &inv) {
		return apiError(http.StatusBadRequest, inv.Msg)
	} else if err != nil {
		return err
	}
	branchName := map[int64]string{}
	if bs, err := s.store.AllBranches(ctx); err == nil {
		for _, b := range bs {
			branchName[b.ID] = b.Name
		}
	}
	queued := []reindexQueued{}
	for _, r := range req.Runs {
		queued = append(queued, reindexQueued{Branch: branchName[r.Run.BranchID], RunID: r.Run.ID, JobID: *r.Run.JobID, Already: r.Joined,
			URL: s.absURL("/layerindex/layerupdate/" + strconv.FormatInt(r.Run.ID, 10) + "/")})
	}
	return c.JSON(http.StatusAccepted, map[string]any{"layer": l.ID, "name": l.Name, "update": req.Update.ID,
		"url": s.absURL("/layerindex/updates/" + strconv.FormatInt(req.Update.ID, 10) + "/"), "queued": queued,
		"discovering_branches": req.Discovering > 0})
}

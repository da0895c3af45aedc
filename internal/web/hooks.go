package web

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"layerindex/internal/api"
	"layerindex/internal/auth"
	"layerindex/internal/catalog"
	"layerindex/internal/store"
	"layerindex/internal/webhook"
)

// Push webhooks: /layerindex/hooks/<layer>/ takes GitHub, GitLab and
// generic push notifications (internal/webhook authenticates them with the
// layer's secret; internal/catalog decides what they cause). It needs no
// session or CSRF token: the secret is the credential.

func isHook(c echo.Context) bool { return isHookPath(c.Request().URL.Path) }

func isHookPath(p string) bool {
	return len(p) > len(hooksPrefix) && p[:len(hooksPrefix)] == hooksPrefix
}

const hooksPrefix = "/layerindex/hooks/"

func (s *Server) hookRoutes() {
	s.echo.POST(hooksPrefix+":name/", s.receiveHook)
	s.echo.POST("/layerindex/layer/:name/hooksecret/", s.rotateHookSecret)
	s.echo.POST("/layerindex/layer/:name/alerts/", s.setAlerts)
}

// setAlerts turns the signed-in user's alert mail about a layer on or off
// (alerts=on|off).
func (s *Server) setAlerts(c echo.Context) error {
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if err := s.require(c, auth.EditLayer, l); err != nil {
		return err
	}
	on := c.FormValue("alerts") == "on"
	if err := s.cat.SetAlerts(c.Request().Context(), catalog.Web(currentUser(c)), l.ID, on); err != nil {
		return err
	}
	if on {
		s.flash(c, "You will be emailed when updates of %s start failing or recover.", l.Name)
	} else {
		s.flash(c, "You will no longer be emailed about updates of %s.", l.Name)
	}
	return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/manage/#alerts")
}

// receiveHook answers 202 with what the delivery caused, 401 to a wrong
// signature or token, 409 to a replayed delivery and 404 to an unknown
// layer (the same for every unknown name).
func (s *Server) receiveHook(c echo.Context) error {
	ctx := c.Request().Context()
	l, err := s.store.LayerByName(ctx, c.Param("name"))
	if errors.Is(err, store.ErrNotFound) {
		return c.JSON(http.StatusNotFound, api.Detail(c, "no such layer"))
	} else if err != nil {
		return err
	}
	r := c.Request()
	provider := webhook.Provider(r.Header)
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), r.Body, webhook.MaxBody))
	if err != nil {
		if rerr := s.cat.RejectDelivery(ctx, l.ID, provider, "payload too large or unreadable"); rerr != nil {
			return rerr
		}
		return c.JSON(http.StatusRequestEntityTooLarge, api.Detail(c, "payload too large"))
	}
	secret, err := s.cat.HookSecret(ctx, l.ID)
	if err != nil {
		return err
	}
	d, err := webhook.Read(r.Header, body, secret)
	if err != nil {
		code, why := http.StatusBadRequest, err.Error()
		if errors.Is(err, webhook.ErrUnauthenticated) {
			code = http.StatusUnauthorized
			if secret == "" {
				why = "the layer has no webhook secret yet"
			}
		}
		if rerr := s.cat.RejectDelivery(ctx, l.ID, provider, why); rerr != nil {
			return rerr
		}
		return c.JSON(code, api.Detail(c, why))
	}
	res, err := s.cat.ReceivePush(ctx, l.ID, d)
	if errors.Is(err, catalog.ErrReplayed) {
		return c.JSON(http.StatusConflict, api.Detail(c, "this delivery was received before"))
	} else if err != nil {
		return err
	}
	type run struct {
		ID     int64  `json:"id"`
		Branch string `json:"branch"`
		Joined bool   `json:"joined"` // an update already waiting will do it
		URL    string `json:"url"`
	}
	out := struct {
		Outcome string `json:"outcome"`
		Detail  string `json:"detail"`
		Runs    []run  `json:"runs"`
	}{res.Outcome, res.Detail, []run{}}
	for _, q := range res.Runs {
		b, err := s.store.BranchByID(ctx, q.Run.BranchID)
		if err != nil {
			return err
		}
		out.Runs = append(out.Runs, run{q.Run.ID, b.Name, q.Joined,
			strings.TrimRight(s.opts.BaseURL, "/") + "/layerindex/layerupdate/" + strconv.FormatInt(q.Run.ID, 10) + "/"})
	}
	return c.JSON(http.StatusAccepted, out)
}

// rotateHookSecret makes a new secret for the layer's webhooks.
func (s *Server) rotateHookSecret(c echo.Context) error {
	l, err := s.layerParam(c)
	if err != nil {
		return err
	}
	if err := s.require(c, auth.EditLayer, l); err != nil {
		return err
	}
	if _, err := s.cat.RotateHookSecret(c.Request().Context(), catalog.Web(currentUser(c)), l.ID); err != nil {
		return err
	}
	s.flash(c, "A new webhook secret was made; set it in your repository's webhook settings (the old one no longer works).")
	return c.Redirect(http.StatusSeeOther, "/layerindex/layer/"+l.Name+"/manage/#webhooks")
}

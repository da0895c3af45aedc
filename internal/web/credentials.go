package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/repocreds"
)

// adminCredentials lists the private repositories' credentials (prefix,
// kind, user name, host key fingerprint, when set: never a secret) and
// adds or replaces one. The rules are repocreds.Source's, as for
// `layerindex credential`; a refused form comes back without its secret.
func (s *Server) adminCredentials(c echo.Context) error {
	if err := s.require(c, auth.ManageCredentials, nil); err != nil {
		return err
	}
	ctx := c.Request().Context()
	src := s.opts.Credentials
	if src == nil {
		return errNoCredentials
	}
	f := newForm(nil)
	// "Replace" links pre-fill the prefix, kind and user name.
	for _, k := range []string{"prefix", "kind", "username"} {
		f.set(k, c.QueryParam(k))
	}
	if c.Request().Method == http.MethodPost {
		ps, _ := c.FormParams()
		f = newForm(ps)
		cred := repocreds.Credential{Prefix: strings.TrimSpace(f.V("prefix")), Kind: f.V("kind"),
			Username: f.V("username"), Secret: f.V("secret"), KnownHosts: f.V("known_hosts")}
		f.Values.Del("secret") // never sent back
		err := src.Set(ctx, cred)
		var inv *repocreds.InvalidError
		if errors.As(err, &inv) {
			f.fail(inv.Field, "%s", inv.Msg)
		} else if err != nil {
			return err
		} else {
			p, _ := repocreds.CheckPrefix(cred.Prefix)
			s.log.InfoContext(c.Request().Context(), "repository credential set", "prefix", p, "kind", cred.Kind, "by", currentUser(c).Email)
			s.flash(c, "The %s credential for %s is saved.", cred.Kind, p)
			return c.Redirect(http.StatusSeeOther, "/layerindex/admin/credentials/")
		}
	}
	list, err := src.List(ctx)
	if err != nil {
		return err
	}
	data := struct {
		formData
		Credentials []repocreds.Info
		Kinds       []string
	}{formData{pageData: s.formPage(c), Form: f}, list, repocreds.Kinds}
	return s.pages.render(c, formStatus(c, f, false), "credentials", data)
}

// errNoCredentials answers when the site's secret key is too short to
// seal credentials.
var errNoCredentials = echo.NewHTTPError(http.StatusServiceUnavailable,
	"Private repositories' credentials need a site secret key of at least 32 characters (--secret-key).")

// removeCredential removes the credential of the form's prefix.
func (s *Server) removeCredential(c echo.Context) error {
	if err := s.require(c, auth.ManageCredentials, nil); err != nil {
		return err
	}
	if s.opts.Credentials == nil {
		return errNoCredentials
	}
	prefix := c.FormValue("prefix")
	err := s.opts.Credentials.Remove(c.Request().Context(), prefix)
	if errors.Is(err, repocreds.ErrNotFound) {
		return echo.NewHTTPError(http.StatusNotFound, "There is no credential for "+prefix+".")
	} else if err != nil {
		return err
	}
	s.log.InfoContext(c.Request().Context(), "repository credential removed", "prefix", prefix, "by", currentUser(c).Email)
	s.flash(c, "The credential for %s is removed.", prefix)
	return c.Redirect(http.StatusSeeOther, "/layerindex/admin/credentials/")
}

package web

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/store"
)

// Single sign-on: OpenID Connect (auth.OIDC) and, through the login form,
// LDAP. Whatever the method, the person lands in externalSignIn, which
// links the account by the verified email address.

// Session keys of a sign-in in progress with the OpenID provider.
const (
	sessOIDCState    = "oidc_state"
	sessOIDCNonce    = "oidc_nonce"
	sessOIDCVerifier = "oidc_verifier"
	sessOIDCNext     = "oidc_next"
)

func (s *Server) ssoRoutes() {
	if s.opts.OIDC == nil {
		return
	}
	s.echo.GET("/accounts/oidc/login/", s.oidcLogin)
	s.echo.GET("/accounts/oidc/callback/", s.oidcCallback)
}

// oidcLogin sends the visitor to the identity provider with a fresh state,
// nonce and PKCE verifier, kept in the session for the callback.
func (s *Server) oidcLogin(c echo.Context) error {
	ctx := c.Request().Context()
	st := auth.NewOIDCStart()
	to, err := s.opts.OIDC.AuthURL(ctx, st)
	if err != nil {
		s.log.WarnContext(c.Request().Context(), "OpenID Connect sign-in", "err", err)
		return s.notice(c, http.StatusBadGateway, "Sign-in unavailable",
			"The identity provider does not answer. Try again in a moment, or tell the site's administrators.")
	}
	sm := s.acct.sessions
	sm.Put(ctx, sessOIDCState, st.State)
	sm.Put(ctx, sessOIDCNonce, st.Nonce)
	sm.Put(ctx, sessOIDCVerifier, st.Verifier)
	sm.Put(ctx, sessOIDCNext, safeNext(c.QueryParam("next")))
	return c.Redirect(http.StatusFound, to)
}

// oidcCallback finishes the sign-in. The state, nonce and verifier are
// taken out of the session first, so a callback is answered once.
func (s *Server) oidcCallback(c echo.Context) error {
	ctx := c.Request().Context()
	sm := s.acct.sessions
	st := auth.OIDCStart{State: sm.PopString(ctx, sessOIDCState), Nonce: sm.PopString(ctx, sessOIDCNonce),
		Verifier: sm.PopString(ctx, sessOIDCVerifier)}
	next := sm.PopString(ctx, sessOIDCNext)
	if e := c.QueryParam("error"); e != "" {
		msg := "The identity provider did not sign you in (" + e + ")"
		if d := c.QueryParam("error_description"); d != "" && len(d) < 300 {
			msg += ": " + d
		}
		return s.notice(c, http.StatusForbidden, "Sign-in failed", msg+".")
	}
	id, err := s.opts.OIDC.Finish(ctx, st, c.QueryParam("state"), c.QueryParam("code"))
	if errors.Is(err, auth.ErrSignIn) {
		s.log.WarnContext(c.Request().Context(), "OpenID Connect sign-in refused", "err", err, "ip", c.RealIP())
		return s.notice(c, http.StatusForbidden, "Sign-in failed", err.Error()+".")
	}
	if err != nil {
		s.log.WarnContext(c.Request().Context(), "OpenID Connect sign-in", "err", err)
		return s.notice(c, http.StatusBadGateway, "Sign-in unavailable",
			"The identity provider does not answer. Try again in a moment, or tell the site's administrators.")
	}
	return s.externalSignIn(c, id, next)
}

// externalSignIn signs in the person an identity provider vouched for: the
// account with their verified email address, created when there is none
// (so a maintainer's address keeps its rights). A provider's administrator
// mapping, when configured, decides the flag at every sign-in.
func (s *Server) externalSignIn(c echo.Context, id *auth.Identity, next string) error {
	ctx := c.Request().Context()
	u, err := s.store.UserByEmail(ctx, id.Email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		u = &store.User{Email: id.Email, Name: id.Name, Verified: true, IsActive: true}
		if id.Admin != nil {
			u.IsAdmin = *id.Admin
		}
		if err := s.store.CreateUser(ctx, u); err != nil {
			return err
		}
	case err != nil:
		return err
	default:
		if !u.IsActive {
			return s.notice(c, http.StatusForbidden, "Account disabled",
				"The account of "+u.Email+" is disabled. Contact the site's administrators.")
		}
		if !u.Verified {
			// Someone registered the address without proving it: their
			// password must not open the owner's account.
			if err := s.store.SetPassword(ctx, u.ID, ""); err != nil {
				return err
			}
			if err := s.store.VerifyUser(ctx, u.ID, ""); err != nil {
				return err
			}
		}
		if id.Admin != nil && *id.Admin != u.IsAdmin {
			if err := s.store.SetAdmin(ctx, u.ID, *id.Admin); err != nil {
				return err
			}
			s.log.InfoContext(c.Request().Context(), "administrator flag set by the identity provider", "user", u.ID, "admin", *id.Admin)
		}
	}
	if err := s.acct.sessions.LogIn(ctx, u.ID); err != nil {
		return err
	}
	if err := s.store.TouchLogin(ctx, u.ID); err != nil {
		return err
	}
	if next == "" {
		next = "/accounts/profile/"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// noLocalPasswords answers the pages of local passwords (registration,
// reset) when the site signs people in only through single sign-on.
func (s *Server) noLocalPasswords(c echo.Context) error {
	return s.notice(c, http.StatusNotFound, "Single sign-on only",
		"Accounts on this site come from the company's sign-in; it has no passwords of its own to register or reset.")
}

package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
)

// Closed site mode (Options.ClosedSite) is for a company's own index: every
// page and the API need a signed-in account. The gate below is the one place
// that decides it, before any handler, the page cache or the API's cache
// runs, so no route can forget it; routes that must stay open are listed in
// openInClosedSite.

// openInClosedSite reports whether a request may be answered to an
// anonymous visitor of a closed site: health checks (load balancers and
// orchestrators have no account), static files (the login page's style),
// and the pages that let a person sign in (login, single sign-on, password
// reset and email confirmation, logout). Registration is not among them:
// on a closed site accounts come from administrators or single sign-on.
func openInClosedSite(method, path string) bool {
	switch path {
	case "/healthz", "/readyz", "/accounts/login/", "/accounts/password_reset/", "/accounts/logout/":
		return true
	}
	for _, p := range []string{"/static/", "/accounts/reset/", "/accounts/verify/", "/accounts/oidc/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}

// closedGate refuses anonymous requests on a closed site: pages redirect
// to the login page (which brings the visitor back), other requests answer
// 401. The API takes a signed-in session or an API token
// ("Authorization: Token …"), as the re-index endpoint does; a CORS
// preflight (OPTIONS, which browsers send without credentials) passes and
// reveals nothing.
func (s *Server) closedGate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if openInClosedSite(r.Method, r.URL.Path) || currentUser(c) != nil {
			return next(c)
		}
		if isAPI(c) {
			if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
				return next(c)
			}
			c.Response().Header().Set("WWW-Authenticate", `Token realm="layerindex"`)
			if r.Header.Get("Authorization") == "" {
				return apiError(http.StatusUnauthorized, "Authentication credentials were not provided: this index is closed to anonymous visitors.")
			}
			u, err := s.apiUser(c)
			if err != nil {
				return err
			}
			if !auth.SignedIn(u) {
				return apiError(http.StatusUnauthorized, "Invalid or revoked token.")
			}
			return next(c)
		}
		if r.Method == http.MethodGet || r.Method == http.MethodHead {
			return &loginRedirect{next: r.URL.RequestURI()}
		}
		return echo.NewHTTPError(http.StatusUnauthorized, "Log in first: this site is closed to anonymous visitors.")
	}
}

package web

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/labstack/echo/v4"

	"layerindex/internal/auth"
	"layerindex/internal/comparison"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// accounts is the state of the account side of the site: sessions, the
// permission policy, rate limits and mail.
type accounts struct {
	sessions *auth.Sessions
	policy   auth.Policy
	limiter  *auth.Limiter
	limits   auth.Limits
}

// Keys on the echo context: the signed-in account, and whether the
// request's session was loaded (not for static files and the API).
const (
	ctxUser    = "user"
	ctxSession = "session_loaded"
)

func sessionLoaded(c echo.Context) bool { b, _ := c.Get(ctxSession).(bool); return b }

// setupAccounts prepares sessions, policy, limits and mail templates and
// installs the session, account and CSRF middleware.
func (s *Server) setupAccounts() error {
	secret := s.opts.SecretKey
	base := strings.TrimRight(s.opts.BaseURL, "/")
	limits := auth.DefaultLimits
	if s.opts.Limits != nil {
		limits = *s.opts.Limits
	}
	s.acct = &accounts{
		sessions: auth.NewSessions(s.store, strings.HasPrefix(base, "https://")),
		policy:   auth.Policy{Maintainers: s.store, Editors: s.store, Closed: s.opts.ClosedSite},
		limiter:  auth.NewLimiter(s.store, []byte(secret)),
		limits:   limits,
	}
	s.echo.Use(s.sessionMiddleware, s.userMiddleware)
	if s.opts.ClosedSite {
		s.echo.Use(s.closedGate)
	}
	s.echo.Use(s.csrfMiddleware)
	return nil
}

func randomSecret() string {
	b := make([]byte, 32)
	rand.Read(b)
	return fmt.Sprintf("%x", b)
}

// sessionMiddleware loads the session named by the cookie and, just before
// the response is written (also for error pages), stores it and sets the
// cookie if it changed. A request without a session cookie costs nothing
// and gets no cookie unless a handler puts something in its session.
func (s *Server) sessionMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	sm := s.acct.sessions
	return func(c echo.Context) error {
		// The API is stateless, except on a closed site, where a signed-in
		// browser may read it too.
		if (isAPI(c) && !s.opts.ClosedSite) || isHook(c) || strings.HasPrefix(c.Request().URL.Path, "/static/") {
			return next(c)
		}
		c.Response().Header().Add("Vary", "Cookie")
		var token string
		if ck, err := c.Cookie(sm.Cookie.Name); err == nil {
			token = ck.Value
		}
		ctx, err := sm.Load(c.Request().Context(), token)
		if err != nil {
			return err
		}
		c.SetRequest(c.Request().WithContext(ctx))
		c.Set(ctxSession, true)
		c.Response().Before(func() {
			ctx := c.Request().Context()
			switch sm.Status(ctx) {
			case scs.Modified:
				tok, exp, err := sm.Commit(ctx)
				if err != nil {
					s.log.ErrorContext(c.Request().Context(), "saving the session", "err", err)
					return
				}
				sm.WriteSessionCookie(ctx, c.Response(), tok, exp)
			case scs.Destroyed:
				sm.WriteSessionCookie(ctx, c.Response(), "", time.Time{})
			}
		})
		return next(c)
	}
}

// userMiddleware puts the session's account on the context. A session whose
// account was deleted, disabled or lost its verified email is anonymous.
func (s *Server) userMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if !sessionLoaded(c) {
			return next(c)
		}
		ctx := c.Request().Context()
		if uid := s.acct.sessions.UserID(ctx); uid > 0 {
			u, err := s.store.UserByID(ctx, uid)
			switch {
			case err == nil && auth.SignedIn(u):
				c.Set(ctxUser, u)
			case err == nil || errors.Is(err, store.ErrNotFound):
				s.acct.sessions.Remove(ctx, "uid")
			default:
				return err
			}
		}
		return next(c)
	}
}

// maxFormBytes bounds a form post; the largest form (a layer with its
// description and maintainers) is far below it.
const maxFormBytes = 256 << 10

// csrfMiddleware refuses every state-changing request whose csrf_token
// form field (or X-CSRF-Token header) is not the session's token, with 403.
// The token lives in the server-side session rather than in a cookie of
// its own (echo's CSRF middleware sets one on every response), so pages
// without forms stay cookie-free and cacheable for anonymous visitors. The
// JSON API is read-only and exempt.
func (s *Server) csrfMiddleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch c.Request().Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if isAPI(c) || isHook(c) {
			return next(c) // token-authenticated, never by cookie
		}
		if !sessionLoaded(c) {
			return echo.NewHTTPError(http.StatusForbidden, "This form was not sent from this site.")
		}
		r := c.Request()
		limit := int64(maxFormBytes)
		if r.URL.Path == comparisonImportPath {
			limit = comparison.MaxUpload + maxFormBytes // the package list and the form's fields
		}
		if r.ContentLength > limit {
			return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("This form takes at most %d MiB.", limit>>20))
		}
		r.Body = http.MaxBytesReader(c.Response(), r.Body, limit)
		given := r.Header.Get("X-CSRF-Token")
		if given == "" {
			given = c.FormValue("csrf_token")
		}
		if !s.acct.sessions.CheckCSRF(r.Context(), given) {
			return echo.NewHTTPError(http.StatusForbidden,
				"This form has expired or was not sent from this site. Go back, reload the page and try again.")
		}
		return next(c)
	}
}

func isAPI(c echo.Context) bool { return strings.HasPrefix(c.Request().URL.Path, "/layerindex/api/") }

// currentUser is the signed-in account, or nil.
func currentUser(c echo.Context) *store.User {
	u, _ := c.Get(ctxUser).(*store.User)
	return u
}

// accountPage fills the layout's account fields (templates/layout/account.html).
func (s *Server) accountPage(c echo.Context, p *pageData) {
	if s.acct == nil || !sessionLoaded(c) {
		return
	}
	ctx := c.Request().Context()
	p.User = currentUser(c)
	p.CSRF = s.acct.sessions.ExistingCSRFToken(ctx)
	if p.User != nil && p.User.IsAdmin {
		n, err := s.store.NewLayerCount(ctx)
		if err != nil {
			s.log.WarnContext(c.Request().Context(), "counting layers to review", "err", err)
		}
		p.ReviewCount = n
	}
}

// formPage is basePage for pages with forms: it makes sure the session has
// a CSRF token and takes the flash message.
func (s *Server) formPage(c echo.Context) pageData {
	ctx := c.Request().Context()
	s.acct.sessions.CSRFToken(ctx)
	p := s.basePage(c, "")
	p.Flash = s.acct.sessions.PopString(ctx, "flash")
	return p
}

// flash leaves a message for the next page.
func (s *Server) flash(c echo.Context, format string, a ...any) {
	s.acct.sessions.Put(c.Request().Context(), "flash", fmt.Sprintf(format, a...))
}

// errForbidden is the answer to a request the policy refuses.
func errForbidden(act auth.Action) error {
	return echo.NewHTTPError(http.StatusForbidden, "You are not allowed to "+string(act)+".")
}

// require asks the policy. Anonymous visitors asking for a page are sent
// to log in first; anything else refused is 403.
func (s *Server) require(c echo.Context, act auth.Action, layer *store.Layer) error {
	who := currentUser(c)
	ok, err := s.acct.policy.Allowed(c.Request().Context(), who, act, layer)
	if err != nil {
		return err
	}
	if ok {
		return nil
	}
	if who == nil && c.Request().Method == http.MethodGet {
		return &loginRedirect{next: c.Request().URL.RequestURI()}
	}
	if who == nil {
		return echo.NewHTTPError(http.StatusForbidden, "Log in first: you are not allowed to "+string(act)+" anonymously.")
	}
	return errForbidden(act)
}

// allowed is require's yes/no form, for showing or hiding controls.
func (s *Server) allowed(c echo.Context, act auth.Action, layer *store.Layer) bool {
	ok, err := s.acct.policy.Allowed(c.Request().Context(), currentUser(c), act, layer)
	if err != nil {
		s.log.WarnContext(c.Request().Context(), "permission check", "action", act, "err", err)
	}
	return ok
}

// loginRedirect sends an anonymous visitor to the login page.
type loginRedirect struct{ next string }

func (l *loginRedirect) Error() string { return "login required" }

// handleAccountError turns account-side errors into responses; it reports
// false for errors it does not know.
func (s *Server) handleAccountError(err error, c echo.Context) bool {
	var lr *loginRedirect
	if errors.As(err, &lr) {
		c.Redirect(http.StatusSeeOther, "/accounts/login/?next="+url.QueryEscape(lr.next))
		return true
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = echo.NewHTTPError(http.StatusRequestEntityTooLarge, "The form is too large.")
		s.handleError(err, c)
		return true
	}
	return false
}

// safeNext keeps a post-login redirect on this site.
func safeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") ||
		strings.ContainsAny(next, "\\\r\n") {
		return ""
	}
	return next
}

// enqueueMail renders an email and inserts its job in tx (the catalog owns
// mail; account pages send theirs through it too).
func (s *Server) enqueueMail(tx *jobs.Tx, kind string, to []string, values map[string]any) error {
	return s.cat.EnqueueMail(tx, kind, to, values)
}

// absURL makes a site path absolute for mail.
func (s *Server) absURL(p string) string { return s.cat.URL(p) }

// limited checks rate limits for the request and returns a message for the
// form when one is exceeded.
func (s *Server) limited(ctx context.Context, checks ...limitCheck) (string, error) {
	for _, ch := range checks {
		ok, wait, err := s.acct.limiter.Allow(ctx, ch.lim, ch.key)
		if err != nil {
			return "", err
		}
		if !ok {
			return "Too many attempts. Please try again in " + humanWait(wait) + ".", nil
		}
	}
	return "", nil
}

// hit counts an attempt against each limit.
func (s *Server) hit(ctx context.Context, checks ...limitCheck) error {
	for _, ch := range checks {
		if err := s.acct.limiter.Hit(ctx, ch.lim, ch.key); err != nil {
			return err
		}
	}
	return nil
}

type limitCheck struct {
	lim auth.Limit
	key string
}

func humanWait(d time.Duration) string {
	m := int(d.Round(time.Minute) / time.Minute)
	switch {
	case m <= 1:
		return "a minute"
	case m < 90:
		return strconv.Itoa(m) + " minutes"
	}
	return strconv.Itoa((m+30)/60) + " hours"
}

// newChallenge stores a fresh anti-bot question in the session and returns
// its text.
func (s *Server) newChallenge(ctx context.Context) string {
	a, b := rnd(9)+1, rnd(9)+1
	s.acct.sessions.Put(ctx, "challenge", strconv.Itoa(a+b))
	q := fmt.Sprintf("What is %s plus %s?", words[a], words[b])
	s.acct.sessions.Put(ctx, "challenge_q", q)
	return q
}

// challenge is the current question, creating one if needed.
func (s *Server) challenge(ctx context.Context) string {
	if q := s.acct.sessions.GetString(ctx, "challenge_q"); q != "" {
		return q
	}
	return s.newChallenge(ctx)
}

// checkChallenge compares an answer with the session's question; any
// answer, right or wrong, uses the question up.
func (s *Server) checkChallenge(ctx context.Context, answer string) bool {
	want := s.acct.sessions.PopString(ctx, "challenge")
	s.acct.sessions.Remove(ctx, "challenge_q")
	answer = strings.ToLower(strings.TrimSpace(answer))
	if want == "" || answer == "" {
		return false
	}
	if answer == want {
		return true
	}
	n, _ := strconv.Atoi(want)
	return n < len(words) && answer == words[n]
}

var words = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
	"ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen"}

func rnd(n int64) int {
	v, _ := rand.Int(rand.Reader, big.NewInt(n))
	return int(v.Int64())
}

// trustedProxyIP takes the client address from X-Forwarded-For, trusting
// only the configured proxies (echo would otherwise also trust every
// private and loopback address).
func trustedProxyIP(proxies []netip.Prefix) echo.IPExtractor {
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range proxies {
		_, n, err := net.ParseCIDR(p.Masked().String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// Package web is the HTTP side of the index: the echo server, its routes
// (routes.go lists them all), middleware and page handlers. Handlers are
// thin: they read the request, call the store or the job queue, and render.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"golang.org/x/sync/semaphore"

	"layerindex/internal/api"
	"layerindex/internal/auth"
	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/gitrepo"
	"layerindex/internal/indexversion"
	"layerindex/internal/jobs"
	"layerindex/internal/metrics"
	"layerindex/internal/repocreds"
	"layerindex/internal/requestid"
	"layerindex/internal/store"
	"layerindex/templates"
)

// Options configures the server.
type Options struct {
	SiteName      string
	Version       string
	BaseURL       string
	WorkerRunning bool // jobs are worked in this process
	Logger        *slog.Logger
	// Accounts (see accounts.go): the secret key that keys rate-limit
	// hashes and seals mail, the repository URL policy submissions are
	// checked against, proxies trusted for X-Forwarded-For, and rate
	// limits (nil: auth.DefaultLimits).
	SecretKey      string
	RepoPolicy     gitrepo.Policy
	TrustedProxies []netip.Prefix
	Limits         *auth.Limits
	// PageCache keeps rendered pages for anonymous visitors until the index
	// changes (see cache.go); Close releases it.
	PageCache bool
	// Catalog makes every change of state; nil builds one that only queues
	// work (for a process whose jobs are worked elsewhere, and tests).
	Catalog *catalog.Service
	// BitbakeURL is BitBake's repository in build setup exports (empty:
	// upstream's).
	BitbakeURL string
	// ClosedSite requires sign-in for every page and the API (closed.go).
	ClosedSite bool
	// OIDC, when set, signs people in with an OpenID provider (sso.go);
	// OIDCLabel names it on the login page.
	OIDC      *auth.OIDC
	OIDCLabel string
	// NoLocalPasswords turns off the site's own passwords: sign-in only
	// through single sign-on, no registration or password reset.
	NoLocalPasswords bool
	// PageConcurrency is how many page requests are handled at once (0:
	// twice GOMAXPROCS); see gate.go.
	PageConcurrency int
	// LDAP, when set, checks the login form's user name and password
	// against a directory first (then local passwords, unless off).
	LDAP *auth.LDAP
	// Repos reads layers' repositories at their indexed revisions for
	// bulk-change patches (nil: patches are refused).
	Repos *gitrepo.Cache
	// Credentials are the private repositories' credentials, managed on
	// the administrators' page (nil: sealed with SecretKey).
	Credentials *repocreds.Source
}

// Server serves the site.
type Server struct {
	echo  *echo.Echo
	db    *db.DB
	store *store.Store
	jobs  *jobs.Queue
	log   *slog.Logger
	pages *renderer
	opts  Options
	acct  *accounts
	cache *pageCache          // nil: pages are not cached
	gate  *semaphore.Weighted // page requests handled at once (gate.go)
	// versions tells the index version to the page cache and the API
	// (nil without the page cache: the API then reads it per request).
	versions *indexversion.Watcher
	memo     indexMemo // data derived from the index, per version
	stale    staleMemo // the layer list's stale layer branches, briefly
	// dependents is the recipe page's reverse dependency view (recipedeps.go).
	dependents dependentsMemo
	// search holds each branch's in-memory recipe search (searchindex.go).
	search searchMemo
	// releaseExtras is what a release's pages show of layer sets and
	// compatibility declared elsewhere (layersets.go).
	releaseExtras releaseExtrasMemo
	cat           *catalog.Service
	jobsUI        *jobsUI // River UI (jobsui.go); nil without a job queue
}

// New builds the server and its routes.
func New(d *db.DB, q *jobs.Queue, opts Options) (*Server, error) {
	if opts.SiteName == "" {
		opts.SiteName = "OpenEmbedded Layer Index"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	opts.Logger = requestid.Logger(opts.Logger)
	pages, err := newRenderer(templates.FS, templateFuncs())
	if err != nil {
		return nil, err
	}
	s := &Server{
		echo:  echo.New(),
		db:    d,
		store: store.New(d.Gorm),
		jobs:  q,
		log:   opts.Logger,
		pages: pages,
		opts:  opts,
		gate:  newGate(opts.PageConcurrency),
	}
	if opts.PageCache {
		s.versions = indexversion.Watch(d, s.store, s.log)
		s.cache = newPageCache(d, s.versions)
	}
	if opts.SecretKey == "" {
		// Tests and tools that never send mail: a key for this process only.
		s.opts.SecretKey = randomSecret()
	}
	if s.opts.Credentials == nil {
		// A secret key too short to seal credentials leaves them
		// unmanageable here (the page says so), not the site down.
		if sealer, err := repocreds.NewSealer(s.opts.SecretKey); err == nil {
			s.opts.Credentials = repocreds.NewSource(s.store, sealer)
		}
	}
	var sshKeys interface {
		CoversSSH(ctx context.Context, rawURL string) (bool, error)
	}
	if s.opts.Credentials != nil {
		sshKeys = s.opts.Credentials
	}
	s.cat = opts.Catalog
	if s.cat == nil {
		if s.cat, err = catalog.New(d, q, catalog.Options{SiteName: opts.SiteName, BaseURL: opts.BaseURL,
			SecretKey: s.opts.SecretKey, RepoPolicy: opts.RepoPolicy, Logger: opts.Logger, SSHKeys: sshKeys}); err != nil {
			return nil, err
		}
	}
	e := s.echo
	e.HideBanner, e.HidePort = true, true
	// Never trust client-supplied X-Forwarded-For unless a proxy is
	// configured: rate limits and logs key on this address.
	e.IPExtractor = echo.ExtractIPDirect()
	if len(opts.TrustedProxies) > 0 {
		e.IPExtractor = trustedProxyIP(opts.TrustedProxies)
	}
	e.HTTPErrorHandler = s.handleError
	e.Use(requestID)
	e.Use(middleware.RecoverWithConfig(middleware.RecoverConfig{
		LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
			s.log.ErrorContext(c.Request().Context(), "panic in handler", "path", c.Request().URL.Path, "err", err, "stack", string(stack))
			return err
		},
	}))
	e.Use(s.requestLog())
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			code := c.Response().Status
			var he *echo.HTTPError
			if err != nil && errors.As(err, &he) {
				code = he.Code
			} else if err != nil && !c.Response().Committed {
				code = http.StatusInternalServerError
			}
			metrics.ObserveHTTP(c.Path(), c.Request().Method, code, time.Since(start))
			return err
		}
	})
	e.Use(withRequestVersion)
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{
		XSSProtection:         "0",
		ContentTypeNosniff:    "nosniff",
		XFrameOptions:         "DENY",
		ReferrerPolicy:        "same-origin",
		ContentSecurityPolicy: "default-src 'self'; img-src 'self' data: https:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'",
	}))
	if err := s.setupAccounts(); err != nil {
		return nil, err
	}
	s.routes()
	if err := s.jobsUIRoutes(); err != nil {
		return nil, err
	}
	return s, nil
}

// Close releases what the server holds besides its handler (the page
// cache's notification listener).
func (s *Server) Close() {
	if s.versions != nil {
		s.versions.Close()
	}
	if s.jobsUI != nil {
		s.jobsUI.stop()
	}
}

// Handler is the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.echo }

// Serve serves HTTP on srv until ctx is cancelled, then shuts down
// gracefully, giving requests in flight up to grace to finish.
func Serve(ctx context.Context, srv *http.Server, serve func() error, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- serve() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) requestLog() echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogURI: true, LogMethod: true, LogLatency: true, LogRemoteIP: true, LogError: true,
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelDebug
			if v.Status >= 500 && !clientGone(c, v.Error) {
				level = slog.LevelError
			}
			// A request line is at debug: below the usual level, it
			// costs nothing (no attributes built).
			if !s.log.Enabled(c.Request().Context(), level) {
				return nil
			}
			attrs := []slog.Attr{
				slog.String("method", v.Method), slog.String("uri", v.URI), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("ip", v.RemoteIP),
			}
			if v.Error != nil {
				attrs = append(attrs, slog.String("err", v.Error.Error()))
			}
			s.log.LogAttrs(c.Request().Context(), level, "request", attrs...)
			return nil
		},
	})
}

// clientGone reports whether err comes from the client having gone away
// (its request's context was cancelled) rather than from a fault here.
func clientGone(c echo.Context, err error) bool {
	if err == nil {
		return false
	}
	return errors.Is(err, context.Canceled) || c.Request().Context().Err() != nil
}

// handleError renders errors: JSON under the API, an HTML page elsewhere.
// Internal errors are logged and shown without details.
func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed || s.handleAccountError(err, c) {
		return
	}
	code, msg := http.StatusInternalServerError, "Something went wrong on our side; it has been logged."
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		code = he.Code
		if m, ok := he.Message.(string); ok {
			msg = m
		} else {
			msg = http.StatusText(code)
		}
	case errors.Is(err, store.ErrNotFound):
		code, msg = http.StatusNotFound, "Not found."
	case db.Unavailable(err):
		// The database is restarting or out of reach: nothing is wrong
		// with the request, and the pool reconnects by itself.
		code, msg = http.StatusServiceUnavailable, "The index's database cannot be reached at the moment; please try again in a few seconds."
		c.Response().Header().Set("Retry-After", "5")
	}
	if clientGone(c, err) {
		// Nobody is there to read an error page; a client cutting a request
		// short (a closed tab, a benchmark's end) is not the server's fault.
		s.log.DebugContext(c.Request().Context(), "request abandoned by the client", "method", c.Request().Method, "uri", c.Request().RequestURI, "err", err)
		return
	}
	if code >= 500 {
		s.log.ErrorContext(c.Request().Context(), "request failed", "method", c.Request().Method, "uri", c.Request().RequestURI, "err", err)
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(code)
		return
	}
	if strings.HasPrefix(c.Request().URL.Path, "/layerindex/api/") {
		c.JSON(code, api.Detail(c, msg))
		return
	}
	data := struct {
		pageData
		Status     int
		StatusText string
		Message    string
		// RequestID is shown on server errors, to quote when reporting them.
		RequestID string
	}{s.basePage(c, ""), code, http.StatusText(code), msg, ""}
	if code >= 500 {
		data.RequestID = requestid.Of(c.Request().Context())
	}
	if rerr := s.pages.render(c, code, "error", data); rerr != nil {
		s.log.ErrorContext(c.Request().Context(), "rendering error page", "err", rerr)
		c.String(code, msg)
	}
}

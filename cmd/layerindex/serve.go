package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"layerindex/internal/auth"
	"layerindex/internal/config"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
	"layerindex/internal/web"
)

// Shutdown budget: requests in flight get httpGrace, running jobs get
// jobGrace (then their contexts are cancelled and River retries them later).
// Together they stay under the 10 s a process manager usually allows.
const (
	httpGrace = 4 * time.Second
	jobGrace  = 4 * time.Second
)

func runServe(ctx context.Context, args []string, e env) error {
	cfg, rest, err := loadConfig("serve", args, e, nil)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return usageErr("unexpected argument %q", rest[0])
	}
	// Lines logged about a request carry its id (README "Request ids").
	log := newLogger(cfg, e.stderr)

	// Bind first: a busy port is the most common start-up failure and must
	// not leave a freshly created data directory behind.
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v", cfg.Listen, unwrapNetErr(err))
	}
	defer ln.Close()

	a, err := openApp(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.close()
	if err := startDebug(ctx, cfg.DebugListen, log, a.db.Gorm); err != nil {
		return err
	}

	q, err := jobs.New(ctx, a.db, jobOptions(a, cfg.EmbeddedWorker))
	if err != nil {
		return err
	}
	cat, err := a.catalog(q)
	if err != nil {
		return err
	}
	ldapSignIn, err := ldapSignIn(cfg)
	if err != nil {
		return err
	}
	creds, err := a.credentials()
	if err != nil {
		log.Warn("private repositories' credentials cannot be managed", "err", err)
	}
	srv, err := web.New(a.db, q, web.Options{
		Credentials:   creds,
		Catalog:       cat,
		Repos:         a.repos(),
		Version:       version(),
		BaseURL:       cfg.BaseURL,
		WorkerRunning: cfg.EmbeddedWorker,
		Logger:        log,
		// Accounts: mail sealing, submitted URLs checked as ingestion will.
		SecretKey:       cfg.SecretKey,
		RepoPolicy:      a.repoPolicy(),
		TrustedProxies:  cfg.TrustedProxies,
		PageCache:       true,
		PageConcurrency: cfg.PageConcurrency,
		ClosedSite:      cfg.ClosedSite,
		// Single sign-on (README "Company index").
		OIDC:             oidcSignIn(cfg),
		OIDCLabel:        cfg.OIDCLabel,
		NoLocalPasswords: !cfg.LocalPasswords,
		LDAP:             ldapSignIn,
	})
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := q.Start(ctx); err != nil {
		return fmt.Errorf("starting the job worker: %w", err)
	}

	url := "http://" + ln.Addr().String()
	log.Info("layerindex is serving", "url", url, "data_dir", cfg.DataDir, "database", a.databaseName(),
		"embedded_worker", cfg.EmbeddedWorker)
	hintFirstAdmin(ctx, a, log)
	go fillRecipeJSON(ctx, a, log)

	hs := &http.Server{
		Handler:           srv.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      5 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := web.Serve(ctx, hs, func() error { return hs.Serve(ln) }, httpGrace)
	log.Info("shutting down")
	stopCtx, cancel := context.WithTimeout(context.Background(), jobGrace+time.Second)
	defer cancel()
	if err := q.Stop(stopCtx); err != nil {
		log.Warn("stopping the job worker", "err", err)
	}
	if serveErr != nil {
		return serveErr
	}
	log.Info("stopped")
	return nil
}

// oidcSignIn is the OpenID Connect sign-in the configuration asks for, or nil.
func oidcSignIn(cfg *config.Config) *auth.OIDC {
	if cfg.OIDCIssuer == "" {
		return nil
	}
	return auth.NewOIDC(auth.OIDCConfig{Issuer: cfg.OIDCIssuer, ClientID: cfg.OIDCClientID, ClientSecret: cfg.OIDCClientSecret,
		RedirectURL: cfg.BaseURL + "/accounts/oidc/callback/", Scopes: cfg.OIDCScopes,
		AdminClaim: cfg.OIDCAdminClaim, AdminValue: cfg.OIDCAdminValue})
}

// ldapSignIn is the LDAP sign-in the configuration asks for, or nil.
func ldapSignIn(cfg *config.Config) (*auth.LDAP, error) {
	if cfg.LDAPURL == "" {
		return nil, nil
	}
	return auth.NewLDAP(auth.LDAPConfig{URL: cfg.LDAPURL, StartTLS: cfg.LDAPStartTLS, CAFile: cfg.LDAPCAFile,
		BindDN: cfg.LDAPBindDN, BindPassword: cfg.LDAPBindPassword, BaseDN: cfg.LDAPBaseDN, UserFilter: cfg.LDAPUserFilter,
		EmailAttr: cfg.LDAPEmailAttr, NameAttr: cfg.LDAPNameAttr, AdminGroup: cfg.LDAPAdminGroup})
}

func jobOptions(a *app, work bool) jobs.Options {
	return jobs.Options{
		Work:            work,
		MaxWorkers:      a.cfg.Workers,
		IngestWorkers:   a.cfg.IngestWorkers,
		UpdatePurge:     a.cfg.UpdatePurge,
		SoftStopTimeout: jobGrace,
		RescueAfter:     a.cfg.JobRescue,
		Logger:          a.log,
		Mail:            a.mailOptions(),
	}
}

// fillRecipeJSON stores the API objects of the recipes that have none (an
// index written before migration 00027), then the dump's chunks of layer
// branches that have none (00028): until then the recipe dump encodes
// those rows or reads them one by one, which is correct but slower.
// Servers and workers each run it at start; on PostgreSQL they lock what
// they fill, so running it twice at once only repeats work.
func fillRecipeJSON(ctx context.Context, a *app, log *slog.Logger) {
	s := store.New(a.db.Gorm)
	n, err := s.FillRecipeJSON(ctx)
	if err != nil {
		if ctx.Err() == nil {
			log.Warn("storing recipes' API objects", "filled", n, "err", err)
		}
		return
	} else if n > 0 {
		log.Info("stored the API objects of recipes indexed before", "recipes", n)
	}
	// Then the dump's chunks of those objects (migration 00028).
	n, err = s.FillRecipeDumps(ctx)
	if err != nil && ctx.Err() == nil {
		log.Warn("storing the recipe dump's chunks", "layer branches", n, "err", err)
	} else if n > 0 {
		log.Info("stored the recipe dump's chunks of layer branches indexed before", "layer branches", n)
	}
}

// hintFirstAdmin tells a newcomer how to create the first account.
func hintFirstAdmin(ctx context.Context, a *app, log *slog.Logger) {
	n, err := store.New(a.db.Gorm).AdminCount(ctx)
	if err != nil || n > 0 {
		return
	}
	cmd := "layerindex user create --admin --email you@example.org"
	if a.cfg.DatabaseURL == "" {
		cmd += " --data-dir " + a.cfg.DataDir
	}
	log.Info("no administrator yet; create one with: " + cmd)
}

// unwrapNetErr shortens "listen tcp 127.0.0.1:8080: bind: address already
// in use" to its cause.
func unwrapNetErr(err error) error {
	if oe, ok := err.(*net.OpError); ok && oe.Err != nil {
		return oe.Err
	}
	return err
}

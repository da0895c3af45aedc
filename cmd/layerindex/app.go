package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"layerindex/internal/catalog"
	"layerindex/internal/config"
	"layerindex/internal/db"
	"layerindex/internal/gitrepo"
	"layerindex/internal/ingest"
	"layerindex/internal/isolate"
	"layerindex/internal/jobs"
	"layerindex/internal/repocreds"
	"layerindex/internal/requestid"
	"layerindex/internal/store"
)

// loadConfig parses a command's flags and environment; errors are usage
// errors (exit code 2).
func loadConfig(name string, args []string, e env, extra func(*flag.FlagSet)) (*config.Config, []string, error) {
	cfg, rest, err := config.Parse(name, args, e.getenv, extra)
	if err != nil {
		if errors.Is(err, config.ErrHelp) {
			return nil, nil, err
		}
		return nil, nil, usageErr("%v", err)
	}
	return cfg, rest, nil
}

// newLogger is every command's logger. Lines logged with a request's
// context, in the server or in a job the request queued, carry its id.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return requestid.Logger(slog.New(slog.NewJSONHandler(w, opts)))
	}
	return requestid.Logger(slog.New(slog.NewTextHandler(w, opts)))
}

// app is what every long-running command opens: the data directory and the
// migrated database.
type app struct {
	cfg *config.Config
	log *slog.Logger
	db  *db.DB

	createdDataDir bool
	cache          *gitrepo.Cache
}

// repos is the repository cache under the data directory, with the URL
// policy from the configuration.
func (a *app) repos() *gitrepo.Cache {
	if a.cache == nil {
		a.cache = gitrepo.NewCache(filepath.Join(a.cfg.DataDir, "repos"),
			a.repoPolicy(), gitrepo.DefaultLimits)
		if src, err := a.credentials(); err == nil {
			a.cache.Credentials = src
		} else {
			a.log.Warn("private repositories' credentials are unusable", "err", err)
		}
	}
	return a.cache
}

// credentials are the private repositories' credentials, sealed with the
// site's secret key.
func (a *app) credentials() (*repocreds.Source, error) {
	sealer, err := repocreds.NewSealer(a.cfg.SecretKey)
	if err != nil {
		return nil, err
	}
	return repocreds.NewSource(store.New(a.db.Gorm), sealer), nil
}

// repoPolicy is the repository URL policy from the configuration, for
// fetching and for checking submitted URLs.
func (a *app) repoPolicy() gitrepo.Policy {
	return gitrepo.Policy{AllowLocal: a.cfg.AllowLocal, AllowHTTP: a.cfg.AllowHTTP}
}

// indexer parses layers in child processes under isolate.DefaultLimits:
// a layer that gets past the parser's own limits must not take this
// process (the web server, when it embeds a worker) down with it.
func (a *app) indexer() *ingest.Indexer {
	ix := ingest.New(a.db.Gorm, a.repos(), a.log)
	lim := isolate.DefaultLimits
	ix.Isolation = &lim
	return ix
}

// catalog is the domain core on the queue q, able to work update runs in
// this process.
func (a *app) catalog(q *jobs.Queue) (*catalog.Service, error) {
	opts := catalog.Options{BaseURL: a.cfg.BaseURL, SecretKey: a.cfg.SecretKey,
		RepoPolicy: a.repoPolicy(), Indexer: a.indexer(), Repos: a.repos(), Logger: a.log, StaleAfter: a.cfg.StaleAfter}
	if src, err := a.credentials(); err == nil {
		opts.SSHKeys = src
	}
	return catalog.New(a.db, q, opts)
}

// queue opens an insert-only job queue and the catalog on it: what the
// administrative commands change the index through.
func (a *app) queueOnly(ctx context.Context) (*catalog.Service, error) {
	q, err := jobs.New(ctx, a.db, jobs.Options{})
	if err != nil {
		return nil, err
	}
	return a.catalog(q)
}

// openApp prepares the data directory, connects to the database and applies
// migrations. On failure it removes what it created, so a failed first start
// leaves nothing half-made behind.
func openApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (_ *app, err error) {
	a := &app{cfg: cfg, log: log}
	a.createdDataDir, err = db.PrepareDataDir(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			a.close()
			if a.createdDataDir {
				os.RemoveAll(cfg.DataDir)
			}
		}
	}()
	if cfg.DatabaseURL == "" {
		a.db, err = db.OpenSQLite(ctx, db.SQLitePath(cfg.DataDir), log)
	} else {
		a.db, err = db.OpenPostgres(ctx, cfg.DatabaseURL, log)
	}
	if err != nil {
		return nil, err
	}
	if err = a.db.Migrate(ctx, log); err != nil {
		return nil, fmt.Errorf("migrating %s: %w", a.databaseName(), err)
	}
	if cfg.SecretKey == "" {
		if cfg.SecretKey, err = loadOrCreateSecret(cfg.DataDir); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func (a *app) close() {
	if a.db != nil {
		a.db.Close()
	}
}

// databaseName describes the database for log lines, without secrets.
func (a *app) databaseName() string {
	if a.cfg.DatabaseURL == "" {
		return "SQLite " + db.SQLitePath(a.cfg.DataDir)
	}
	return "PostgreSQL " + config.RedactURL(a.cfg.DatabaseURL)
}

// loadOrCreateSecret reads the secret key from the data directory, creating
// a random one on first start.
func loadOrCreateSecret(dir string) (string, error) {
	p := filepath.Join(dir, "secret.key")
	b, err := os.ReadFile(p)
	if err == nil {
		if k := strings.TrimSpace(string(b)); len(k) >= 32 {
			return k, nil
		}
		return "", fmt.Errorf("secret key file %s is too short; delete it to generate a new one", p)
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("reading secret key: %w", err)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	k := hex.EncodeToString(raw)
	if err := os.WriteFile(p, []byte(k+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("writing secret key: %w", err)
	}
	return k, nil
}

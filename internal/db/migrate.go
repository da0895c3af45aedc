package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverdatabasesql"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivermigrate"

	"layerindex/migrations"
)

// migrationLockKey serialises migrations between processes starting at once
// on PostgreSQL (serve and several workers); any constant works.
const migrationLockKey = 7_230_411_993

// Migrate applies River's schema and then the application's, both idempotent.
// River's migrations run first and separately because some of them cannot
// run inside one transaction on PostgreSQL.
func (d *DB) Migrate(ctx context.Context, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	unlock, err := d.lock(ctx)
	if err != nil {
		return err
	}
	defer unlock()

	rm, err := rivermigrate.New(d.riverDriver(), nil)
	if err != nil {
		return err
	}
	res, err := rm.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		//lint:ignore ST1005 River is a name
		return fmt.Errorf("River migrations: %w", err)
	}
	for _, v := range res.Versions {
		log.Info("applied River migration", "version", v.Version, "name", v.Name)
	}

	p, err := d.goose()
	if err != nil {
		return err
	}
	results, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("schema migrations: %w", err)
	}
	for _, r := range results {
		log.Info("applied migration", "version", r.Source.Version, "file", r.Source.Path, "duration", r.Duration)
	}
	return nil
}

// MigrationsCurrent returns nil when both River's and the application's
// migrations are fully applied, for the readiness probe.
func (d *DB) MigrationsCurrent(ctx context.Context) error {
	p, err := d.goose()
	if err != nil {
		return err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("schema version: %w", err)
	}
	if pending {
		return fmt.Errorf("schema migrations pending")
	}
	rm, err := rivermigrate.New(d.riverDriver(), nil)
	if err != nil {
		return err
	}
	v, err := rm.Validate(ctx, nil)
	if err != nil {
		//lint:ignore ST1005 River is a name
		return fmt.Errorf("River schema: %w", err)
	}
	if !v.OK {
		//lint:ignore ST1005 River is a name
		return fmt.Errorf("River migrations pending: %v", v.Messages)
	}
	return nil
}

func (d *DB) goose() (*goose.Provider, error) {
	dialect := goose.DialectSQLite3
	if d.Dialect == Postgres {
		dialect = goose.DialectPostgres
	}
	sub, err := fs.Sub(migrations.FS, string(d.Dialect))
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(dialect, d.SQL, sub, goose.WithDisableGlobalRegistry(true))
}

// riverDriver is a driver for migrations and validation only.
func (d *DB) riverDriver() riverdriver.Driver[*sql.Tx] {
	if d.Dialect == Postgres {
		return riverdatabasesql.New(d.SQL)
	}
	return riversqlite.New(d.SQL)
}

// lock takes a cross-process lock for the duration of the migrations. On
// SQLite a single process owns the file in practice, and every migration
// step takes the write lock anyway.
func (d *DB) lock(ctx context.Context) (func(), error) {
	if d.Dialect != Postgres {
		return func() {}, nil
	}
	conn, err := d.SQL.Conn(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", migrationLockKey); err != nil {
		conn.Close()
		return nil, fmt.Errorf("migration lock: %w", err)
	}
	return func() {
		conn.ExecContext(context.Background(), "SELECT pg_advisory_unlock($1)", migrationLockKey)
		conn.Close()
	}, nil
}

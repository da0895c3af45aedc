// Package db opens the application's database — an embedded SQLite file by
// default, PostgreSQL in production — and applies its migrations. GORM and
// River share one *sql.DB, so a GORM transaction can carry River job inserts
// (see SQLTx).
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/libtnb/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver
)

// Dialect names a database backend.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is an open database with its migrations tooling.
type DB struct {
	Gorm    *gorm.DB
	SQL     *sql.DB
	Dialect Dialect

	url     string        // PostgreSQL URL, for the LISTEN pool
	pool    *pgxpool.Pool // PostgreSQL only; opened by ListenPool
	lockDir string        // SQLite only: where TryLock's lock files live
}

// connectTimeout bounds how long Open waits for the database to answer, so a
// wrong DATABASE_URL fails fast with a clear error instead of hanging.
const connectTimeout = 10 * time.Second

// OpenSQLite opens (creating if needed) the SQLite database at path. The
// directory must exist.
//
// The driver is modernc.org/sqlite's own (registered as "sqlite"), under the
// GORM dialector github.com/libtnb/sqlite, which is built on it. It replaced
// github.com/glebarez/go-sqlite, which compiled every statement's SQL text on
// every run, even a prepared one's: modernc's keeps a prepared statement's
// compiled form, which the pages' statement cache (store.pageRows) relies on.
func OpenSQLite(ctx context.Context, path string, log *slog.Logger) (*DB, error) {
	// WAL lets readers run beside the writer; _txlock=immediate makes every
	// transaction take the write lock at BEGIN, which avoids SQLITE_BUSY on
	// read-then-write transactions (see shared/docs/stack.md §4).
	// _time_format=sqlite writes a time as "2006-01-02 15:04:05.999999999-07:00",
	// as the earlier driver did (modernc's default is time.Time.String), so
	// files written by either driver read and compare alike. Text in a column
	// declared DATETIME is read back as a time.Time; text of an expression is
	// left a string (_texttotime, _inttotime are off, as before).
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() +
		"?_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)" +
		"&_pragma=synchronous(NORMAL)&_txlock=immediate&_time_format=sqlite"
	sqlDB, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	// The dialector is given the connection pool, not the DSN: from a DSN it
	// would add its own defaults (_texttotime=1, which turns an expression's
	// date-like text into a time.Time).
	g, err := gorm.Open(sqlite.New(sqlite.Config{Conn: sqlDB}), gormConfig())
	if err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	g.Logger = gormLogger(log)
	// A few connections: readers proceed while a writer holds the lock.
	sqlDB.SetMaxOpenConns(4)
	sqlDB.SetMaxIdleConns(4)
	d := &DB{Gorm: g, SQL: sqlDB, Dialect: SQLite, lockDir: filepath.Join(filepath.Dir(path), "locks")}
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	// A ping does not touch the file; a query does, and reports an unwritable
	// or corrupt file here rather than in the middle of a migration.
	if _, err := sqlDB.ExecContext(pctx, "PRAGMA user_version"); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("open SQLite database %s: %w", path, err)
	}
	return d, nil
}

// OpenPostgres connects to the PostgreSQL database at rawURL.
func OpenPostgres(ctx context.Context, rawURL string, log *slog.Logger) (*DB, error) {
	redacted := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		redacted = u.Redacted()
	}
	g, err := gorm.Open(postgres.Open(rawURL), gormConfig())
	if err != nil {
		return nil, fmt.Errorf("cannot connect to database %s: %w", redacted, err)
	}
	g.Logger = gormLogger(log)
	sqlDB, err := g.DB()
	if err != nil {
		return nil, err
	}
	// As many idle connections as open ones: with 10, a burst of 16
	// concurrent requests closed six connections after every request and
	// opened new ones for the next (a PostgreSQL backend per connection,
	// its statement cache cold), the API's tail latency under load.
	sqlDB.SetMaxOpenConns(20)
	sqlDB.SetMaxIdleConns(20)
	sqlDB.SetConnMaxIdleTime(5 * time.Minute)
	pctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := sqlDB.PingContext(pctx); err != nil {
		sqlDB.Close()
		return nil, fmt.Errorf("cannot connect to database %s: %w", redacted, err)
	}
	return &DB{Gorm: g, SQL: sqlDB, Dialect: Postgres, url: rawURL}, nil
}

// gormConfig opens quietly: a failed connection is reported once, by the
// caller's error, not also as a GORM log line.
func gormConfig() *gorm.Config {
	return &gorm.Config{
		Logger:                 logger.Discard,
		NowFunc:                func() time.Time { return time.Now().UTC().Truncate(time.Microsecond) },
		SkipDefaultTransaction: true,
		TranslateError:         true,
	}
}

// slowQuery is the time past which a query is logged at WARN.
const slowQuery = 500 * time.Millisecond

func gormLogger(log *slog.Logger) logger.Interface {
	if log == nil {
		return logger.Discard
	}
	return cancelQuiet{Interface: logger.NewSlogLogger(log.With("component", "gorm"), logger.Config{
		SlowThreshold:             slowQuery,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		// A failed or slow query is logged without its values: they may
		// be secrets (password hashes, tokens) or megabytes of a hostile
		// layer's content.
		ParameterizedQueries: true,
	}), level: logger.Warn}
}

// maxLoggedSQL caps the text of a query in the log (a batch insert's
// statement runs to megabytes).
const maxLoggedSQL = 2000

// cancelQuiet leaves out queries cut short because their request was
// cancelled (a client that went away): not a database error. It also
// returns at once for a query that is neither failed nor slow (below Info):
// GORM's logger formats every query's SQL text before deciding not to log
// it, which was a measurable part of each page's CPU.
type cancelQuiet struct {
	logger.Interface
	level logger.LogLevel
}

func (q cancelQuiet) LogMode(l logger.LogLevel) logger.Interface {
	return cancelQuiet{Interface: q.Interface.LogMode(l), level: l}
}

func (q cancelQuiet) Trace(ctx context.Context, begin time.Time, fc func() (string, int64), err error) {
	if err != nil && (errors.Is(err, context.Canceled) || ctx.Err() != nil) {
		return
	}
	if q.level < logger.Info && (err == nil || errors.Is(err, gorm.ErrRecordNotFound)) && time.Since(begin) <= slowQuery {
		return
	}
	q.Interface.Trace(ctx, begin, func() (string, int64) {
		sql, rows := fc()
		if len(sql) > maxLoggedSQL {
			sql = fmt.Sprintf("%s… (%d bytes)", strings.ToValidUTF8(sql[:maxLoggedSQL], ""), len(sql))
		}
		return sql, rows
	}, err)
}

// ParamsFilter passes gorm's question (log a query's values or not) to
// the wrapped logger, which says not (ParameterizedQueries).
func (q cancelQuiet) ParamsFilter(ctx context.Context, sql string, params ...any) (string, []any) {
	if f, ok := q.Interface.(gorm.ParamsFilter); ok {
		return f.ParamsFilter(ctx, sql, params...)
	}
	return sql, params
}

// ListenPool returns a pgx pool used only for LISTEN/NOTIFY by a working River
// client on PostgreSQL (database/sql cannot LISTEN). It is opened on first use.
func (d *DB) ListenPool(ctx context.Context) (*pgxpool.Pool, error) {
	if d.Dialect != Postgres {
		return nil, errors.New("LISTEN needs PostgreSQL")
	}
	if d.pool != nil {
		return d.pool, nil
	}
	cfg, err := pgxpool.ParseConfig(d.url)
	if err != nil {
		return nil, err
	}
	cfg.MaxConns = 2
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d.pool = pool
	return pool, nil
}

// Ping checks that the database answers.
func (d *DB) Ping(ctx context.Context) error {
	return d.SQL.PingContext(ctx)
}

// Close releases every connection.
func (d *DB) Close() error {
	if d.pool != nil {
		d.pool.Close()
	}
	return d.SQL.Close()
}

// SQLTx returns the *sql.Tx behind a GORM transaction, so River can insert
// jobs in it. It fails outside a transaction: a job inserted on a bare
// connection would commit without the rows it belongs to.
func SQLTx(tx *gorm.DB) (*sql.Tx, error) {
	switch p := tx.Statement.ConnPool.(type) {
	case *sql.Tx:
		return p, nil
	case *gorm.PreparedStmtTX:
		if t, ok := p.Tx.(*sql.Tx); ok {
			return t, nil
		}
	}
	return nil, fmt.Errorf("not inside a database/sql transaction (%T)", tx.Statement.ConnPool)
}

// PrepareDataDir creates dir if needed and checks that it is writable. It
// reports whether it created the directory, so a failed start can remove it
// again and leave nothing half-created.
func PrepareDataDir(dir string) (created bool, err error) {
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return false, fmt.Errorf("data directory %s is not a directory", dir)
		}
	} else if errors.Is(err, os.ErrNotExist) {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return false, fmt.Errorf("cannot create data directory %s: %w", dir, unwrapPathErr(err))
		}
		created = true
	} else {
		return false, fmt.Errorf("cannot use data directory %s: %w", dir, unwrapPathErr(err))
	}
	probe, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		if created {
			os.Remove(dir)
		}
		return false, fmt.Errorf("data directory %s is not writable: %w", dir, unwrapPathErr(err))
	}
	probe.Close()
	os.Remove(probe.Name())
	return created, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// SQLitePath is where the embedded database lives inside a data directory.
func SQLitePath(dataDir string) string { return filepath.Join(dataDir, "layerindex.db") }

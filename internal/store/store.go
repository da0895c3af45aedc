package store

import (
	"context"
	"database/sql"
	"errors"
	"sync"

	"gorm.io/gorm"
)

// Store runs the application's queries on a database or inside a
// transaction (see Tx).
type Store struct {
	db *gorm.DB

	versionOnce sync.Once // IndexVersion's prepared statement
	versionStmt *sql.Stmt
	versionErr  error

	stmts *stmtCache // the pages' prepared statements (pageRows); nil in a transaction
	// verdicts are the API lists' plan checks (sortsTable); nil in a
	// transaction.
	verdicts *verdictCache
}

// New returns a Store on db.
func New(db *gorm.DB) *Store { return &Store{db: db, stmts: &stmtCache{}, verdicts: &verdictCache{}} }

// Tx returns a Store whose queries run in the GORM transaction tx.
func Tx(tx *gorm.DB) *Store { return &Store{db: tx} }

// DB is the underlying GORM handle, for callers that open a transaction.
func (s *Store) DB() *gorm.DB { return s.db }

func (s *Store) with(ctx context.Context) *gorm.DB { return s.db.WithContext(ctx) }

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrConflict is returned when a write would break a uniqueness rule.
var ErrConflict = errors.New("already exists")

// translate maps GORM's errors to the store's.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return ErrConflict
	}
	return err
}

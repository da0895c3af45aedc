package store

import (
	"context"
	"errors"
)

// ErrNoVersionCounter means the database announces changes by notification
// (PostgreSQL: channel IndexChannel), so reading the counter per page is
// unnecessary.
var ErrNoVersionCounter = errors.New("no index version counter on this database")

// IndexChannel is the PostgreSQL NOTIFY channel on which every committed
// change to the browsable index is announced (migration 00004).
const IndexChannel = "layerindex_index"

// IndexVersion reads SQLite's change counter of the browsable index
// (index_state.version, which triggers raise on every change to what the
// pages and the API show).
func (s *Store) IndexVersion(ctx context.Context) (int64, error) {
	if s.db.Dialector.Name() == "postgres" {
		return 0, ErrNoVersionCounter
	}
	// Every cached page view runs this, so it skips GORM and reuses one
	// prepared statement.
	s.versionOnce.Do(func() {
		sqlDB, err := s.db.DB()
		if err == nil {
			s.versionStmt, err = sqlDB.PrepareContext(context.Background(), "SELECT version FROM index_state WHERE id = 1")
		}
		s.versionErr = err
	})
	if s.versionErr != nil {
		return 0, s.versionErr
	}
	var v int64
	err := s.versionStmt.QueryRowContext(ctx).Scan(&v)
	return v, err
}

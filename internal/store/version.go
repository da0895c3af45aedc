package store

import (
	"context"
	"errors"
)

// ErrNoVersionCounter means the database announces changes by notification
// (PostgreSQL: channel IndexChannel) instead of keeping a counter.
var ErrNoVersionCounter = errors.New("no index version counter on this database")

// IndexChannel is the PostgreSQL NOTIFY channel on which every committed
// change to the browsable index is announced (see migrations 00003).
const IndexChannel = "layerindex_index"

// IndexVersion reads SQLite's change counter of the browsable index, which
// triggers raise on every change to what the pages show.
func (s *Store) IndexVersion(ctx context.Context) (int64, error) {
	if s.db.Dialector.Name() == "postgres" {
		return 0, ErrNoVersionCounter
	}
	var v int64
	err := s.with(ctx).Raw("SELECT version FROM index_version WHERE id = 1").Scan(&v).Error
	return v, err
}

package store

import (
	"context"
	"time"
)

// PurgeUpdates deletes update runs (and, by cascade, their layer updates)
// that started before cutoff and are no longer running. It returns how many
// runs were removed.
func (s *Store) PurgeUpdates(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.with(ctx).Where("started_at < ? AND status <> ?", cutoff, UpdateRunning).Delete(&Update{})
	return res.RowsAffected, res.Error
}

// CreateUpdate records the start of an update run.
func (s *Store) CreateUpdate(ctx context.Context, u *Update) error {
	if u.Status == "" {
		u.Status = UpdateRunning
	}
	return s.with(ctx).Create(u).Error
}

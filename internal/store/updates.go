package store

import (
	"context"
	"time"

	"gorm.io/gorm"
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

// StartLayerUpdate records the start of one layer branch's update. Runs of
// the same layer and branch still marked running were interrupted (the
// process died): they are closed as failed first, so no log stays
// "running" forever.
func (s *Store) StartLayerUpdate(ctx context.Context, lu *LayerUpdate) error {
	return s.with(ctx).Transaction(func(tx *gorm.DB) error {
		now := time.Now().UTC()
		err := tx.Model(&LayerUpdate{}).
			Where("layer_id = ? AND branch_id = ? AND status = ?", lu.LayerID, lu.BranchID, UpdateRunning).
			Updates(map[string]any{"status": UpdateFailed, "finished_at": now,
				"log": gorm.Expr("log || ?", "ERROR: interrupted: the worker stopped before this update finished\n")}).Error
		if err != nil {
			return err
		}
		lu.Status, lu.StartedAt = UpdateRunning, now
		return tx.Create(lu).Error
	})
}

// FinishLayerUpdate stores the outcome of a layer branch's update.
func (s *Store) FinishLayerUpdate(ctx context.Context, lu *LayerUpdate) error {
	now := time.Now().UTC()
	lu.FinishedAt = &now
	return s.with(ctx).Save(lu).Error
}

// FinishUpdate closes an update run.
func (s *Store) FinishUpdate(ctx context.Context, id int64, status, log string) error {
	return s.with(ctx).Model(&Update{}).Where("id = ?", id).
		Updates(map[string]any{"status": status, "finished_at": time.Now().UTC(), "log": log}).Error
}

package store

import (
	"context"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm/clause"
)

// LayerBranchAlert is the last known health of a layer branch's updates,
// which decides when its maintainers are emailed.
type LayerBranchAlert struct {
	LayerBranchID int64 `gorm:"primaryKey;autoIncrement:false"`
	Failing       bool
	FailingSince  *time.Time
	Warnings      int
	LastOKAt      *time.Time `gorm:"column:last_ok_at"`
	LastRunID     *int64
	// RepoGone: the last update found no repository at the layer's URL
	// (or a private one); the digest and the "stale" marker show it.
	RepoGone  bool
	UpdatedAt time.Time
}

// AlertOptout is a user who asked for no alert mail about a layer.
type AlertOptout struct {
	UserID    int64 `gorm:"primaryKey;autoIncrement:false"`
	LayerID   int64 `gorm:"primaryKey;autoIncrement:false"`
	CreatedAt time.Time
}

// AlertState is a layer branch's alert state; found is false before its
// first ended run.
func (s *Store) AlertState(ctx context.Context, lbID int64) (st LayerBranchAlert, found bool, err error) {
	err = translate(s.with(ctx).Where("layer_branch_id = ?", lbID).Take(&st).Error)
	if errors.Is(err, ErrNotFound) {
		return LayerBranchAlert{LayerBranchID: lbID}, false, nil
	}
	return st, err == nil, err
}

// SaveAlertState writes a layer branch's alert state.
func (s *Store) SaveAlertState(ctx context.Context, st *LayerBranchAlert) error {
	st.UpdatedAt = time.Now().UTC()
	return s.with(ctx).Clauses(clause.OnConflict{UpdateAll: true}).Create(st).Error
}

// SetAlertOptout records (off) or removes a user's opt-out for a layer.
func (s *Store) SetAlertOptout(ctx context.Context, userID, layerID int64, off bool) error {
	if !off {
		return s.with(ctx).Where("user_id = ? AND layer_id = ?", userID, layerID).Delete(&AlertOptout{}).Error
	}
	return s.with(ctx).Clauses(clause.OnConflict{DoNothing: true}).
		Create(&AlertOptout{UserID: userID, LayerID: layerID, CreatedAt: time.Now().UTC()}).Error
}

// AlertOptedOut tells whether a user opted out of a layer's alerts.
func (s *Store) AlertOptedOut(ctx context.Context, userID, layerID int64) (bool, error) {
	var n int64
	err := s.with(ctx).Model(&AlertOptout{}).Where("user_id = ? AND layer_id = ?", userID, layerID).Count(&n).Error
	return n > 0, err
}

// OptedOutEmails lists, lower-cased, the email addresses of the users who
// opted out of a layer's alerts.
func (s *Store) OptedOutEmails(ctx context.Context, layerID int64) (map[string]bool, error) {
	var emails []string
	err := s.with(ctx).Table("alert_optouts").Joins("JOIN users ON users.id = alert_optouts.user_id").
		Where("alert_optouts.layer_id = ?", layerID).Pluck("users.email", &emails).Error
	out := map[string]bool{}
	for _, e := range emails {
		out[strings.ToLower(e)] = true
	}
	return out, err
}

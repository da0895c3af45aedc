package store

import (
	"context"
	"time"

	"gorm.io/gorm/clause"
)

// FindSession returns the data of an unexpired session by token hash.
func (s *Store) FindSession(ctx context.Context, hash string) ([]byte, bool, error) {
	var ss Session
	err := s.with(ctx).Where("token = ? AND expiry > ?", hash, time.Now().UTC()).Take(&ss).Error
	if err = translate(err); err == ErrNotFound {
		return nil, false, nil
	}
	return ss.Data, err == nil, err
}

// SaveSession inserts or replaces a session.
func (s *Store) SaveSession(ctx context.Context, hash string, data []byte, expiry time.Time, userID *int64) error {
	return s.with(ctx).Clauses(clause.OnConflict{
		Columns:   []clause.Column{{Name: "token"}},
		DoUpdates: clause.AssignmentColumns([]string{"data", "expiry", "user_id"}),
	}).Create(&Session{Token: hash, Data: data, Expiry: expiry.UTC(), UserID: userID}).Error
}

// DeleteSession removes a session; a missing one is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	return s.with(ctx).Where("token = ?", hash).Delete(&Session{}).Error
}

// DeleteUserSessions logs a user out everywhere except the session whose
// hash is keep (may be empty).
func (s *Store) DeleteUserSessions(ctx context.Context, userID int64, keep string) error {
	return s.with(ctx).Where("user_id = ? AND token <> ?", userID, keep).Delete(&Session{}).Error
}

// PurgeSessions deletes expired sessions.
func (s *Store) PurgeSessions(ctx context.Context) (int64, error) {
	res := s.with(ctx).Where("expiry < ?", time.Now().UTC()).Delete(&Session{})
	return res.RowsAffected, res.Error
}

package store

import (
	"context"
	"time"
)

// CreateToken stores a mailed token (its hash).
func (s *Store) CreateToken(ctx context.Context, t *UserToken) error {
	return translate(s.with(ctx).Create(t).Error)
}

// ValidToken finds an unused, unexpired token without using it (to show
// the form it unlocks).
func (s *Store) ValidToken(ctx context.Context, purpose, hash string) (*UserToken, error) {
	var t UserToken
	err := s.with(ctx).Where("purpose = ? AND token_hash = ? AND used_at IS NULL AND expires_at > ?",
		purpose, hash, time.Now().UTC()).Take(&t).Error
	return &t, translate(err)
}

// UseToken marks a valid token used and returns it. The update is
// conditional, so of two concurrent uses exactly one succeeds; an unknown,
// used or expired token gives ErrNotFound.
func (s *Store) UseToken(ctx context.Context, purpose, hash string) (*UserToken, error) {
	now := time.Now().UTC()
	res := s.with(ctx).Model(&UserToken{}).
		Where("purpose = ? AND token_hash = ? AND used_at IS NULL AND expires_at > ?", purpose, hash, now).
		Update("used_at", now)
	if res.Error != nil {
		return nil, res.Error
	}
	if res.RowsAffected != 1 {
		return nil, ErrNotFound
	}
	var t UserToken
	return &t, translate(s.with(ctx).Where("token_hash = ?", hash).Take(&t).Error)
}

// RevokeTokens marks a user's unused tokens of a purpose used (after a
// password reset, the other reset links stop working).
func (s *Store) RevokeTokens(ctx context.Context, userID int64, purpose string) error {
	return s.with(ctx).Model(&UserToken{}).Where("user_id = ? AND purpose = ? AND used_at IS NULL", userID, purpose).
		Update("used_at", time.Now().UTC()).Error
}

// PurgeTokens deletes tokens that expired before cutoff.
func (s *Store) PurgeTokens(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.with(ctx).Where("expires_at < ?", cutoff).Delete(&UserToken{})
	return res.RowsAffected, res.Error
}

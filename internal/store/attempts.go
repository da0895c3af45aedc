package store

import (
	"context"
	"time"
)

// AddAttempt counts one attempt against a rate-limit bucket and key.
func (s *Store) AddAttempt(ctx context.Context, bucket, keyHash string) error {
	return s.with(ctx).Create(&AuthAttempt{Bucket: bucket, KeyHash: keyHash, CreatedAt: time.Now().UTC()}).Error
}

// CountAttempts counts the attempts since a time and returns the oldest of
// them (the window frees up when it ages out).
func (s *Store) CountAttempts(ctx context.Context, bucket, keyHash string, since time.Time) (int64, time.Time, error) {
	q := s.with(ctx).Model(&AuthAttempt{}).Where("bucket = ? AND key_hash = ? AND created_at > ?", bucket, keyHash, since.UTC())
	var n int64
	if err := q.Count(&n).Error; err != nil || n == 0 {
		return 0, time.Time{}, err
	}
	var first AuthAttempt
	err := s.with(ctx).Where("bucket = ? AND key_hash = ? AND created_at > ?", bucket, keyHash, since.UTC()).
		Order("created_at").Take(&first).Error
	return n, first.CreatedAt, err
}

// ClearAttempts forgets a key's attempts (a successful login clears its
// failures).
func (s *Store) ClearAttempts(ctx context.Context, bucket, keyHash string) error {
	return s.with(ctx).Where("bucket = ? AND key_hash = ?", bucket, keyHash).Delete(&AuthAttempt{}).Error
}

// PurgeAttempts deletes attempts older than cutoff.
func (s *Store) PurgeAttempts(ctx context.Context, cutoff time.Time) (int64, error) {
	res := s.with(ctx).Where("created_at < ?", cutoff.UTC()).Delete(&AuthAttempt{})
	return res.RowsAffected, res.Error
}

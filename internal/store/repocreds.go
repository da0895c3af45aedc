package store

import (
	"context"

	"gorm.io/gorm"
)

// RepoCredentials lists the private repositories' credentials, secrets
// sealed.
func (s *Store) RepoCredentials(ctx context.Context) ([]RepoCredential, error) {
	var cs []RepoCredential
	return cs, translate(s.with(ctx).Order("url_prefix").Find(&cs).Error)
}

// SaveRepoCredential adds a credential, or replaces the one of its prefix.
func (s *Store) SaveRepoCredential(ctx context.Context, c *RepoCredential) error {
	return translate(s.with(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Where("url_prefix = ?", c.URLPrefix).Delete(&RepoCredential{}).Error; err != nil {
			return err
		}
		return tx.Create(c).Error
	}))
}

// DeleteRepoCredential removes the credential of a prefix.
func (s *Store) DeleteRepoCredential(ctx context.Context, prefix string) error {
	res := s.with(ctx).Where("url_prefix = ?", prefix).Delete(&RepoCredential{})
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return translate(res.Error)
}

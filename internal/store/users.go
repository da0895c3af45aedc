package store

import (
	"context"
	"strings"
)

// NormalizeEmail is how emails are compared: trimmed, lower case.
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// CreateUser inserts u; an email already in use gives ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u *User) error {
	u.Email = strings.TrimSpace(u.Email)
	return translate(s.with(ctx).Create(u).Error)
}

// UserByEmail finds a user by email, case-insensitively.
func (s *Store) UserByEmail(ctx context.Context, email string) (*User, error) {
	var u User
	err := s.with(ctx).Where("lower(email) = ?", NormalizeEmail(email)).Take(&u).Error
	return &u, translate(err)
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string) error {
	return translate(s.with(ctx).Model(&User{}).Where("id = ?", id).Update("password_hash", hash).Error)
}

// AdminCount counts administrator accounts, so the server can tell a
// newcomer how to create the first one.
func (s *Store) AdminCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.with(ctx).Model(&User{}).Where("is_admin").Count(&n).Error
	return n, err
}

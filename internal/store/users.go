package store

import (
	"context"
	"strings"
	"time"
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

// UserByID finds a user.
func (s *Store) UserByID(ctx context.Context, id int64) (*User, error) {
	var u User
	return &u, translate(s.with(ctx).Where("id = ?", id).Take(&u).Error)
}

// SetPassword replaces a user's password hash.
func (s *Store) SetPassword(ctx context.Context, id int64, hash string) error {
	return s.updateUser(ctx, id, map[string]any{"password_hash": hash})
}

// SetUserName changes a user's display name.
func (s *Store) SetUserName(ctx context.Context, id int64, name string) error {
	return s.updateUser(ctx, id, map[string]any{"name": name})
}

// VerifyUser marks a user's email as verified; email, when not empty,
// becomes the account's address (an email change). A taken address gives
// ErrConflict.
func (s *Store) VerifyUser(ctx context.Context, id int64, email string) error {
	v := map[string]any{"verified": true}
	if email != "" {
		v["email"] = strings.TrimSpace(email)
	}
	return s.updateUser(ctx, id, v)
}

// SetAdmin grants or withdraws administrator rights.
func (s *Store) SetAdmin(ctx context.Context, id int64, admin bool) error {
	return s.updateUser(ctx, id, map[string]any{"is_admin": admin})
}

// TouchLogin records a successful login.
func (s *Store) TouchLogin(ctx context.Context, id int64) error {
	return s.updateUser(ctx, id, map[string]any{"last_login_at": time.Now().UTC()})
}

func (s *Store) updateUser(ctx context.Context, id int64, v map[string]any) error {
	v["updated_at"] = time.Now().UTC()
	res := s.with(ctx).Model(&User{}).Where("id = ?", id).Updates(v)
	if res.Error == nil && res.RowsAffected == 0 {
		return ErrNotFound
	}
	return translate(res.Error)
}

// DeleteUser removes an account; its sessions and tokens go with it, its
// submissions and history entries stay without it.
func (s *Store) DeleteUser(ctx context.Context, id int64) error {
	return translate(s.with(ctx).Where("id = ?", id).Delete(&User{}).Error)
}

// AdminCount counts administrator accounts, so the server can tell a
// newcomer how to create the first one.
func (s *Store) AdminCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.with(ctx).Model(&User{}).Where("is_admin").Count(&n).Error
	return n, err
}

// ActiveAdmins lists the administrators who receive review mail.
func (s *Store) ActiveAdmins(ctx context.Context) ([]User, error) {
	var us []User
	err := s.with(ctx).Where("is_admin AND is_active AND verified").Order("id").Find(&us).Error
	return us, err
}

// IsMaintainer reports whether email is an active maintainer of the layer
// on any of its branches (case-insensitively, as upstream compares).
func (s *Store) IsMaintainer(ctx context.Context, layerID int64, email string) (bool, error) {
	if NormalizeEmail(email) == "" {
		return false, nil
	}
	var n int64
	err := s.with(ctx).Model(&LayerMaintainer{}).
		Joins("JOIN layer_branches ON layer_branches.id = layer_maintainers.layer_branch_id").
		Where("layer_branches.layer_id = ? AND layer_maintainers.status = 'A' AND lower(trim(layer_maintainers.email)) = ?",
			layerID, NormalizeEmail(email)).Count(&n).Error
	return n > 0, err
}

// LayersMaintainedBy lists the layers email actively maintains.
func (s *Store) LayersMaintainedBy(ctx context.Context, email string) ([]Layer, error) {
	var ls []Layer
	if NormalizeEmail(email) == "" {
		return nil, nil
	}
	err := s.with(ctx).Where("id IN (?)", s.db.Model(&LayerMaintainer{}).Select("layer_branches.layer_id").
		Joins("JOIN layer_branches ON layer_branches.id = layer_maintainers.layer_branch_id").
		Where("layer_maintainers.status = 'A' AND lower(trim(layer_maintainers.email)) = ?", NormalizeEmail(email))).
		Order("name").Find(&ls).Error
	return ls, err
}

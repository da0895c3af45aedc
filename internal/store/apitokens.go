package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"strings"
	"time"
)

// APIToken is a user's token for the API endpoints that act.
type APIToken struct {
	ID         int64
	UserID     int64
	Name       string
	TokenHash  string
	Prefix     string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	RevokedAt  *time.Time
}

// APITokenPrefix starts every token, so one pasted in the wrong place is
// recognisable (and findable by secret scanners).
const APITokenPrefix = "lit_"

// hashAPIToken is how tokens are stored: they carry 160 random bits, so a
// fast hash is enough (a slow one would only slow every API call).
func hashAPIToken(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// CreateAPIToken makes a token for a user and returns it in clear: this is
// the only time it can be shown.
func (s *Store) CreateAPIToken(ctx context.Context, userID int64, name string) (string, *APIToken, error) {
	raw := make([]byte, 20)
	rand.Read(raw)
	token := APITokenPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(raw))
	t := &APIToken{UserID: userID, Name: name, TokenHash: hashAPIToken(token), Prefix: token[:len(APITokenPrefix)+6]}
	if err := s.with(ctx).Create(t).Error; err != nil {
		return "", nil, err
	}
	return token, t, nil
}

// APITokens lists a user's tokens, newest first.
func (s *Store) APITokens(ctx context.Context, userID int64) ([]APIToken, error) {
	var ts []APIToken
	err := s.with(ctx).Where("user_id = ?", userID).Order("id DESC").Find(&ts).Error
	return ts, err
}

// RevokeAPIToken revokes one of a user's tokens; another user's token is
// ErrNotFound.
func (s *Store) RevokeAPIToken(ctx context.Context, userID, id int64) error {
	res := s.with(ctx).Model(&APIToken{}).Where("id = ? AND user_id = ? AND revoked_at IS NULL", id, userID).
		Update("revoked_at", time.Now().UTC())
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected == 0 {
		return ErrNotFound
	}
	return nil
}

// UserByAPIToken finds the active, verified account a valid, unrevoked
// token belongs to, and notes the token's use. Anything else is
// ErrNotFound.
func (s *Store) UserByAPIToken(ctx context.Context, token string) (*User, error) {
	if !strings.HasPrefix(token, APITokenPrefix) || len(token) > 100 {
		return nil, ErrNotFound
	}
	var t APIToken
	if err := s.with(ctx).Where("token_hash = ? AND revoked_at IS NULL", hashAPIToken(token)).Take(&t).Error; err != nil {
		return nil, translate(err)
	}
	var u User
	if err := s.with(ctx).Where("id = ? AND is_active AND verified", t.UserID).Take(&u).Error; err != nil {
		return nil, translate(err)
	}
	s.with(ctx).Model(&APIToken{}).Where("id = ?", t.ID).Update("last_used_at", time.Now().UTC())
	return &u, nil
}

// Package auth holds the account rules: password hashing and checks, and
// (as the site grows) sessions, tokens and the one permission policy.
package auth

import (
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"
)

// passwordParams are OWASP's minimum Argon2id settings (19 MiB, 2 passes,
// 1 lane): enough to make offline guessing expensive while keeping a login
// around 30 ms on a small server.
var passwordParams = &argon2id.Params{
	Memory:      19 * 1024,
	Iterations:  2,
	Parallelism: 1,
	SaltLength:  16,
	KeyLength:   32,
}

// Password length limits, in characters. The upper bound stops a huge
// password from being used to burn CPU.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

// ValidatePassword checks a new password against the length rules.
func ValidatePassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		return fmt.Errorf("password must be at least %d characters", MinPasswordLen)
	case n > MaxPasswordLen:
		return fmt.Errorf("password must be at most %d characters", MaxPasswordLen)
	}
	return nil
}

// HashPassword returns an encoded Argon2id hash of pw.
func HashPassword(pw string) (string, error) {
	if err := ValidatePassword(pw); err != nil {
		return "", err
	}
	return argon2id.CreateHash(pw, passwordParams)
}

// CheckPassword reports whether pw matches hash. An empty or malformed hash
// never matches.
func CheckPassword(pw, hash string) bool {
	if hash == "" || len(pw) > 4*MaxPasswordLen {
		return false
	}
	ok, err := argon2id.ComparePasswordAndHash(pw, hash)
	return err == nil && ok
}

// ErrBadCredentials is the one error for a failed login, whatever the cause,
// so the answer does not reveal whether an account exists.
var ErrBadCredentials = errors.New("invalid email or password")

package auth

import (
	"context"
	"time"

	"layerindex/internal/store"
)

// Limit is a rate limit: at most Max counted attempts per key in Window.
type Limit struct {
	Bucket string
	Max    int64
	Window time.Duration
}

// Limits are the site's rate limits. Upstream locks an address out after 4
// failed logins for an hour, which its maintainers call too aggressive;
// these count failures per account and per address separately, so one
// attacker cannot lock a person out from everywhere and one address cannot
// try many accounts.
type Limits struct {
	LoginPerIP      Limit
	LoginPerAccount Limit
	// ReauthPerAccount counts wrong passwords given by a signed-in user to
	// confirm a change (email, password, deletion), per account id: apart
	// from LoginPerAccount, so someone hammering the login of an account
	// does not stop its owner, signed in, from changing the address, and a
	// stolen session cannot guess the password freely.
	ReauthPerAccount   Limit
	RegisterPerIP      Limit
	RegisterPerAccount Limit // per address registered: caps the mail one address can be sent
	ResetPerIP         Limit
	ResetPerAccount    Limit
	SubmitPerIP        Limit // anonymous submissions
	SubmitPerAccount   Limit
	ChallengeFailPerIP Limit // wrong answers to the anonymous submission challenge
}

// DefaultLimits are the production values.
var DefaultLimits = Limits{
	LoginPerIP:         Limit{"login-ip", 30, 15 * time.Minute},
	LoginPerAccount:    Limit{"login-account", 5, 15 * time.Minute},
	ReauthPerAccount:   Limit{"reauth-account", 5, 15 * time.Minute},
	RegisterPerIP:      Limit{"register-ip", 5, time.Hour},
	RegisterPerAccount: Limit{"register-account", 3, time.Hour},
	ResetPerIP:         Limit{"reset-ip", 10, time.Hour},
	ResetPerAccount:    Limit{"reset-account", 3, time.Hour},
	SubmitPerIP:        Limit{"submit-ip", 5, time.Hour},
	SubmitPerAccount:   Limit{"submit-account", 20, time.Hour},
	ChallengeFailPerIP: Limit{"challenge-ip", 20, time.Hour},
}

// Limiter counts attempts in the database, so every web process shares
// the counts. Keys are stored as HMACs.
type Limiter struct {
	st     *store.Store
	secret []byte
}

// NewLimiter returns a limiter on st; secret keys the stored hashes.
func NewLimiter(st *store.Store, secret []byte) *Limiter {
	return &Limiter{st: st, secret: secret}
}

// Allow reports whether key may make another attempt under lim, and if
// not, how long until it may.
func (l *Limiter) Allow(ctx context.Context, lim Limit, key string) (bool, time.Duration, error) {
	now := time.Now().UTC()
	n, oldest, err := l.st.CountAttempts(ctx, lim.Bucket, l.hash(lim, key), now.Add(-lim.Window))
	if err != nil || n < lim.Max {
		return err == nil, 0, err
	}
	wait := oldest.Add(lim.Window).Sub(now)
	return false, max(wait, time.Second), nil
}

// Hit counts an attempt.
func (l *Limiter) Hit(ctx context.Context, lim Limit, key string) error {
	return l.st.AddAttempt(ctx, lim.Bucket, l.hash(lim, key))
}

// Reset forgets a key's attempts.
func (l *Limiter) Reset(ctx context.Context, lim Limit, key string) error {
	return l.st.ClearAttempts(ctx, lim.Bucket, l.hash(lim, key))
}

func (l *Limiter) hash(lim Limit, key string) string { return keyedHash(l.secret, lim.Bucket, key) }

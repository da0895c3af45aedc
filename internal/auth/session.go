package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"time"

	"github.com/alexedwards/scs/v2"

	"layerindex/internal/store"
)

// Session keys.
const (
	sessUserID = "uid"
	sessCSRF   = "csrf"
)

// Session lifetimes: a login lasts two weeks (there is no idle timeout, so
// a request that changes nothing writes nothing); a session made only to
// carry a form's CSRF token or the submission question lasts a day.
const (
	SessionLifetime   = 14 * 24 * time.Hour
	AnonymousLifetime = 24 * time.Hour
)

// Sessions are server-side (scs) in the sessions table: the cookie holds a
// random token, the table its SHA-256 (scs's HashTokenInStore) and the
// account, so a password change can end the account's other sessions.
type Sessions struct {
	*scs.SessionManager
	st *store.Store
}

// NewSessions configures the session manager. secure sets the Secure flag
// and the __Host- cookie prefix (which forbids a Domain attribute, so a
// sibling subdomain cannot plant or read the cookie); it is on whenever the
// site is served over https.
func NewSessions(st *store.Store, secure bool) *Sessions {
	sm := scs.New()
	sm.Lifetime = SessionLifetime
	sm.HashTokenInStore = true
	sm.Cookie.HttpOnly = true
	sm.Cookie.SameSite = http.SameSiteLaxMode
	sm.Cookie.Path = "/"
	sm.Cookie.Secure = secure
	sm.Cookie.Name = "session"
	if secure {
		sm.Cookie.Name = "__Host-session"
	}
	sm.Store = &sessionStore{st: st, codec: sm.Codec}
	return &Sessions{SessionManager: sm, st: st}
}

// UserID is the signed-in account of the request's session, or 0.
func (s *Sessions) UserID(ctx context.Context) int64 { return s.GetInt64(ctx, sessUserID) }

// LogIn binds the session to an account under a new token (no session
// fixation) and a new CSRF token.
func (s *Sessions) LogIn(ctx context.Context, userID int64) error {
	if err := s.RenewToken(ctx); err != nil {
		return err
	}
	s.Put(ctx, sessUserID, userID)
	s.Put(ctx, sessCSRF, randomToken())
	return nil
}

// LogOut ends the session.
func (s *Sessions) LogOut(ctx context.Context) error { return s.Destroy(ctx) }

// EndOtherSessions logs the account out everywhere else, after its
// password changed; the current session gets a new token too.
func (s *Sessions) EndOtherSessions(ctx context.Context, userID int64) error {
	if err := s.RenewToken(ctx); err != nil {
		return err
	}
	// The renewed session is stored only when the response is written;
	// everything stored for the account now belongs to other sessions.
	return s.st.DeleteUserSessions(ctx, userID, "")
}

// CSRFToken returns the session's CSRF token, creating it (and so the
// session) when needed. Pages with a form call it; pages without forms do
// not, so anonymous visitors browsing the index get no cookie.
func (s *Sessions) CSRFToken(ctx context.Context) string {
	if t := s.GetString(ctx, sessCSRF); t != "" {
		return t
	}
	t := randomToken()
	s.Put(ctx, sessCSRF, t)
	if s.UserID(ctx) == 0 {
		// A visitor's form session need not last as long as a login.
		s.SetDeadline(ctx, time.Now().Add(AnonymousLifetime))
	}
	return t
}

// ExistingCSRFToken is the session's token, or "" when it has none.
func (s *Sessions) ExistingCSRFToken(ctx context.Context) string { return s.GetString(ctx, sessCSRF) }

// CheckCSRF reports whether given is the session's CSRF token. A session
// without a token accepts nothing.
func (s *Sessions) CheckCSRF(ctx context.Context, given string) bool {
	want := s.GetString(ctx, sessCSRF)
	return want != "" && subtle.ConstantTimeCompare([]byte(want), []byte(given)) == 1
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// sessionStore keeps scs sessions in the sessions table.
type sessionStore struct {
	st    *store.Store
	codec scs.Codec
}

func (s *sessionStore) FindCtx(ctx context.Context, token string) ([]byte, bool, error) {
	return s.st.FindSession(ctx, token)
}

func (s *sessionStore) CommitCtx(ctx context.Context, token string, b []byte, expiry time.Time) error {
	var uid *int64
	if _, values, err := s.codec.Decode(b); err == nil {
		if id, ok := values[sessUserID].(int64); ok && id > 0 {
			uid = &id
		}
	}
	return s.st.SaveSession(ctx, token, b, expiry, uid)
}

func (s *sessionStore) DeleteCtx(ctx context.Context, token string) error {
	return s.st.DeleteSession(ctx, token)
}

func (s *sessionStore) Find(token string) ([]byte, bool, error) {
	return s.FindCtx(context.Background(), token)
}

func (s *sessionStore) Commit(token string, b []byte, expiry time.Time) error {
	return s.CommitCtx(context.Background(), token, b, expiry)
}

func (s *sessionStore) Delete(token string) error { return s.DeleteCtx(context.Background(), token) }

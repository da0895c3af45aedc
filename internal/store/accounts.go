package store

import "time"

// Token purposes.
const (
	TokenVerify = "verify" // proves a new account's email
	TokenEmail  = "email"  // proves the new address of an email change
	TokenReset  = "reset"  // sets a new password
)

// UserToken is a single-use token mailed to a user; only its hash is kept.
type UserToken struct {
	ID        int64
	UserID    int64
	Purpose   string
	TokenHash string
	Email     string // the address the token proves (verify, email)
	ExpiresAt time.Time
	UsedAt    *time.Time
	CreatedAt time.Time
}

// AuthAttempt is one counted attempt for a rate limit; KeyHash is an HMAC
// of the client address or account, never the value itself.
type AuthAttempt struct {
	ID        int64
	Bucket    string
	KeyHash   string
	CreatedAt time.Time
}

// Mail statuses.
const (
	MailSent   = "sent"   // handed to the SMTP server; the body is not kept
	MailLogged = "logged" // no SMTP server configured: logged and kept here
)

// Mail is an outgoing message whose job finished.
type Mail struct {
	ID         int64
	JobID      *int64
	Kind       string
	Recipients string
	Subject    string
	Body       string
	Status     string
	CreatedAt  time.Time
}

// LayerChange is one entry of a layer's change history.
type LayerChange struct {
	ID        int64
	LayerID   *int64
	LayerName string
	UserID    *int64
	UserEmail string
	Action    string
	Details   string
	CreatedAt time.Time
}

// Package mail renders the site's plain-text emails from templates/email
// and sends them over SMTP with go-mail. Mail is never sent from a request:
// handlers render a Message and insert a River job (jobs.EnqueueMail) in
// the transaction of the change that causes it; the job's worker sends it.
package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one email.
type Message struct {
	Kind    string   // template name, for logs and the outbox
	To      []string // recipients
	Subject string
	Body    string // plain text
}

// Config is the SMTP setup (from internal/config).
type Config struct {
	Host     string // empty: no SMTP; mail is logged and kept in the outbox
	Port     int
	TLS      string // none, starttls (required) or tls (implicit)
	User     string // empty: no authentication
	Password string
	From     string
	// TLSConfig overrides the TLS settings (tests with a private CA).
	TLSConfig *tls.Config
}

// Sender delivers a message; id becomes its Message-ID, so a message sent
// twice after a crash can be recognised as one.
type Sender interface {
	Send(ctx context.Context, id string, m Message) error
}

// SMTP sends through an SMTP server, one connection per message (mail is
// rare here: submissions, reviews, account links).
type SMTP struct {
	cfg  Config
	opts []gomail.Option
}

// NewSMTP checks cfg and returns a sender.
func NewSMTP(cfg Config) (*SMTP, error) {
	if cfg.Host == "" {
		return nil, errors.New("no SMTP host")
	}
	if cfg.From == "" {
		return nil, errors.New("no sender address")
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(30 * time.Second)}
	switch cfg.TLS {
	case "none":
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case "starttls", "":
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case "tls":
		opts = append(opts, gomail.WithSSL())
	default:
		return nil, fmt.Errorf("unknown SMTP TLS mode %q", cfg.TLS)
	}
	if cfg.TLSConfig != nil {
		opts = append(opts, gomail.WithTLSConfig(cfg.TLSConfig))
	}
	if cfg.User != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.User), gomail.WithPassword(cfg.Password))
	}
	return &SMTP{cfg: cfg, opts: opts}, nil
}

// Send delivers m. An error the server gave as permanent (5xx) is wrapped
// in Permanent: retrying cannot help.
func (s *SMTP) Send(ctx context.Context, id string, m Message) error {
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := msg.From(s.cfg.From); err != nil {
		return &Permanent{fmt.Errorf("sender %q: %w", s.cfg.From, err)}
	}
	if err := msg.To(m.To...); err != nil {
		return &Permanent{fmt.Errorf("recipients: %w", err)}
	}
	msg.Subject(m.Subject)
	msg.SetMessageIDWithValue(id)
	msg.SetDate()
	msg.SetBodyString(gomail.TypeTextPlain, m.Body)
	c, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return err
	}
	err = c.DialAndSendWithContext(ctx, msg)
	var se *gomail.SendError
	if errors.As(err, &se) && !se.IsTemp() && se.ErrorCode() >= 500 {
		return &Permanent{err}
	}
	return err
}

// Permanent marks a delivery failure that retrying cannot fix.
type Permanent struct{ Err error }

func (p *Permanent) Error() string { return p.Err.Error() }
func (p *Permanent) Unwrap() error { return p.Err }

// MessageID builds a stable Message-ID from a job's id and the sender's
// domain.
func MessageID(jobID int64, from string) string {
	domain := "localhost"
	if i := strings.LastIndexByte(from, '@'); i >= 0 && i < len(from)-1 {
		domain = strings.Trim(from[i+1:], "<> ")
	}
	return fmt.Sprintf("layerindex-job-%d@%s", jobID, domain)
}

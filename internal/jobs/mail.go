package jobs

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"layerindex/internal/mail"
	"layerindex/internal/metrics"
	"layerindex/internal/store"
)

// MailOptions configures the mail worker.
type MailOptions struct {
	// Sender delivers mail; nil logs each message and keeps it in the
	// outbox table for administrators (the embedded default).
	Sender mail.Sender
	// Sealer opens message bodies (sealed by EnqueueMail with the same
	// secret key).
	Sealer *mail.Sealer
	// From is the sender address, for Message-IDs.
	From string
}

// MailArgs is one email waiting to be sent. The body is sealed: it may
// carry a single-use link.
type MailArgs struct {
	MailKind string   `json:"mail_kind"`
	To       []string `json:"to"`
	Subject  string   `json:"subject"`
	Body     string   `json:"body"`
}

// Kind names the job in River.
func (MailArgs) Kind() string { return "send_mail" }

// InsertOpts: River's default queue (apart from ingestion, so a long
// update never delays a mail) and River's 25 attempts with exponential
// backoff, about three weeks: an SMTP outage delays mail, never loses it.
func (MailArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: river.QueueDefault, MaxAttempts: 25}
}

// EnqueueMail inserts m as a mail job in tx: it is sent only if the
// transaction commits.
func EnqueueMail(tx *Tx, sealer *mail.Sealer, m mail.Message) error {
	if sealer == nil {
		return errors.New("mail: no sealer configured")
	}
	if len(m.To) == 0 {
		return nil
	}
	_, err := tx.Enqueue(MailArgs{MailKind: m.Kind, To: m.To, Subject: m.Subject, Body: sealer.Seal(m.Body)}, nil)
	return err
}

type mailWorker struct {
	river.WorkerDefaults[MailArgs]
	st   *store.Store
	opts MailOptions
	log  *slog.Logger
}

func (w *mailWorker) Timeout(*river.Job[MailArgs]) time.Duration { return time.Minute }

// Work sends the mail once: a job whose mail is already recorded (it was
// sent, then the worker stopped before River stored the job's completion)
// does nothing. Delivery and record cannot be one transaction with an SMTP
// server; a crash between them resends, with the same Message-ID.
func (w *mailWorker) Work(ctx context.Context, job *river.Job[MailArgs]) error {
	if _, err := w.st.MailForJob(ctx, job.ID); err == nil {
		return nil
	} else if !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if w.opts.Sealer == nil {
		return errors.New("mail worker has no secret key to open mail with")
	}
	body, err := w.opts.Sealer.Open(job.Args.Body)
	if err != nil {
		return err // another process may hold the right key; retried
	}
	m := mail.Message{Kind: job.Args.MailKind, To: job.Args.To, Subject: job.Args.Subject, Body: body}
	rec := &store.Mail{JobID: &job.ID, Kind: m.Kind, Recipients: strings.Join(m.To, ", "), Subject: m.Subject}
	if w.opts.Sender == nil {
		w.log.InfoContext(ctx, "mail (no SMTP server configured; kept in the outbox)", "kind", m.Kind, "to", rec.Recipients,
			"subject", m.Subject, "body", body)
		rec.Status, rec.Body = store.MailLogged, body
	} else {
		err := w.opts.Sender.Send(ctx, mail.MessageID(job.ID, w.opts.From), m)
		metrics.Mail(err)
		var perm *mail.Permanent
		if errors.As(err, &perm) {
			w.log.WarnContext(ctx, "mail refused by the SMTP server", "kind", m.Kind, "to", rec.Recipients, "err", err)
			return river.JobCancel(err)
		}
		if err != nil {
			return err
		}
		rec.Status = store.MailSent
		w.log.InfoContext(ctx, "mail sent", "kind", m.Kind, "to", rec.Recipients, "job", job.ID)
	}
	if err := w.st.RecordMail(ctx, rec); err != nil && !errors.Is(err, store.ErrConflict) {
		return err
	}
	return nil
}

// PurgeAccountsArgs clears expired sessions and tokens, old rate-limit
// counts and old mail records.
type PurgeAccountsArgs struct{}

// Kind names the job in River.
func (PurgeAccountsArgs) Kind() string { return "purge_accounts" }

// InsertOpts: one pending purge is enough.
func (PurgeAccountsArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 3, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

// How long account records are kept.
const (
	keepExpiredTokens = 7 * 24 * time.Hour
	keepAttempts      = 48 * time.Hour // longer than any rate-limit window
	keepMails         = 90 * 24 * time.Hour
)

type purgeAccountsWorker struct {
	river.WorkerDefaults[PurgeAccountsArgs]
	st  *store.Store
	log *slog.Logger
}

func (w *purgeAccountsWorker) Work(ctx context.Context, job *river.Job[PurgeAccountsArgs]) error {
	now := time.Now().UTC()
	s, err := w.st.PurgeSessions(ctx)
	if err != nil {
		return err
	}
	t, err := w.st.PurgeTokens(ctx, now.Add(-keepExpiredTokens))
	if err != nil {
		return err
	}
	a, err := w.st.PurgeAttempts(ctx, now.Add(-keepAttempts))
	if err != nil {
		return err
	}
	m, err := w.st.PurgeMails(ctx, now.Add(-keepMails))
	if err != nil {
		return err
	}
	w.log.DebugContext(ctx, "purged account records", "sessions", s, "tokens", t, "attempts", a, "mails", m)
	return nil
}

// addAccountWorkers registers the mail and account-housekeeping workers.
func addAccountWorkers(workers *river.Workers, st *store.Store, opts MailOptions, log *slog.Logger) {
	river.AddWorker(workers, &mailWorker{st: st, opts: opts, log: log})
	river.AddWorker(workers, &purgeAccountsWorker{st: st, log: log})
}

// accountPeriodicJobs is the housekeeping schedule.
func accountPeriodicJobs() []*river.PeriodicJob {
	return []*river.PeriodicJob{
		river.NewPeriodicJob(river.PeriodicInterval(time.Hour),
			func() (river.JobArgs, *river.InsertOpts) { return PurgeAccountsArgs{}, nil },
			&river.PeriodicJobOpts{ID: "purge_accounts", RunOnStart: true}),
	}
}

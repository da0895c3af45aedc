package jobs_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/mail"
	"layerindex/internal/mail/mailtest"
	"layerindex/internal/store"
)

const testSecret = "0123456789abcdef0123456789abcdef"

func mailQueue(t *testing.T, conn *db.DB, sender mail.Sender) (*jobs.Queue, *mail.Sealer) {
	t.Helper()
	sealer, err := mail.NewSealer(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	q, err := jobs.New(context.Background(), conn, jobs.Options{Work: true, MaxWorkers: 2, PollInterval: 50 * time.Millisecond,
		Mail: jobs.MailOptions{Sender: sender, Sealer: sealer, From: "index@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	return q, sealer
}

func sinkSender(t *testing.T, sink *mailtest.Sink, user string) mail.Sender {
	t.Helper()
	mode := "none"
	if sink.ClientTLS != nil {
		mode = "starttls"
	}
	s, err := mail.NewSMTP(mail.Config{Host: sink.Host(), Port: sink.Port(), TLS: mode, User: user, Password: "pw",
		From: "index@example.org", TLSConfig: sink.ClientTLS})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// waitEvent waits for a job event of one of kinds for job id.
func waitEvent(t *testing.T, events <-chan *river.Event, id int64, kinds ...river.EventKind) *river.Event {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev := <-events:
			if ev.Job.ID != id {
				continue
			}
			for _, k := range kinds {
				if ev.Kind == k {
					return ev
				}
			}
		case <-timeout:
			t.Fatalf("job %d: no %v event in time", id, kinds)
		}
	}
}

// TestMailThroughSMTPOutage: mail is inserted with the change that causes
// it; while the SMTP server is down the job fails and is retried with
// backoff; when the server is back the mail is delivered, once, and a rerun
// of the same job sends nothing. A rolled-back transaction sends nothing.
func TestMailThroughSMTPOutage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		sink := mailtest.Start(t)
		sink.Stop() // the SMTP server is down
		q, sealer := mailQueue(t, conn, sinkSender(t, sink, ""))
		link := "https://layers.example.org/accounts/reset/secret-token-123/"

		var jobID int64
		err := q.InTx(ctx, func(tx *jobs.Tx) error {
			if err := tx.CreateBranch(ctx, &store.Branch{Name: "committed", UpdatesEnabled: true}); err != nil {
				return err
			}
			if err := jobs.EnqueueMail(tx, sealer, mail.Message{Kind: "reset", To: []string{"ann@example.org"},
				Subject: "Reset your password", Body: "Open " + link + "\n"}); err != nil {
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("rolled back")
		err = q.InTx(ctx, func(tx *jobs.Tx) error {
			tx.CreateBranch(ctx, &store.Branch{Name: "rolled-back"})
			if err := jobs.EnqueueMail(tx, sealer, mail.Message{Kind: "x", To: []string{"bob@example.org"}, Subject: "Never sent", Body: "no"}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		var rows []struct {
			ID   int64
			Args string
		}
		conn.Gorm.Raw("SELECT id, CAST(args AS TEXT) AS args FROM river_job WHERE kind = 'send_mail'").Scan(&rows)
		if len(rows) != 1 {
			t.Fatalf("%d mail jobs stored, want 1 (the rolled-back one must not exist)", len(rows))
		}
		jobID = rows[0].ID
		if strings.Contains(rows[0].Args, "secret-token-123") {
			t.Errorf("the mail body is readable in the job table: %s", rows[0].Args)
		}

		events, cancel := q.Client().Subscribe(river.EventKindJobFailed, river.EventKindJobCompleted, river.EventKindJobCancelled)
		defer cancel()
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())

		ev := waitEvent(t, events, jobID, river.EventKindJobFailed, river.EventKindJobCompleted)
		if ev.Kind != river.EventKindJobFailed || len(ev.Job.Errors) != 1 ||
			(ev.Job.State != rivertype.JobStateRetryable && ev.Job.State != rivertype.JobStateAvailable) {
			t.Fatalf("with the SMTP server down: %s, state %s, %d errors; want a failed attempt to be retried", ev.Kind, ev.Job.State, len(ev.Job.Errors))
		}
		if ev.Job.MaxAttempts != 25 {
			t.Errorf("mail job max attempts %d, want 25", ev.Job.MaxAttempts)
		}
		var n int64
		conn.Gorm.Model(&store.Mail{}).Count(&n)
		if n != 0 || len(sink.Messages()) != 0 {
			t.Fatalf("mail recorded (%d) or received (%d) while the server was down", n, len(sink.Messages()))
		}

		sink.Restart(t) // back; River retries after its backoff (about a second for the first retry)
		m := sink.Wait(t, 20*time.Second, "after the SMTP server came back", mailtest.To("ann@example.org", "Reset your password"))
		if !strings.Contains(m.Body, link) || m.From != "index@example.org" {
			t.Errorf("delivered mail: user %q from %q body %q", m.User, m.From, m.Body)
		}
		if m.MessageID != mail.MessageID(jobID, "index@example.org") {
			t.Errorf("Message-ID %q, want one derived from the job", m.MessageID)
		}
		waitEvent(t, events, jobID, river.EventKindJobCompleted)
		var rec store.Mail
		if err := conn.Gorm.Where("job_id = ?", jobID).Take(&rec).Error; err != nil || rec.Status != store.MailSent || rec.Body != "" {
			t.Fatalf("outbox record: %+v %v (sent mail keeps no body)", rec, err)
		}

		// Running the same job again (as after a crash between delivery and
		// River storing the completion) sends nothing.
		if _, err := q.Client().JobRetry(ctx, jobID); err != nil {
			t.Fatal(err)
		}
		waitEvent(t, events, jobID, river.EventKindJobCompleted)
		if got := len(sink.Messages()); got != 1 {
			t.Fatalf("%d messages received, want exactly 1", got)
		}
	})
}

// TestMailWithoutSMTP: the embedded default logs mail and keeps it, body
// included, in the outbox for administrators.
func TestMailWithoutSMTP(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		q, sealer := mailQueue(t, conn, nil)
		events, cancel := q.Client().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()
		var id int64
		err := q.InTx(ctx, func(tx *jobs.Tx) error {
			res, err := tx.Enqueue(jobs.MailArgs{MailKind: "verify", To: []string{"a@example.org", "b@example.org"},
				Subject: "Confirm", Body: sealer.Seal("Open https://x.example/verify/abc/")}, nil)
			if err == nil {
				id = res.Job.ID
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())
		waitEvent(t, events, id, river.EventKindJobCompleted)
		paged, err := store.New(conn.Gorm).Mails(ctx, store.Page{Number: 1, Size: 10})
		ms, n := paged.Items, paged.Total
		if err != nil || n != 1 {
			t.Fatalf("outbox: %d %v", n, err)
		}
		if m := ms[0]; m.Status != store.MailLogged || m.Recipients != "a@example.org, b@example.org" ||
			!strings.Contains(m.Body, "https://x.example/verify/abc/") || m.JobID == nil || *m.JobID != id {
			t.Errorf("outbox entry %+v", m)
		}
	})
}

// TestMailRefusedPermanently: a 5xx from the server cancels the job
// instead of retrying it for weeks.
func TestMailRefusedPermanently(t *testing.T) {
	ctx := context.Background()
	conn := dbtest.Migrated(t, db.SQLite)
	sink := mailtest.Start(t)
	sink.Reject = func(string) error {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
	}
	q, sealer := mailQueue(t, conn, sinkSender(t, sink, ""))
	events, cancel := q.Client().Subscribe(river.EventKindJobCancelled, river.EventKindJobFailed, river.EventKindJobCompleted)
	defer cancel()
	var id int64
	q.InTx(ctx, func(tx *jobs.Tx) error {
		res, err := tx.Enqueue(jobs.MailArgs{MailKind: "x", To: []string{"gone@example.org"}, Subject: "s", Body: sealer.Seal("b")}, nil)
		if err == nil {
			id = res.Job.ID
		}
		return err
	})
	if err := q.Start(ctx); err != nil {
		t.Fatal(err)
	}
	defer q.Stop(context.Background())
	if ev := waitEvent(t, events, id, river.EventKindJobCancelled, river.EventKindJobFailed, river.EventKindJobCompleted); ev.Kind != river.EventKindJobCancelled {
		t.Fatalf("a refused recipient: %s (%s), want cancelled", ev.Kind, ev.Job.State)
	}
}

// TestMailSTARTTLSAuth: the production default (STARTTLS required, then
// authentication) delivers; a server without STARTTLS is refused rather
// than sent a password in clear.
func TestMailSTARTTLSAuth(t *testing.T) {
	ctx := context.Background()
	sink := mailtest.StartTLS(t)
	if err := sinkSender(t, sink, "mailer").Send(ctx, "id-1@example.org", mail.Message{To: []string{"a@example.org"}, Subject: "hi", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	if m := sink.Wait(t, 5*time.Second, "over STARTTLS", mailtest.To("a@example.org", "hi")); m.User != "mailer" {
		t.Errorf("authenticated as %q", m.User)
	}
	plain := mailtest.Start(t)
	s, err := mail.NewSMTP(mail.Config{Host: plain.Host(), Port: plain.Port(), TLS: "starttls", User: "mailer", Password: "pw", From: "index@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(ctx, "id-2@example.org", mail.Message{To: []string{"a@example.org"}, Subject: "hi", Body: "x"}); err == nil {
		t.Fatal("sent to a server without STARTTLS although TLS is required")
	}
	if n := len(plain.Messages()); n != 0 {
		t.Fatalf("%d messages reached the server without TLS", n)
	}
}

// BenchmarkMailDelivery is the time from committing a mail job to its
// delivery by SMTP (in-process server), with the jobs worked by the default
// queue's workers:
//
//	go test ./internal/jobs -run '^$' -bench MailDelivery -benchtime 200x
func BenchmarkMailDelivery(b *testing.B) {
	ctx := context.Background()
	conn := dbtest.Migrated(b, db.SQLite)
	sink := mailtest.Start(b)
	s, err := mail.NewSMTP(mail.Config{Host: sink.Host(), Port: sink.Port(), TLS: "none", From: "index@example.org"})
	if err != nil {
		b.Fatal(err)
	}
	sealer, _ := mail.NewSealer(testSecret)
	q, err := jobs.New(ctx, conn, jobs.Options{Work: true, MaxWorkers: 4, PollInterval: 20 * time.Millisecond,
		Mail: jobs.MailOptions{Sender: s, Sealer: sealer, From: "index@example.org"}})
	if err != nil {
		b.Fatal(err)
	}
	if err := q.Start(ctx); err != nil {
		b.Fatal(err)
	}
	defer q.Stop(context.Background())
	b.ResetTimer()
	for b.Loop() {
		if err := q.InTx(ctx, func(tx *jobs.Tx) error {
			return jobs.EnqueueMail(tx, sealer, mail.Message{Kind: "b", To: []string{"a@example.org"}, Subject: "s", Body: "body"})
		}); err != nil {
			b.Fatal(err)
		}
	}
	want := b.N
	deadline := time.Now().Add(time.Minute)
	for len(sink.Messages()) < want {
		if time.Now().After(deadline) {
			b.Fatalf("%d of %d delivered", len(sink.Messages()), want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

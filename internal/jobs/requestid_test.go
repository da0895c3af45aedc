package jobs_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/logtest"
	"layerindex/internal/mail"
	"layerindex/internal/requestid"
)

// TestJobsCarryRequestID: a job queued with a request's context is worked
// with it, wherever, so the worker's lines about it carry the id the person
// was shown; a job queued outside a request, or whose metadata holds
// something that is not an id, is worked without one.
func TestJobsCarryRequestID(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		sealer, err := mail.NewSealer(testSecret)
		if err != nil {
			t.Fatal(err)
		}
		var logs logtest.Buffer
		log := requestid.Logger(slog.New(slog.NewTextHandler(&logs, nil)))
		q, err := jobs.New(ctx, conn, jobs.Options{Work: true, MaxWorkers: 2, PollInterval: 50 * time.Millisecond, Logger: log,
			Mail: jobs.MailOptions{Sealer: sealer, From: "index@example.org"}})
		if err != nil {
			t.Fatal(err)
		}
		events, cancel := q.Client().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer cancel()

		insert := func(ctx context.Context, subject string, opts *river.InsertOpts) int64 {
			t.Helper()
			res, err := q.Enqueue(ctx, jobs.MailArgs{MailKind: "verify", To: []string{"a@example.org"},
				Subject: subject, Body: sealer.Seal("body")}, opts)
			if err != nil {
				t.Fatal(err)
			}
			return res.Job.ID
		}
		const id = "req-4f2a9c17e0"
		ids := []int64{
			insert(requestid.With(ctx, id), "from-a-request", nil),
			insert(ctx, "from-no-request", nil),
			insert(ctx, "with-a-bad-id", &river.InsertOpts{Metadata: []byte(`{"request_id":"x y\nlevel=ERROR"}`)}),
			insert(requestid.With(ctx, id), "keeps-its-metadata", &river.InsertOpts{Metadata: []byte(`{"note":"kept"}`)}),
		}
		job, err := q.Client().JobGet(ctx, ids[3])
		if err != nil {
			t.Fatal(err)
		}
		var md map[string]string
		if err := json.Unmarshal(job.Metadata, &md); err != nil || md["note"] != "kept" || md["request_id"] != id {
			t.Errorf("metadata of a job queued with its own: %s (%v)", job.Metadata, err)
		}

		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())
		done := map[int64]bool{}
		timeout := time.After(20 * time.Second)
		for len(done) < len(ids) {
			select {
			case ev := <-events:
				if ev.Kind != river.EventKindJobCompleted {
					t.Fatalf("job %d: %s %v", ev.Job.ID, ev.Kind, ev.Job.Errors)
				}
				done[ev.Job.ID] = true
			case <-timeout:
				t.Fatalf("jobs completed: %v of %v", done, ids)
			}
		}
		want := map[string]bool{"from-a-request": true, "from-no-request": false, "with-a-bad-id": false, "keeps-its-metadata": true}
		seen := 0
		for _, l := range strings.Split(logs.String(), "\n") {
			for subject, carries := range want {
				if !strings.Contains(l, "subject="+subject) {
					continue
				}
				seen++
				if got := strings.Contains(l, "request_id="+id); got != carries {
					t.Errorf("%s: carries the request id %v, want %v:\n%s", subject, got, carries, l)
				}
				if strings.Contains(l, "request_id=") != carries {
					t.Errorf("%s: a request id where none belongs:\n%s", subject, l)
				}
			}
		}
		if seen != len(want) {
			t.Errorf("%d of %d jobs' lines found in:\n%s", seen, len(want), logs.String())
		}
	})
}

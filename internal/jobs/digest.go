package jobs

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// AdminDigestArgs asks for the administrators' weekly digest of broken and
// stale layers (internal/catalog decides what goes in it).
type AdminDigestArgs struct{}

// Kind names the job in River.
func (AdminDigestArgs) Kind() string { return "admin_digest" }

// InsertOpts: one pending digest is enough.
func (AdminDigestArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{MaxAttempts: 5, UniqueOpts: river.UniqueOpts{ByArgs: true, ByState: pendingStates}}
}

type adminDigestWorker struct {
	river.WorkerDefaults[AdminDigestArgs]
	q *Queue
}

func (w *adminDigestWorker) Timeout(*river.Job[AdminDigestArgs]) time.Duration { return time.Minute }

func (w *adminDigestWorker) Work(ctx context.Context, job *river.Job[AdminDigestArgs]) error {
	if w.q.handler == nil {
		return nil
	}
	return w.q.handler.AdminDigest(ctx)
}

// Weekly is the digest's schedule: Mondays at 06:00 UTC. A fixed time of
// the week, not an interval from when a process started: processes that
// restart more often than weekly would otherwise never send it.
type Weekly struct{}

// Next is the first Monday 06:00 UTC after t.
func (Weekly) Next(t time.Time) time.Time {
	t = t.UTC()
	next := time.Date(t.Year(), t.Month(), t.Day(), 6, 0, 0, 0, time.UTC)
	next = next.AddDate(0, 0, (int(time.Monday)-int(next.Weekday())+7)%7)
	if !next.After(t) {
		next = next.AddDate(0, 0, 7)
	}
	return next
}

package jobs_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

func newQueue(t *testing.T, conn *db.DB, work bool) *jobs.Queue {
	t.Helper()
	q, err := jobs.New(context.Background(), conn, jobs.Options{Work: work, MaxWorkers: 2, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return q
}

func counts(t *testing.T, conn *db.DB) (branches, jobsN int64) {
	t.Helper()
	if err := conn.Gorm.Table("branches").Count(&branches).Error; err != nil {
		t.Fatal(err)
	}
	if err := conn.Gorm.Table("river_job").Count(&jobsN).Error; err != nil {
		t.Fatal(err)
	}
	return
}

// TestInTxCommitsOrRollsBackTogether is the transactional outbox: a row and
// the job inserted beside it commit together or not at all.
func TestInTxCommitsOrRollsBackTogether(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx := context.Background()
		conn := dbtest.Migrated(t, d)
		q := newQueue(t, conn, false)

		write := func(tx *jobs.Tx, name string) {
			t.Helper()
			if err := tx.GORM().Create(&store.Branch{Name: name, UpdatesEnabled: true}).Error; err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Enqueue(jobs.PurgeUpdatesArgs{}, nil); err != nil {
				t.Fatal(err)
			}
		}

		boom := errors.New("boom")
		err := q.InTx(ctx, func(tx *jobs.Tx) error { write(tx, "rolled-back"); return boom })
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want the callback's error", err)
		}
		if b, j := counts(t, conn); b != 0 || j != 0 {
			t.Fatalf("after an error: %d branches, %d jobs; want none", b, j)
		}

		func() {
			defer func() {
				if recover() == nil {
					t.Fatal("panic was swallowed")
				}
			}()
			q.InTx(ctx, func(tx *jobs.Tx) error { write(tx, "panicked"); panic("crash mid-transaction") })
		}()
		if b, j := counts(t, conn); b != 0 || j != 0 {
			t.Fatalf("after a panic: %d branches, %d jobs; want none", b, j)
		}

		if err := q.InTx(ctx, func(tx *jobs.Tx) error { write(tx, "master"); return nil }); err != nil {
			t.Fatal(err)
		}
		if b, j := counts(t, conn); b != 1 || j != 1 {
			t.Fatalf("after commit: %d branches, %d jobs; want 1 and 1", b, j)
		}
	})
}

// TestPurgeJobWorked runs the housekeeping job through a working client.
func TestPurgeJobWorked(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn := dbtest.Migrated(t, d)
		q := newQueue(t, conn, true)
		events, stop := q.Client().Subscribe(river.EventKindJobCompleted, river.EventKindJobFailed)
		defer stop()
		// Inserted before the client starts: the purge it queues on start
		// is unique per hour, finished ones included, and would make this
		// insert a skipped duplicate.
		var jobID int64
		err := q.InTx(ctx, func(tx *jobs.Tx) error {
			if err := tx.CreateUpdate(ctx, &store.Update{StartedAt: time.Now().Add(-90 * 24 * time.Hour)}); err != nil {
				return err
			}
			res, err := tx.Enqueue(jobs.PurgeUpdatesArgs{}, nil)
			if err != nil {
				return err
			}
			jobID = res.Job.ID
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())

		for {
			select {
			case ev := <-events:
				if ev.Job.ID != jobID {
					continue
				}
				if ev.Kind != river.EventKindJobCompleted {
					t.Fatalf("job ended as %s: %v", ev.Kind, ev.Job.Errors)
				}
				var n int64
				conn.Gorm.Table("updates").Count(&n)
				if n != 0 {
					t.Fatalf("%d old update runs left after the purge", n)
				}
				return
			case <-ctx.Done():
				t.Fatal("job not worked within 30 s")
			}
		}
	})
}

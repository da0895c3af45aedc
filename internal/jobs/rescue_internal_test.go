package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
)

// TestRescueFitsIngestion is issue 11 #5: a job whose process died (killed
// during an update) stayed "running" for River's default hour. The rescue
// time must exceed every job's timeout, so a live job is never taken from
// its worker, and be far below an hour.
func TestRescueFitsIngestion(t *testing.T) {
	timeouts := map[string]time.Duration{
		"update_run":      (&updateRunWorker{}).Timeout(nil),
		"discover":        (&discoverWorker{}).Timeout(nil),
		"validate_layer":  (&validateLayerWorker{}).Timeout(nil),
		"sweep_runs":      (&sweepRunsWorker{}).Timeout(nil),
		"send_mail":       (&mailWorker{}).Timeout(nil),
		"purge_updates":   (&purgeUpdatesWorker{}).Timeout(nil),
		"default (River)": jobTimeout,
	}
	for kind, d := range timeouts {
		if d <= 0 || d >= rescueAfter {
			t.Errorf("%s: timeout %v, rescue after %v: a job still working would be rescued", kind, d, rescueAfter)
		}
	}
	if rescueAfter > 30*time.Minute {
		t.Errorf("rescue after %v: a dead worker's job waits too long", rescueAfter)
	}
}

// TestStuckJobRescued: a job left "running" by a dead process longer than
// the rescue time is taken back by a working client; one running for less
// (within the ingestion timeout) is left to its worker.
func TestStuckJobRescued(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		conn := dbtest.Migrated(t, d)
		ins, err := New(ctx, conn, Options{})
		if err != nil {
			t.Fatal(err)
		}
		stuck := func(layerID int64, age time.Duration) int64 {
			t.Helper()
			res, err := ins.Enqueue(ctx, ValidateLayerArgs{LayerID: layerID}, nil)
			if err != nil {
				t.Fatal(err)
			}
			at := time.Now().Add(-age)
			_, err = ins.Client().Driver().GetExecutor().JobUpdateFull(ctx, &riverdriver.JobUpdateFullParams{ID: res.Job.ID,
				StateDoUpdate: true, State: rivertype.JobStateRunning, AttemptDoUpdate: true, Attempt: 1,
				AttemptedAtDoUpdate: true, AttemptedAt: &at, AttemptedByDoUpdate: true, AttemptedBy: []string{"dead-worker"}})
			if err != nil {
				t.Fatal(err)
			}
			return res.Job.ID
		}
		dead := stuck(1, rescueAfter+time.Minute)
		live := stuck(2, IngestTimeout-time.Minute)

		q, err := New(ctx, conn, Options{Work: true, MaxWorkers: 2, PollInterval: 50 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		if err := q.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer q.Stop(context.Background())
		state := func(id int64) rivertype.JobState {
			j, err := q.Client().JobGet(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			return j.State
		}
		start := time.Now()
		for state(dead) == rivertype.JobStateRunning {
			if ctx.Err() != nil {
				t.Fatalf("the dead worker's job is still running after %v", time.Since(start))
			}
			time.Sleep(200 * time.Millisecond)
		}
		t.Logf("rescued after %v", time.Since(start).Round(time.Millisecond))
		if s := state(live); s != rivertype.JobStateRunning {
			t.Errorf("a job running for %v was taken from its worker: %s", IngestTimeout-time.Minute, s)
		}
	})
}

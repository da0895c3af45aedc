package jobs_test

import (
	"context"
	"testing"

	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/jobs"
)

// TestRescueDeadJobs: a job left running by a process that died (its
// liveness lock is free) is given back to River at once, long before its
// timeout; a job of a live process (lock held) and one of a client this
// application did not start are left alone. The crash-safety suite in
// cmd/layerindex checks the same with real processes killed by SIGKILL.
func TestRescueDeadJobs(t *testing.T) {
	ctx := context.Background()
	conn := dbtest.Migrated(t, db.Postgres)
	q := newQueue(t, conn, false)
	release, ok, err := conn.TryLock(ctx, "river-client", 778) // a live process
	if err != nil || !ok {
		t.Fatalf("lock: %v %v", ok, err)
	}
	defer release()
	ids := map[string]int64{}
	for _, client := range []string{"layerindex_777_dead", "layerindex_778_alive", "someone-else"} {
		res, err := q.Enqueue(ctx, jobs.MailArgs{MailKind: "test", To: []string{client + "@example.org"}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids[client] = res.Job.ID
		if err := conn.Gorm.Exec(`UPDATE river_job SET state = 'running', attempt = 1, attempted_at = now() - interval '1 minute',
			attempted_by = ARRAY[?] WHERE id = ?`, client, res.Job.ID).Error; err != nil {
			t.Fatal(err)
		}
	}
	n, err := q.RescueDeadJobs(ctx, 0)
	if err != nil || n != 1 {
		t.Fatalf("rescued %d (%v), want the dead process's job", n, err)
	}
	for client, want := range map[string]string{"layerindex_777_dead": "retryable", "layerindex_778_alive": "running", "someone-else": "running"} {
		var state string
		conn.Gorm.Raw("SELECT state FROM river_job WHERE id = ?", ids[client]).Scan(&state)
		if state != want {
			t.Errorf("job of %s: %s, want %s", client, state, want)
		}
	}
}

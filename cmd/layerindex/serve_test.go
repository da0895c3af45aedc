package main

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/db"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// TestServeSQLite starts `layerindex serve` with an empty data directory and
// no configuration, as a newcomer would, and checks the page, the health
// endpoints, a job worked by the embedded worker and a clean SIGTERM.
func TestServeSQLite(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	p, base := serving(t, []string{"LAYERINDEX_DATA_DIR=" + dataDir})
	p.waitLog(`no administrator yet`, 5*time.Second)

	if code, body, _ := get(t, base+"/healthz"); code != 200 || !strings.Contains(body, "ok") {
		t.Fatalf("/healthz: %d %s", code, body)
	}
	if code, body, _ := get(t, base+"/readyz"); code != 200 || !strings.Contains(body, "ready") {
		t.Fatalf("/readyz: %d %s", code, body)
	}
	code, body, hdr := get(t, base+"/")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("/: %d %s", code, hdr.Get("Content-Type"))
	}
	for _, want := range []string{"<h1>Layers</h1>", "The index is empty", "layerindex user create --admin", `href="/static/css/site.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("home page lacks %q", want)
		}
	}
	if code, _, hdr := get(t, base+"/static/css/site.css"); code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/css") {
		t.Errorf("stylesheet: %d %s", code, hdr.Get("Content-Type"))
	}
	if code, body, _ := get(t, base+"/no/such/page"); code != 404 || !strings.Contains(body, "404") {
		t.Errorf("unknown page: %d", code)
	}

	// A job inserted through the transactional helper, from another
	// connection to the same database, is worked by the server's worker.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := db.OpenSQLite(ctx, db.SQLitePath(dataDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// The purge a working process queues on start finishes first (CI met
	// this order): a later purge must still be accepted and worked.
	waitStartPurge(t, ctx, conn)
	jobID := insertPurgeJob(t, ctx, conn)
	waitJobCompleted(t, ctx, conn, jobID)

	if took := p.terminate(10 * time.Second); took > 10*time.Second {
		t.Fatalf("shutdown took %s", took)
	}
	if !strings.Contains(p.output(), `msg=stopped`) {
		t.Error("no clean shutdown log line")
	}
}

// insertPurgeJob writes an old update run and a purge job in one
// transaction and returns the job's id. While the periodic purge a working
// process queues on start is pending, an insert would only find that job
// (purges are unique), which may not see the old run: it waits for it.
func insertPurgeJob(t *testing.T, ctx context.Context, conn *db.DB) int64 {
	t.Helper()
	q, err := jobs.New(ctx, conn, jobs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	errPending := errors.New("a purge is pending")
	// Purges are unique per hour, finished ones included (an empty
	// UniqueOpts keeps the job's own), so once the purge queued on start has
	// run, a plain insert would be skipped for the hour: this one is unique
	// only among purges not yet finished.
	unfinished := river.UniqueOpts{ByState: []rivertype.JobState{
		rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled,
	}}
	for {
		var id int64
		err = q.InTx(ctx, func(tx *jobs.Tx) error {
			if err := tx.CreateUpdate(ctx, &store.Update{StartedAt: time.Now().Add(-400 * 24 * time.Hour)}); err != nil {
				return err
			}
			res, err := tx.Enqueue(jobs.PurgeUpdatesArgs{}, &river.InsertOpts{Tags: []string{"test"}, UniqueOpts: unfinished})
			if err != nil {
				return err
			}
			if res.UniqueSkippedAsDuplicate {
				return errPending
			}
			id = res.Job.ID
			return nil
		})
		if err == nil {
			return id
		}
		if !errors.Is(err, errPending) {
			t.Fatal(err)
		}
		select {
		case <-ctx.Done():
			t.Fatal("a pending purge job never finished")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitStartPurge waits for the purge the server queued on start to be
// completed.
func waitStartPurge(t *testing.T, ctx context.Context, conn *db.DB) {
	t.Helper()
	for {
		var n int64
		if err := conn.Gorm.WithContext(ctx).Raw("SELECT count(*) FROM river_job WHERE kind = 'purge_updates' AND state = 'completed'").Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal("the purge queued on start never completed")
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitJobCompleted polls the job's state and returns the client ids that
// worked it.
func waitJobCompleted(t *testing.T, ctx context.Context, conn *db.DB, id int64) string {
	t.Helper()
	for {
		var row struct {
			State       string
			AttemptedBy string
		}
		if err := conn.Gorm.WithContext(ctx).Raw("SELECT state, CAST(attempted_by AS TEXT) AS attempted_by FROM river_job WHERE id = ?", id).Scan(&row).Error; err != nil {
			t.Fatal(err)
		}
		if row.State == "completed" {
			var left int64
			conn.Gorm.Table("updates").Count(&left)
			if left != 0 {
				t.Fatalf("job completed but %d old update runs remain", left)
			}
			return row.AttemptedBy
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job %d not completed in time (state %q)", id, row.State)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestBadInput checks that each start-up failure is one line naming the
// problem, a non-zero exit, no panic, and nothing created on disk.
func TestBadInput(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	aFile := filepath.Join(t.TempDir(), "plain-file")
	os.WriteFile(aFile, []byte("x"), 0o644)

	cases := []struct {
		name string
		env  []string
		args []string
		code int
		want string
	}{
		{"unknown command", nil, []string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{"unknown flag", nil, []string{"serve", "--no-such-flag"}, 2, "flag provided but not defined: -no-such-flag"},
		{"bad listen address", nil, []string{"serve", "--listen", "nonsense"}, 2, "invalid --listen"},
		{"bad env value", []string{"LAYERINDEX_WORKERS=lots"}, []string{"serve"}, 2, "invalid LAYERINDEX_WORKERS"},
		{"wrong database scheme", []string{"DATABASE_URL=mysql://root@localhost/x"}, []string{"migrate"}, 2, "only postgres:// URLs are supported"},
		{"unreachable database", []string{"DATABASE_URL=postgres://postgres@127.0.0.1:1/nope?connect_timeout=2"}, []string{"migrate"}, 1, "cannot connect to database postgres://postgres@127.0.0.1:1/nope"},
		{"data dir under a file", nil, []string{"migrate", "--data-dir", filepath.Join(aFile, "data")}, 1, "cannot use data directory"},
		{"data dir is a file", nil, []string{"migrate", "--data-dir", aFile}, 1, "is not a directory"},
		{"port in use", nil, []string{"serve", "--listen", busy.Addr().String()}, 1, "address already in use"},
		{"stray argument", nil, []string{"worker", "extra"}, 2, `unexpected argument "extra"`},
		{"user without email", nil, []string{"user", "create"}, 2, "--email must be an email address"},
		{"user without subcommand", nil, []string{"user"}, 2, "expected `layerindex user create"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wd := t.TempDir()
			dataDir := filepath.Join(wd, "data")
			env := append([]string{"LAYERINDEX_DATA_DIR=" + dataDir}, c.env...)
			code, _, stderr := runCmd(t, env, "", c.args...)
			if code != c.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, c.code, stderr)
			}
			lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(stderr, c.want) {
				t.Errorf("stderr should be one line containing %q, got:\n%s", c.want, stderr)
			}
			if strings.Contains(stderr, "goroutine ") || strings.Contains(stderr, "panic") {
				t.Errorf("stack trace in output:\n%s", stderr)
			}
			if _, err := os.Stat(dataDir); err == nil {
				t.Errorf("data directory %s was created by a failed start", dataDir)
			}
		})
	}
}

func TestUserCreateAndVersion(t *testing.T) {
	dataDir := filepath.Join(t.TempDir(), "data")
	env := []string{"LAYERINDEX_DATA_DIR=" + dataDir}
	code, out, stderr := runCmd(t, env, "correct horse battery\n", "user", "create", "--admin", "--email", "Admin@Example.org")
	if code != 0 || !strings.Contains(out, "created administrator Admin@Example.org") {
		t.Fatalf("user create: %d %q %q", code, out, stderr)
	}
	code, _, stderr = runCmd(t, env, "another password\n", "user", "create", "--email", "admin@example.org")
	if code != 1 || !strings.Contains(stderr, "already exists") {
		t.Fatalf("duplicate user: %d %q", code, stderr)
	}
	code, _, stderr = runCmd(t, env, "short\n", "user", "create", "--email", "b@example.org")
	if code != 1 || !strings.Contains(stderr, "at least 8 characters") {
		t.Fatalf("short password: %d %q", code, stderr)
	}

	conn, err := db.OpenSQLite(context.Background(), db.SQLitePath(dataDir), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	u, err := store.New(conn.Gorm).UserByEmail(context.Background(), "admin@example.org")
	if err != nil || !u.IsAdmin || !u.Verified || !strings.HasPrefix(u.PasswordHash, "$argon2id$") {
		t.Fatalf("stored user: %+v %v", u, err)
	}

	code, out, _ = runCmd(t, nil, "", "version")
	if code != 0 || !strings.HasPrefix(out, "layerindex ") {
		t.Fatalf("version: %d %q", code, out)
	}
}

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"layerindex/internal/corpus"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/store"
)

// site is a data directory and a database shared by the processes of a
// test, as a deployment's are.
type site struct {
	t       *testing.T
	dialect db.Dialect
	dbURL   string // PostgreSQL; "" for SQLite in dataDir
	dataDir string
	conn    *db.DB
}

func newSite(t *testing.T, d db.Dialect) *site {
	t.Helper()
	s := &site{t: t, dialect: d, dataDir: filepath.Join(t.TempDir(), "data")}
	if d == db.Postgres {
		s.dbURL = dbtest.PostgresURL(t)
	}
	return s
}

// env is the environment of a process of the site; each process gets its
// own data directory on PostgreSQL (its own repository cache), as separate
// machines would.
func (s *site) env(extra ...string) []string {
	env := []string{"LAYERINDEX_ALLOW_LOCAL_REPOS=1", "LAYERINDEX_SECRET_KEY=" + strings.Repeat("k", 40)}
	if s.dbURL != "" {
		env = append(env, "DATABASE_URL="+s.dbURL, "LAYERINDEX_DATA_DIR="+s.t.TempDir())
	} else {
		env = append(env, "LAYERINDEX_DATA_DIR="+s.dataDir)
	}
	return append(env, extra...)
}

func (s *site) run(args ...string) string {
	s.t.Helper()
	code, out, stderr := runCmd(s.t, s.env(), "", args...)
	if code != 0 {
		s.t.Fatalf("%v: exit %d\n%s\n%s", args, code, lastLines(out, 30), stderr)
	}
	return out
}

// db opens the site's database (after a command has created it).
func (s *site) db() *db.DB {
	s.t.Helper()
	if s.conn != nil {
		return s.conn
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if s.dbURL != "" {
		s.conn, err = db.OpenPostgres(ctx, s.dbURL, nil)
	} else {
		s.conn, err = db.OpenSQLite(ctx, db.SQLitePath(s.dataDir), nil)
	}
	if err != nil {
		s.t.Fatal(err)
	}
	s.t.Cleanup(func() { s.conn.Close() })
	return s.conn
}

func (s *site) runs() []store.LayerUpdate {
	s.t.Helper()
	var lus []store.LayerUpdate
	if err := s.db().Gorm.Order("id").Find(&lus).Error; err != nil {
		s.t.Fatal(err)
	}
	return lus
}

func (s *site) waitRuns(what string, timeout time.Duration, cond func([]store.LayerUpdate) bool) []store.LayerUpdate {
	s.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		rs := s.runs()
		if cond(rs) {
			return rs
		}
		if time.Now().After(deadline) {
			for _, r := range rs {
				s.t.Logf("run %d: %s attempt %d %q\n%s", r.ID, r.Status, r.Attempt, r.Reason, r.Log)
			}
			s.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// recipes lists the index of the site as comparable lines.
func (s *site) recipes() []string {
	s.t.Helper()
	var rs []store.Recipe
	if err := s.db().Gorm.Order("filepath, filename").Find(&rs).Error; err != nil {
		s.t.Fatal(err)
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = fmt.Sprintf("%s/%s %s %s %s %q %s %s", r.Filepath, r.Filename, r.PN, r.PV, r.PR, r.Summary, r.License, r.Inherits)
	}
	sort.Strings(out)
	return out
}

// TestTwoWorkersOneRunAtATime is issue 10 #6 with real processes on
// PostgreSQL: two workers and the command line's `update --wait` all work
// forced and ordinary updates of one layer branch; the runs never overlap,
// and the index is the one a clean run on another site gives.
func TestTwoWorkersOneRunAtATime(t *testing.T) {
	oe := corpus.Bare(t, "openembedded-core")
	s := newSite(t, db.Postgres)
	s.run("branch", "add", "master")
	s.run("layer", "add", "--name", "openembedded-core", "--vcs-url", oe, "--subdir", "meta", "--type", "A", "--publish")

	var workers []*proc
	for range 2 {
		w := start(t, s.env("LAYERINDEX_INGEST_WORKERS=1"), "worker")
		w.waitLog(`msg="layerindex worker is running"`, 60*time.Second)
		workers = append(workers, w)
	}
	s.waitRuns("the forced first run to start", 60*time.Second, func(rs []store.LayerUpdate) bool {
		return len(rs) == 1 && rs[0].Status == store.UpdateRunning
	})
	// While it runs: an ordinary request (a run waits behind it), then a
	// forced one that joins that waiting run, then the command line's own.
	s.run("update", "--layer", "openembedded-core")
	s.run("update", "--layer", "openembedded-core", "--force")
	out := s.run("update", "--layer", "openembedded-core", "--wait")
	if !strings.Contains(out, "== openembedded-core on master:") {
		t.Errorf("update --wait:\n%s", lastLines(out, 10))
	}
	rs := s.waitRuns("every run to end", 3*time.Minute, func(rs []store.LayerUpdate) bool {
		for _, r := range rs {
			if !r.Final() {
				return false
			}
		}
		return len(rs) >= 2
	})
	sort.Slice(rs, func(i, j int) bool { return rs[i].StartedAt.Before(rs[j].StartedAt) })
	for i, r := range rs {
		if r.Status != store.UpdateSucceeded && r.Status != store.UpdateUnchanged {
			t.Errorf("run %d: %s %q\n%s", r.ID, r.Status, r.Reason, r.Log)
		}
		if i > 0 && r.StartedAt.Before(*rs[i-1].FinishedAt) {
			t.Errorf("run %d (%s–%s) overlapped run %d (%s–%s)", r.ID, r.StartedAt.Format(time.StampMilli), r.FinishedAt.Format(time.StampMilli),
				rs[i-1].ID, rs[i-1].StartedAt.Format(time.StampMilli), rs[i-1].FinishedAt.Format(time.StampMilli))
		}
	}
	if !rs[1].Force {
		t.Error("the forced request did not make the waiting run forced")
	}
	got := s.recipes()

	clean := newSite(t, db.SQLite)
	clean.run("branch", "add", "master")
	clean.run("layer", "add", "--name", "openembedded-core", "--vcs-url", oe, "--subdir", "meta", "--type", "A", "--publish")
	clean.run("update", "--wait")
	want := clean.recipes()
	if len(got) != 956 || strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("index after the concurrent runs: %d recipes; a clean run: %d; they differ", len(got), len(want))
	}
	for _, w := range workers {
		w.terminate(10 * time.Second)
	}
}

// TestKilledWorkerRunIsRetried: a worker killed with SIGKILL in the middle
// of an update leaves its run "running"; the next worker to start finds it
// dead (nobody holds its lock), records why and runs it again at once. No
// run stays "running".
func TestKilledWorkerRunIsRetried(t *testing.T) {
	oe := corpus.Bare(t, "openembedded-core")
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		s := newSite(t, d)
		s.run("branch", "add", "master")
		s.run("layer", "add", "--name", "openembedded-core", "--vcs-url", oe, "--subdir", "meta", "--type", "A", "--publish")
		env := s.env()
		w := start(t, env, "worker")
		s.waitRuns("the run to start", 60*time.Second, func(rs []store.LayerUpdate) bool {
			return len(rs) == 1 && rs[0].Status == store.UpdateRunning
		})
		w.cmd.Process.Kill()
		<-w.done
		if rs := s.runs(); rs[0].Status != store.UpdateRunning {
			t.Fatalf("the run ended (%s) before the kill", rs[0].Status)
		}

		w2 := start(t, env, "worker")
		// (The new worker's periodic refresh may queue a run of its own
		// behind it.)
		rs := s.waitRuns("the run to be retried and end", 3*time.Minute, func(rs []store.LayerUpdate) bool {
			for _, r := range rs {
				if !r.Final() {
					return false
				}
			}
			return true
		})
		r := rs[0]
		if r.Status != store.UpdateSucceeded || r.Attempt != 2 || !strings.Contains(r.Log, "interrupted: the process running this update stopped") {
			t.Errorf("the interrupted run: %s, attempt %d\n%s", r.Status, r.Attempt, r.Log)
		}
		w2.waitLog(`update run interrupted: its process stopped`, 5*time.Second)
		w2.terminate(10 * time.Second)
	})
}

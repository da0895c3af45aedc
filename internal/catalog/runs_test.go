package catalog_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cgi"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/riverqueue/river/rivertype"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/db/dbtest"
	"layerindex/internal/gitrepo"
	"layerindex/internal/store"
)

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }

// TestUnchangedRunEnds is issue 10 #1: the run of an unchanged layer ends
// "unchanged", and the update request it belongs to is not left running.
func TestUnchangedRunEnds(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		master := e.branch("master")
		core := e.layer("openembedded-core", "meta", master)
		lb := e.lb(core.ID, master.ID)
		// Publishing queued the first (full) run.
		first := e.runs(lb.ID)
		if len(first) != 1 || first[0].Status != store.UpdateQueued || !first[0].Force || first[0].Origin != store.OriginCLI {
			t.Fatalf("after publishing: %+v", first)
		}
		if got := e.workAll(first[0].ID); got[0].Status != store.UpdateSucceeded || got[0].RecipesAdded != 1 {
			t.Fatalf("first run: %s (%s)\n%s", got[0].Status, got[0].Reason, got[0].Log)
		}
		req := e.request(core, false)
		got := e.workAll(runIDs(req)...)
		if got[0].Status != store.UpdateUnchanged || got[0].FinishedAt == nil || got[0].Attempt != 1 {
			t.Fatalf("second run: %+v", got[0])
		}
		if !strings.Contains(got[0].Log, "already up to date") {
			t.Errorf("log of the unchanged run:\n%s", got[0].Log)
		}
		page, err := e.st.Updates(e.ctx, store.Page{Number: 1, Size: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) != 2 || page.Items[0].Status() != store.UpdateUnchanged || page.Items[1].Status() != store.UpdateSucceeded ||
			page.Items[0].FinishedAt == nil || len(page.Items[0].Names) != 1 || page.Items[0].Names[0] != "openembedded-core (master)" {
			t.Errorf("updates list: %+v", page.Items)
		}
		for _, u := range page.Items {
			if st := u.Status(); st == store.UpdateRunning || st == store.UpdateQueued || u.Layers != 1 {
				t.Errorf("update %d shown as %s (%d runs) after its runs ended", u.ID, u.Status(), u.Layers)
			}
		}
	})
}

// TestPermanentFailureEndsAtOnce is issue 10 #2: a dependency missing on
// the branch (nothing being indexed could provide it) fails the run once,
// with the reason, and the job is not retried.
func TestPermanentFailureEndsAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{work: true})
		master := e.branch("master")
		core := e.layer("openembedded-core", "meta", master)
		e.workAll(e.runs(e.lb(core.ID, master.ID).ID)[0].ID)
		orphan := e.layer("meta-orphan", "meta-orphan", master)
		lb := e.lb(orphan.ID, master.ID)
		e.start(e.q)
		// The periodic refresh (run on start) may queue runs of its own.
		published := func() []store.LayerUpdate {
			var rs []store.LayerUpdate
			for _, r := range e.runs(lb.ID) {
				if r.Origin == store.OriginCLI {
					rs = append(rs, r)
				}
			}
			return rs
		}
		e.waitFor("the orphan's run to end", func() bool {
			rs := published()
			return len(rs) == 1 && rs[0].Final()
		})
		time.Sleep(500 * time.Millisecond) // time for a wrong retry to show
		rs := published()
		if len(rs) != 1 || rs[0].Status != store.UpdateFailed || rs[0].Attempt != 1 ||
			!strings.Contains(rs[0].Reason, "nonexistent-layer") || !strings.Contains(rs[0].Log, "ERROR: LAYERDEPENDS nonexistent-layer") {
			t.Fatalf("%d runs; the first: %s attempt %d reason %q\n%s", len(rs), rs[0].Status, rs[0].Attempt, rs[0].Reason, rs[0].Log)
		}
		job, err := e.q.Client().JobGet(e.ctx, *rs[0].JobID)
		if err != nil {
			t.Fatal(err)
		}
		e.waitFor("the job to complete", func() bool {
			job, _ = e.q.Client().JobGet(e.ctx, *rs[0].JobID)
			return job.State == rivertype.JobStateCompleted
		})
	})
}

// TestTransientFailureRetries: a repository that does not answer is
// retried with backoff in the same run ("retrying, attempt 2 of 5, next at
// …"), then given up; one run, never "running" while it waits.
func TestTransientFailureRetries(t *testing.T) {
	var hits sync.Map
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Store(time.Now().UnixNano(), true)
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		policy := gitrepo.Policy{AllowLocal: true, AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		e := newEnv(t, d, envOpts{work: true, policy: &policy,
			timing: catalog.Timing{Backoff: []time.Duration{1500 * time.Millisecond, 100 * time.Millisecond}}})
		master := e.branch("master")
		l, err := e.cat.AddLayer(e.ctx, catalog.CLI, []store.Branch{*master}, catalog.LayerInput{
			Layer: store.Layer{Name: "flaky", LayerType: store.TypeSoftware, VCSURL: down.URL + "/repo.git"}}, true)
		if err != nil {
			t.Fatal(err)
		}
		lb := e.lb(l.ID, master.ID)
		e.start(e.q)
		e.waitFor("the first attempt to fail", func() bool {
			rs := e.runs(lb.ID)
			return len(rs) == 1 && rs[0].Status == store.UpdateRetrying
		})
		r := e.runs(lb.ID)[0]
		if r.Attempt != 1 || r.MaxAttempts != 5 || r.NextAttemptAt == nil || !r.NextAttemptAt.After(time.Now()) ||
			!strings.Contains(r.Reason, "503") && !strings.Contains(r.Reason, "Service Unavailable") {
			t.Errorf("after the first attempt: attempt %d/%d next %v reason %q", r.Attempt, r.MaxAttempts, r.NextAttemptAt, r.Reason)
		}
		if !strings.Contains(r.Log, "this looks temporary; attempt 2 of 5") {
			t.Errorf("log:\n%s", r.Log)
		}
		e.waitFor("the run to give up", func() bool { return e.runs(lb.ID)[0].Final() })
		rs := e.runs(lb.ID)
		if len(rs) != 1 || rs[0].Status != store.UpdateFailed || rs[0].Attempt != 5 || !strings.Contains(rs[0].Reason, "gave up after 5 attempts") {
			t.Fatalf("runs: %+v", rs)
		}
		if strings.Count(rs[0].Log, "INFO: attempt ") != 4 {
			t.Errorf("the log should tell each attempt:\n%s", rs[0].Log)
		}
	})
}

// TestRetriedRunSucceeds: a repository that answers again after a
// temporary failure ends the run "succeeded", without the reason or the
// next attempt time of the failed attempt (a status shown is always true).
func TestRetriedRunSucceeds(t *testing.T) {
	backend := "/usr/lib/git-core/git-http-backend"
	if _, err := os.Stat(backend); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("git-http-backend is needed: %v", err)
		}
		t.Skipf("git-http-backend not available: %v", err)
	}
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		var down atomic.Bool
		down.Store(true)
		var git http.Handler
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if down.Load() {
				http.Error(w, "maintenance", http.StatusServiceUnavailable)
				return
			}
			git.ServeHTTP(w, r)
		}))
		defer srv.Close()
		policy := gitrepo.Policy{AllowLocal: true, AllowHTTP: true, Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}}
		e := newEnv(t, d, envOpts{work: true, policy: &policy,
			timing: catalog.Timing{Backoff: []time.Duration{time.Second}}})
		git = &cgi.Handler{Path: backend, Env: []string{"GIT_PROJECT_ROOT=" + filepath.Dir(e.repo.dir), "GIT_HTTP_EXPORT_ALL=1"}}
		master := e.branch("master")
		l, err := e.cat.AddLayer(e.ctx, catalog.CLI, []store.Branch{*master}, catalog.LayerInput{
			Layer:  store.Layer{Name: "openembedded-core", LayerType: store.TypeBase, VCSURL: srv.URL + "/" + filepath.Base(e.repo.dir)},
			Subdir: "meta"}, true)
		if err != nil {
			t.Fatal(err)
		}
		lb := e.lb(l.ID, master.ID)
		e.start(e.q)
		e.waitFor("the first attempt to fail", func() bool {
			rs := e.runs(lb.ID)
			return len(rs) == 1 && rs[0].Status == store.UpdateRetrying
		})
		down.Store(false)
		deadline := time.Now().Add(time.Minute)
		// The runs of the layer branch, oldest first; the start-up refresh
		// may add a second one.
		for rs := e.runs(lb.ID); !rs[0].Final(); rs = e.runs(lb.ID) {
			if time.Now().After(deadline) {
				t.Fatalf("the run did not end: %+v", rs)
			}
			time.Sleep(50 * time.Millisecond)
		}
		r := e.runs(lb.ID)[0]
		if r.Origin != store.OriginCLI || r.Status != store.UpdateSucceeded || r.Attempt != 2 || r.Reason != "" || r.NextAttemptAt != nil || r.RecipesAdded != 1 {
			t.Fatalf("run: status %s attempt %d reason %q next %v added %d\n%s", r.Status, r.Attempt, r.Reason, r.NextAttemptAt, r.RecipesAdded, r.Log)
		}
		if !strings.Contains(r.Log, "this looks temporary") || !strings.Contains(r.Log, "INFO: attempt 2 of") {
			t.Errorf("the log should tell both attempts:\n%s", r.Log)
		}
	})
}

// TestMissingDependencyWaits: on a fresh index, a layer whose dependency is
// being indexed waits for it instead of failing.
func TestMissingDependencyWaits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		master := e.branch("master")
		second := e.layer("meta-second", "meta-second", master)
		test := e.layer("meta-test", "meta-test", master)
		core := e.layer("openembedded-core", "meta", master)
		var ids []int64
		for _, l := range []*store.Layer{second, test, core} {
			ids = append(ids, e.runs(e.lb(l.ID, master.ID).ID)[0].ID)
		}
		got := e.workAll(ids...)
		for i, r := range got {
			if r.Status != store.UpdateSucceeded {
				t.Errorf("run %d: %s (%s)\n%s", i, r.Status, r.Reason, r.Log)
			}
		}
		if !strings.Contains(got[0].Log, "a layer being indexed on this branch may provide it") {
			t.Errorf("meta-second did not wait:\n%s", got[0].Log)
		}
		if got[0].Attempt != 1 {
			t.Errorf("waiting counted as attempts: %d", got[0].Attempt)
		}
	})
}

// TestRequestJoinsWaitingRun: a second request for a layer branch with a
// waiting run joins it (a forced one makes it forced); a request while a
// run is running queues one more, to start after it.
func TestRequestJoinsWaitingRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		master := e.branch("master")
		core := e.layer("openembedded-core", "meta", master)
		lb := e.lb(core.ID, master.ID)
		first := e.runs(lb.ID)[0]
		e.workAll(first.ID)

		a := e.request(core, false)
		b := e.request(core, true)
		if a.Runs[0].Joined || !b.Runs[0].Joined || a.Runs[0].Run.ID != b.Runs[0].Run.ID {
			t.Fatalf("requests: %+v / %+v", a.Runs, b.Runs)
		}
		if r := e.run(a.Runs[0].Run.ID); !r.Force {
			t.Error("a forced request did not make the waiting run forced")
		}
		var jobs int64
		e.conn.Gorm.Table("river_job").Where("kind = 'update_run'").Count(&jobs)
		if jobs != 2 {
			t.Errorf("%d update_run jobs; want one per run", jobs)
		}
		// While it runs, a request queues the next.
		release, ok, err := e.conn.TryLock(e.ctx, "layer-branch-update", lb.ID)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if err := e.conn.Gorm.Model(&store.LayerUpdate{}).Where("id = ?", a.Runs[0].Run.ID).Update("status", store.UpdateRunning).Error; err != nil {
			t.Fatal(err)
		}
		c := e.request(core, false)
		if c.Runs[0].Joined || c.Runs[0].Run.ID == a.Runs[0].Run.ID {
			t.Errorf("a request during a run joined it: %+v", c.Runs)
		}
		release()
	})
}

// TestOneRunAtATime is issue 10 #6 at the domain level: two processes (two
// connections, two catalogs) work a forced and an ordinary run of one
// layer branch at once; they run one after the other, and the index is
// the one a clean run gives.
func TestOneRunAtATime(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		master := e.branch("master")
		core := e.layer("openembedded-core", "meta", master)
		e.workAll(e.runs(e.lb(core.ID, master.ID).ID)[0].ID)
		second := e.layer("meta-second", "meta-second", master)
		test := e.layer("meta-test", "meta-test", master)
		e.workAll(e.runs(e.lb(test.ID, master.ID).ID)[0].ID)
		lb := e.lb(second.ID, master.ID)
		forced := e.runs(lb.ID)[0]

		// The other process: its own connection to the same database.
		var conn2 *db.DB
		if d == db.SQLite {
			c, err := db.OpenSQLite(e.ctx, sqlitePath(t, e.conn), nil)
			if err != nil {
				t.Fatal(err)
			}
			conn2 = c
		} else {
			conn2 = e.conn // PostgreSQL: the lock is per connection, and the pool hands out several
		}
		_, cat2 := e.open(conn2, envOpts{})

		// Mark the forced run running in process 1, then request an
		// ordinary update: a second run waits behind it.
		var wg sync.WaitGroup
		var r1, r2 []store.LayerUpdate
		var err1, err2 error
		wg.Add(2)
		slow := func(*store.LayerUpdate, string) { time.Sleep(150 * time.Millisecond) } // a long parse
		go func() { defer wg.Done(); r1, err1 = e.cat.WorkHere(e.ctx, []int64{forced.ID}, slow) }()
		e.waitFor("the forced run to start", func() bool { return e.run(forced.ID).Status == store.UpdateRunning })
		ordinary, err := e.cat.RequestUpdate(e.ctx, catalog.CLI, catalog.UpdateRequest{LayerID: second.ID})
		if err != nil {
			t.Fatal(err)
		}
		go func() { defer wg.Done(); r2, err2 = cat2.WorkHere(e.ctx, runIDs(ordinary), nil) }()
		wg.Wait()
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		a, b := r1[0], r2[0]
		if !a.Final() || !b.Final() || a.Status != store.UpdateSucceeded {
			t.Fatalf("runs: %s %s", a.Status, b.Status)
		}
		if b.Status != store.UpdateUnchanged && b.Status != store.UpdateSucceeded {
			t.Errorf("the ordinary run: %s (%s)\n%s", b.Status, b.Reason, b.Log)
		}
		if b.StartedAt.Before(*a.FinishedAt) {
			t.Errorf("runs overlapped: %v–%v and %v–%v", a.StartedAt, a.FinishedAt, b.StartedAt, b.FinishedAt)
		}
		var recipes []string
		e.conn.Gorm.Table("recipes").Where("layer_branch_id = ?", lb.ID).Order("pn").Pluck("pn", &recipes)
		if strings.Join(recipes, " ") != "three two" {
			t.Errorf("index: %v", recipes)
		}
	})
}

func sqlitePath(t *testing.T, conn *db.DB) string {
	var path string
	if err := conn.SQL.QueryRow("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSweepClosesDeadRuns: a run left "running" by a process that died
// (nobody holds its lock) is closed and retried at once; a run whose
// process is alive (its lock held) is left alone.
func TestSweepClosesDeadRuns(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		master := e.branch("master")
		core := e.layer("openembedded-core", "meta", master)
		lb := e.lb(core.ID, master.ID)
		run := e.runs(lb.ID)[0]
		e.conn.Gorm.Model(&store.LayerUpdate{}).Where("id = ?", run.ID).Updates(map[string]any{"status": store.UpdateRunning, "attempt": 1})

		// Alive: the lock is held.
		release, ok, err := e.conn.TryLock(e.ctx, "layer-branch-update", lb.ID)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if err := e.cat.SweepRuns(e.ctx); err != nil {
			t.Fatal(err)
		}
		if r := e.run(run.ID); r.Status != store.UpdateRunning {
			t.Fatalf("a live run was swept: %s", r.Status)
		}
		release()

		// Dead: swept, retried with a new job, and completes.
		if err := e.cat.SweepRuns(e.ctx); err != nil {
			t.Fatal(err)
		}
		r := e.run(run.ID)
		if r.Status != store.UpdateRetrying || *r.JobID == *run.JobID || !strings.Contains(r.Log, "ERROR: interrupted") {
			t.Fatalf("after the sweep: %s job %d (was %d)\n%s", r.Status, *r.JobID, *run.JobID, r.Log)
		}
		// The old job, if River ever works it again, does nothing.
		if again, err := e.cat.WorkRun(e.ctx, run.ID, *run.JobID); err != nil || again != 0 {
			t.Fatal(again, err)
		}
		if got := e.workAll(run.ID); got[0].Status != store.UpdateSucceeded || got[0].Attempt != 2 {
			t.Fatalf("retried run: %s attempt %d\n%s", got[0].Status, got[0].Attempt, got[0].Log)
		}
	})
}

// TestRunningWorkerSweeps: a worker that is running finds a run whose
// process died by the periodic sweep (every minute by default; a second
// here) and retries it.
func TestRunningWorkerSweeps(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{work: true, sweep: time.Second})
		master := e.branch("master")
		e.start(e.q)
		core := e.layer("openembedded-core", "meta", master)
		lb := e.lb(core.ID, master.ID)
		e.waitFor("the first run", func() bool { return e.runs(lb.ID)[0].Final() })
		// A run another process was running when it died.
		u := &store.Update{Origin: store.OriginCLI}
		if err := e.st.CreateUpdate(e.ctx, u); err != nil {
			t.Fatal(err)
		}
		dead := &store.LayerUpdate{UpdateID: u.ID, LayerID: core.ID, BranchID: master.ID, LayerBranchID: &lb.ID,
			StartedAt: time.Now(), Status: store.UpdateRunning, Attempt: 1, MaxAttempts: 5, Origin: store.OriginCLI, Force: true}
		if err := e.conn.Gorm.Create(dead).Error; err != nil {
			t.Fatal(err)
		}
		defer func() {
			if t.Failed() {
				var jobs []struct{ Kind, State string }
				e.conn.Gorm.Raw("SELECT kind, state FROM river_job ORDER BY id").Scan(&jobs)
				t.Logf("jobs: %d", len(jobs))
				r := e.run(dead.ID)
				t.Logf("dead run: %s attempt %d job %v reason %q\n%s", r.Status, r.Attempt, r.JobID, r.Reason, r.Log)
			}
		}()
		// It is retried — or, when the periodic refresh has queued a run of
		// the layer branch meanwhile (before or after the dead one was
		// made), closed, and that run does the work.
		worker := func(rs []store.LayerUpdate) *store.LayerUpdate {
			for i := len(rs) - 1; i >= 0; i-- {
				if rs[i].ID != dead.ID && rs[i].FinishedAt != nil && rs[i].FinishedAt.After(dead.StartedAt) {
					return &rs[i]
				}
			}
			return nil
		}
		e.waitFor("the dead run to be closed and the layer branch updated", func() bool {
			rs := e.runs(lb.ID)
			for _, r := range rs {
				if !r.Final() {
					return false
				}
			}
			return e.run(dead.ID).Status == store.UpdateSucceeded || worker(rs) != nil
		})
		r := e.run(dead.ID)
		if !strings.Contains(r.Log, "ERROR: interrupted") || (r.Status != store.UpdateSucceeded && r.Status != store.UpdateFailed) {
			t.Errorf("the swept run: %s attempt %d\n%s", r.Status, r.Attempt, r.Log)
		}
		if w := worker(e.runs(lb.ID)); r.Status == store.UpdateFailed &&
			(w == nil || w.Status != store.UpdateSucceeded && w.Status != store.UpdateUnchanged) {
			t.Errorf("the swept run was closed, and the run that followed: %+v", w)
		}
	})
}

// TestWaitingRunWithoutJobGetsOne: a waiting run whose job is gone (or
// finished without working it) is given a new one by the sweep.
func TestWaitingRunWithoutJobGetsOne(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		master := e.branch("master")
		core := e.layer("openembedded-core", "meta", master)
		run := e.runs(e.lb(core.ID, master.ID).ID)[0]
		if _, err := e.q.Client().JobDelete(e.ctx, *run.JobID); err != nil {
			t.Fatal(err)
		}
		if err := e.cat.SweepRuns(e.ctx); err != nil {
			t.Fatal(err)
		}
		r := e.run(run.ID)
		if r.JobID == nil || *r.JobID == *run.JobID || r.Status != store.UpdateQueued {
			t.Fatalf("after the sweep: %+v", r)
		}
	})
}

var _ = context.Background

// TestIndexedDependencyWakesWaitingRun: a layer published with its
// dependency waits for it; once the dependency's run stores its index, the
// waiting run is tried at once, not after its (here hour-long) wait.
func TestIndexedDependencyWakesWaitingRun(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d db.Dialect) {
		e := newEnv(t, d, envOpts{})
		e.q, e.cat = e.open(e.conn, envOpts{work: true,
			timing: catalog.Timing{DependencyWait: time.Hour, DependencyPatience: 2 * time.Hour, LockWait: 300 * time.Millisecond}})
		master := e.branch("master")
		test := e.layer("meta-test", "meta-test", master)
		core := e.layer("openembedded-core", "meta", master)
		testLB, coreLB := e.lb(test.ID, master.ID), e.lb(core.ID, master.ID)
		// The core's update is held back (another process updates it)
		// until meta-test has found its dependency missing.
		release, ok, err := e.conn.TryLock(e.ctx, "layer-branch-update", coreLB.ID)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		e.start(e.q)
		e.waitFor("meta-test to wait for its dependency", func() bool {
			r := e.runs(testLB.ID)[0]
			return r.Status == store.UpdateRetrying && strings.Contains(r.Log, "may provide it")
		})
		release()
		for _, lb := range []*store.LayerBranch{coreLB, testLB} {
			e.waitFor("the runs to end", func() bool { r := e.runs(lb.ID)[0]; return r.Final() })
			if r := e.runs(lb.ID)[0]; r.Status != store.UpdateSucceeded {
				t.Fatalf("%s\n%s", r.Status, r.Log)
			}
		}
		if r := e.runs(testLB.ID)[0]; !strings.Contains(r.Log, "may provide it") || r.Attempt != 1 {
			t.Errorf("meta-test should have waited once, not counted as an attempt (%d):\n%s", r.Attempt, r.Log)
		}
	})
}

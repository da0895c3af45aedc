package main

import (
	"context"
	"database/sql"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"layerindex/internal/db"
	"layerindex/internal/mail"
	"layerindex/internal/mail/mailtest"
	"layerindex/internal/store"
)

// The crash-safety suite: real `serve` and `worker` processes on
// PostgreSQL, driven over HTTP as visitors, users and administrators drive
// them, killed with SIGKILL at random points and restarted. After every
// trial and at the end it checks what a crash must never do: lose an
// acknowledged submission, its repository check or its mail; send a mail
// twice; leave a layer branch half indexed; leave a job or an update run
// "running" past the rescue time; or keep a re-index from completing.
//
// LAYERINDEX_CRASH_TRIALS sets the number of trials (default 3, the CI
// form; the long form is 100) and LAYERINDEX_CRASH_SEED the seed of the
// kill points and actions (default: the time; the log says which).

// crashRescue is the rescue time the suite configures: a job whose process
// died is worked again after it.
const crashRescue = 10 * time.Second

func crashTrials(t *testing.T) int {
	if v := os.Getenv("LAYERINDEX_CRASH_TRIALS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			t.Fatalf("LAYERINDEX_CRASH_TRIALS=%q: want a positive number", v)
		}
		return n
	}
	return 3
}

func crashSeed(t *testing.T) uint64 {
	if v := os.Getenv("LAYERINDEX_CRASH_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("LAYERINDEX_CRASH_SEED=%q: want a number", v)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

func TestCrashSafety(t *testing.T) {
	// Mostly waiting on processes: beside the other process tests.
	t.Parallel()
	trials, seed := crashTrials(t), crashSeed(t)
	t.Logf("crash suite: %d trials, LAYERINDEX_CRASH_SEED=%d", trials, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	const layers = 4
	sink := mailtest.Start(t)
	s := newSite(t, db.Postgres)
	repo := replicaRepo(t, layers)
	s.run("branch", "add", "master")
	s.run("layer", "add", "--name", "openembedded-core", "--vcs-url", repo, "--subdir", "meta", "--type", "A", "--publish")
	for i := range layers {
		s.run("layer", "add", "--name", fmt.Sprintf("meta-r%d", i), "--vcs-url", repo, "--subdir", fmt.Sprintf("meta-r%d", i),
			"--type", "S", "--publish")
	}
	const pw = "crash test password"
	if code, out, stderr := runCmd(t, s.env(), pw+"\n", "user", "create", "--admin", "--email", "admin@example.org"); code != 0 {
		t.Fatalf("user create: %s %s", out, stderr)
	}

	addr := freeAddr(t)
	base := "http://" + addr
	env := s.env("LAYERINDEX_SMTP_HOST="+sink.Host(), "LAYERINDEX_SMTP_PORT="+strconv.Itoa(sink.Port()), "LAYERINDEX_SMTP_TLS=none",
		"LAYERINDEX_TRUSTED_PROXIES=127.0.0.1", "LAYERINDEX_JOB_RESCUE_AFTER="+crashRescue.String(), "LAYERINDEX_BASE_URL="+base)
	var web, worker *proc
	startWeb := func() {
		web = start(t, env, "serve", "--listen", addr)
		web.waitLog(`msg="layerindex is serving"`, 60*time.Second)
	}
	startWorker := func() {
		worker = start(t, env, "worker")
		worker.waitLog(`msg="layerindex worker is running"`, 60*time.Second)
	}
	startWeb()
	startWorker()

	admin := newBrowser(base, "")
	if err := admin.login("admin@example.org", pw); err != nil {
		t.Fatal(err)
	}
	var coreID int64
	if err := s.db().Gorm.Raw("SELECT id FROM layers WHERE name = 'openembedded-core'").Scan(&coreID).Error; err != nil || coreID == 0 {
		t.Fatalf("core layer: %v", err)
	}

	ld := &crashLoad{t: t, base: base, repo: repo, layers: layers, admin: admin, coreID: coreID,
		submitted: map[string]bool{}, published: map[string]bool{}}
	var perTrial []time.Duration
	kills := 0 // of processes working jobs (both do)
	for trial := range trials {
		began := time.Now()
		// A registered user of this trial (submissions are rate-limited
		// per account).
		email := fmt.Sprintf("user%d@example.org", trial)
		if code, out, stderr := runCmd(t, s.env(), pw+"\n", "user", "create", "--email", email); code != 0 {
			t.Fatalf("user create: %s %s", out, stderr)
		}
		user := newBrowser(base, "")
		if err := user.login(email, pw); err != nil {
			t.Fatalf("trial %d: %v", trial, err)
		}
		trialRng := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		stop := ld.run(trialRng, user)
		time.Sleep(time.Duration(500+trialRng.IntN(2500)) * time.Millisecond)
		victims := []string{"web", "worker", "both"}[trialRng.IntN(3)]
		if victims != "worker" {
			web.cmd.Process.Kill()
			kills++
		}
		if victims != "web" {
			worker.cmd.Process.Kill()
			kills++
		}
		stop()
		if victims != "worker" {
			<-web.done
		}
		if victims != "web" {
			<-worker.done
		}
		// No partial index, even before anything restarts.
		checkCompleteIndex(t, s.db(), repo, fmt.Sprintf("after trial %d (%s killed)", trial, victims))
		if victims != "worker" {
			startWeb()
		}
		if victims != "web" {
			startWorker()
		}
		perTrial = append(perTrial, time.Since(began))
		t.Logf("trial %d: %s killed; %d submissions acknowledged, %d published, %d edits, %d re-index requests so far (%s)",
			trial, victims, ld.acked.Load(), ld.publishes.Load(), ld.edits.Load(), ld.reindexes.Load(), time.Since(began).Round(time.Millisecond))
	}

	// Everything settles with both processes up: no job or run is left
	// running past the rescue time, every mail job is done.
	settle := time.Now()
	// The backlog grows with the trials: every acknowledged submission
	// points at a host that does not resolve, and its repository check is
	// retried (a failed lookup may be a DNS outage) in the same queue as the
	// updates, until River's backoff spaces the retries out: the wait
	// allows 3 s a trial for it (the 100-trial form's backlog did not drain
	// in the short form's 70 s).
	waitSettled(t, s.db(), crashRescue+60*time.Second+time.Duration(len(perTrial))*3*time.Second)
	t.Logf("settled %s after the last restart", time.Since(settle).Round(time.Millisecond))

	// Every acknowledged submission exists, with its repository check and
	// the administrators' mail.
	for name := range ld.submitted {
		var l store.Layer
		if err := s.db().Gorm.Where("name = ?", name).First(&l).Error; err != nil {
			t.Errorf("acknowledged submission %s is lost: %v", name, err)
			continue
		}
		var jobs int64
		s.db().Gorm.Raw("SELECT count(*) FROM river_job WHERE kind = 'validate_layer' AND (args->>'layer_id')::bigint = ?", l.ID).Scan(&jobs)
		if jobs != 1 {
			t.Errorf("submission %s has %d repository checks queued, want 1", name, jobs)
		}
		if n := countMail(sink, "admin@example.org", "layer submission - "+name); n != 1 {
			t.Errorf("submission %s: %d mails to the administrator, want 1", name, n)
		}
		if ld.published[name] {
			if l.Status != store.StatusPublished {
				t.Errorf("acknowledged publication of %s is lost (status %s)", name, l.Status)
			}
			if n := countMail(sink, "maint-"+name+"@example.org", name+" published"); n != 1 {
				t.Errorf("publication of %s: %d mails to its maintainer, want 1", name, n)
			}
		}
	}
	// Every mail job was delivered exactly once, and nothing else was.
	checkMailOnce(t, s.db(), sink, kills)

	// A forced re-index of every layer completes, and the index equals a
	// clean index of the same commit.
	finalRuns := map[int64]string{}
	for i := -1; i < layers; i++ {
		name := "openembedded-core"
		if i >= 0 {
			name = fmt.Sprintf("meta-r%d", i)
		}
		code, loc, err := admin.reindex(name, true)
		m := regexp.MustCompile(`^/layerindex/layerupdate/(\d+)/$`).FindStringSubmatch(loc)
		if err != nil || code != http.StatusSeeOther || m == nil {
			t.Fatalf("re-index %s: %d %s %v", name, code, loc, err)
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		finalRuns[id] = name
	}
	s.waitRuns("the final re-index", 3*time.Minute, func(rs []store.LayerUpdate) bool {
		done := 0
		for _, r := range rs {
			if finalRuns[r.ID] != "" && r.Final() {
				done++
			}
		}
		return done == len(finalRuns)
	})
	for _, r := range s.runs() {
		if finalRuns[r.ID] != "" && r.Status != store.UpdateSucceeded && r.Status != store.UpdateUnchanged {
			t.Errorf("final re-index of %s, run %d: %s %q\n%s", finalRuns[r.ID], r.ID, r.Status, r.Reason, r.Log)
		}
	}
	checkCompleteIndex(t, s.db(), repo, "after the final re-index")
	got := s.recipes()
	clean := newSite(t, db.SQLite)
	clean.run("branch", "add", "master")
	clean.run("layer", "add", "--name", "openembedded-core", "--vcs-url", repo, "--subdir", "meta", "--type", "A", "--publish")
	for i := range layers {
		clean.run("layer", "add", "--name", fmt.Sprintf("meta-r%d", i), "--vcs-url", repo, "--subdir", fmt.Sprintf("meta-r%d", i),
			"--type", "S", "--publish")
	}
	clean.run("update", "--wait")
	if want := clean.recipes(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("index after the crashes: %d recipes; a clean index of the same commit: %d; they differ", len(got), len(want))
	}

	var total time.Duration
	for _, d := range perTrial {
		total += d
	}
	t.Logf("crash suite: %d trials, %d submissions acknowledged (lost: see errors above), %d published, %d edits, %d re-index requests, %d commits; %s per trial",
		trials, ld.acked.Load(), ld.publishes.Load(), ld.edits.Load(), ld.reindexes.Load(), ld.commits.Load(), (total / time.Duration(trials)).Round(time.Millisecond))
	web.terminate(15 * time.Second)
	worker.terminate(15 * time.Second)
}

// crashLoad drives the site while the trials kill its processes.
type crashLoad struct {
	t      *testing.T
	base   string
	repo   string
	layers int
	admin  *browser
	coreID int64

	mu        sync.Mutex
	submitted map[string]bool // acknowledged submissions
	published map[string]bool // acknowledged publications
	pending   []string        // acknowledged, not yet published
	repoMu    sync.Mutex      // commits to the repository

	seq                                atomic.Int64
	acked, publishes, edits, reindexes atomic.Int64
	commits                            atomic.Int64
}

// run starts the load of one trial (anonymous and registered submitters,
// an administrator publishing, editing and asking for re-indexes, commits
// to the layers' repository) and returns the function that stops it and
// waits for it.
func (ld *crashLoad) run(rng *rand.Rand, user *browser) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	// Each actor has its own random source: the trial's, split.
	actor := func(fn func(r *rand.Rand)) {
		r := rand.New(rand.NewPCG(rng.Uint64(), rng.Uint64()))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-done:
					return
				default:
				}
				fn(r)
				time.Sleep(time.Duration(r.IntN(50)) * time.Millisecond)
			}
		}()
	}
	actor(func(r *rand.Rand) { ld.submit(nil) })
	actor(func(r *rand.Rand) { ld.submit(user) })
	actor(func(r *rand.Rand) {
		switch r.IntN(4) {
		case 0:
			ld.publish()
		case 1:
			ld.edit(r)
		case 2:
			ld.commit(r)
		default:
			if _, _, err := ld.admin.reindex(fmt.Sprintf("meta-r%d", r.IntN(ld.layers)), r.IntN(2) == 0); err == nil {
				ld.reindexes.Add(1)
			}
		}
	})
	return func() {
		close(done)
		wg.Wait()
	}
}

// submit submits a layer, anonymously (with its own client address) or as
// the signed-in user, and records it if the site acknowledged it.
func (ld *crashLoad) submit(user *browser) {
	n := ld.seq.Add(1)
	name := fmt.Sprintf("meta-sub%d", n)
	b := user
	if b == nil {
		b = newBrowser(ld.base, fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
	}
	code, body, _, err := b.get("/layerindex/submit/")
	if err != nil || code != http.StatusOK {
		return
	}
	form := url.Values{"name": {name}, "layer_type": {"S"}, "summary": {"A crash test layer"},
		"description": {"Submitted while processes are killed."}, "vcs_url": {"https://git.invalid/" + name + ".git"},
		"vcs_subdir": {name}, "dep": {strconv.FormatInt(ld.coreID, 10)},
		"m-0-name": {"Maintainer " + name}, "m-0-email": {"maint-" + name + "@example.org"}}
	if user == nil {
		a, ok := challengeAnswer(body)
		if !ok {
			ld.t.Errorf("no challenge question on the anonymous submission page")
			return
		}
		form.Set("challenge", a)
	}
	code, body, loc, err := b.post("/layerindex/submit/", form)
	if err != nil {
		return // not acknowledged: it may or may not exist
	}
	if code == http.StatusSeeOther && loc == "/layerindex/submit/thanks/" {
		ld.mu.Lock()
		ld.submitted[name] = true
		ld.pending = append(ld.pending, name)
		ld.mu.Unlock()
		ld.acked.Add(1)
		return
	}
	if code < 500 && code != http.StatusTooManyRequests && code != http.StatusUnprocessableEntity {
		ld.t.Errorf("submission %s: %d %s", name, code, strings.Join(formErrors(body), "; "))
	} else if code >= 500 && code != http.StatusServiceUnavailable {
		ld.t.Errorf("submission %s: %d\n%.500s", name, code, body)
	}
}

// publish publishes the oldest acknowledged submission not yet published.
func (ld *crashLoad) publish() {
	ld.mu.Lock()
	if len(ld.pending) == 0 {
		ld.mu.Unlock()
		return
	}
	name := ld.pending[0]
	ld.mu.Unlock()
	if code, _, _, err := ld.admin.get("/layerindex/review/" + name + "/"); err != nil || code != http.StatusOK {
		return
	}
	code, body, _, err := ld.admin.post("/layerindex/layer/"+name+"/publish/", nil)
	if err != nil {
		return
	}
	switch code {
	case http.StatusSeeOther, http.StatusConflict: // done now, or by a request whose answer was lost
		ld.mu.Lock()
		if code == http.StatusSeeOther {
			ld.published[name] = true
		}
		ld.pending = slices.DeleteFunc(ld.pending, func(s string) bool { return s == name })
		ld.mu.Unlock()
		ld.publishes.Add(1)
	default:
		ld.t.Errorf("publish %s: %d\n%.500s", name, code, body)
	}
}

// edit toggles the git branch of a layer between the default and
// "master" (the same content; a re-index is queued), and lists a
// maintainer (mailed when added).
func (ld *crashLoad) edit(r *rand.Rand) {
	i := r.IntN(ld.layers)
	name := fmt.Sprintf("meta-r%d", i)
	path := "/layerindex/branch/master/edit/" + name + "/"
	code, body, _, err := ld.admin.get(path)
	if err != nil || code != http.StatusOK {
		return
	}
	actual := "master"
	if strings.Contains(body, `name="actual_branch" value="master"`) || strings.Contains(body, `id="actual_branch" name="actual_branch" value="master"`) {
		actual = ""
	}
	form := url.Values{"name": {name}, "layer_type": {"S"}, "summary": {"Replica layer " + name},
		"description": {"Edited by the crash suite."}, "vcs_url": {ld.repo}, "vcs_subdir": {name}, "actual_branch": {actual},
		"m-0-name": {"Maintainer " + name}, "m-0-email": {"maint-" + name + "@example.org"}}
	code, body, _, err = ld.admin.post(path, form)
	if err != nil {
		return
	}
	if code != http.StatusSeeOther && code != http.StatusServiceUnavailable {
		ld.t.Errorf("edit %s: %d %s\n%.300s", name, code, strings.Join(formErrors(body), "; "), body)
		return
	}
	ld.edits.Add(1)
}

// commit adds a recipe to a layer and asks for its re-index.
func (ld *crashLoad) commit(r *rand.Rand) {
	i := r.IntN(ld.layers)
	n := ld.seq.Add(1)
	ld.repoMu.Lock()
	replicaCommit(ld.t, ld.repo, map[string]string{
		fmt.Sprintf("meta-r%d/recipes-crash/crash%d/crash%d_1.%d.bb", i, n, n, n%7): fmt.Sprintf("SUMMARY = \"Crash %d\"\nLICENSE = \"MIT\"\n", n)})
	ld.repoMu.Unlock()
	ld.commits.Add(1)
	if _, _, err := ld.admin.reindex(fmt.Sprintf("meta-r%d", i), false); err == nil {
		ld.reindexes.Add(1)
	}
}

// checkCompleteIndex checks that every layer branch of the replica
// repository holds exactly the recipes of the revision it says it indexed
// (in one snapshot of the database, while another process may be writing).
func checkCompleteIndex(t *testing.T, conn *db.DB, repo, when string) {
	t.Helper()
	type lbRow struct {
		ID         int64
		Name       string
		Subdir     string
		VCSLastRev string
	}
	err := conn.Gorm.Transaction(func(tx *gorm.DB) error {
		var lbs []lbRow
		if err := tx.Raw(`SELECT lb.id, l.name, lb.vcs_subdir AS subdir, lb.vcs_last_rev FROM layer_branches lb
			JOIN layers l ON l.id = lb.layer_id WHERE l.vcs_url = ?`, repo).Scan(&lbs).Error; err != nil {
			return err
		}
		for _, lb := range lbs {
			var got []string
			if err := tx.Raw("SELECT filepath || '/' || filename FROM recipes WHERE layer_branch_id = ? ORDER BY 1", lb.ID).Scan(&got).Error; err != nil {
				return err
			}
			if lb.VCSLastRev == "" {
				if len(got) != 0 {
					t.Errorf("%s: %s is not indexed yet but has %d recipes", when, lb.Name, len(got))
				}
				continue
			}
			want := recipesAt(t, repo, lb.VCSLastRev, lb.Subdir)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s: %s at %.12s has %d recipes, its commit %d: a partial index\ngot  %v\nwant %v",
					when, lb.Name, lb.VCSLastRev, len(got), len(want), got, want)
			}
		}
		return nil
	}, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	if err != nil {
		t.Fatalf("%s: reading the index: %v", when, err)
	}
}

// recipesAt lists the recipe files (recipes-*/*/*.bb) of a layer at a
// commit, relative to the layer.
func recipesAt(t *testing.T, repo, rev, subdir string) []string {
	t.Helper()
	cmd := exec.Command("git", "ls-tree", "-r", "--name-only", rev, "--", subdir+"/")
	cmd.Dir = repo
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("git ls-tree %s: %v", rev, err)
	}
	var files []string
	re := regexp.MustCompile(`^recipes-[^/]+/[^/]+/[^/]+\.bb$`)
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f = strings.TrimPrefix(f, subdir+"/")
		if re.MatchString(f) {
			files = append(files, f)
		}
	}
	sort.Strings(files)
	return files
}

// waitSettled waits until no job is running or due, no update run is
// running, and every mail job has ended; then it checks that none of them
// was left running past the rescue time.
func waitSettled(t *testing.T, conn *db.DB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		var busy struct {
			Jobs, Mails, Runs int64
		}
		conn.Gorm.Raw(`SELECT
			(SELECT count(*) FROM river_job WHERE state IN ('running', 'available')) AS jobs,
			(SELECT count(*) FROM river_job WHERE kind = 'send_mail' AND state <> 'completed') AS mails,
			(SELECT count(*) FROM layer_updates WHERE status = 'running') AS runs`).Scan(&busy)
		if busy.Jobs == 0 && busy.Mails == 0 && busy.Runs == 0 {
			return
		}
		if time.Now().After(deadline) {
			var stuck []struct {
				ID          int64
				Kind, State string
				AttemptedAt *time.Time
				Errors      string
			}
			conn.Gorm.Raw(`SELECT id, kind, state, attempted_at, CAST(errors AS text) AS errors FROM river_job
				WHERE state IN ('running', 'available') OR (kind = 'send_mail' AND state <> 'completed') ORDER BY id`).Scan(&stuck)
			for _, j := range stuck {
				t.Logf("job %d %s: %s since %v %s", j.ID, j.Kind, j.State, j.AttemptedAt, j.Errors)
			}
			var runs []store.LayerUpdate
			conn.Gorm.Where("status = ?", store.UpdateRunning).Find(&runs)
			for _, r := range runs {
				t.Logf("run %d: running since %s\n%s", r.ID, r.StartedAt, r.Log)
			}
			t.Fatalf("after %s: %d jobs running or due, %d mails unsent, %d update runs running (the rescue time is %s)",
				timeout, busy.Jobs, busy.Mails, busy.Runs, crashRescue)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// checkMailOnce checks that the SMTP sink received each mail job's message
// (none is lost), nothing else, and each once — except that a process
// killed between the SMTP server's acceptance of a message and the record
// of it sends it again, under the same Message-ID: at most one duplicate
// per mail in flight (LAYERINDEX_WORKERS, 4) per kill of a working process.
func checkMailOnce(t *testing.T, conn *db.DB, sink *mailtest.Sink, kills int) {
	t.Helper()
	var ids []int64
	conn.Gorm.Raw("SELECT id FROM river_job WHERE kind = 'send_mail' ORDER BY id").Scan(&ids)
	got := map[string]int{}
	for _, m := range sink.Messages() {
		got[m.MessageID]++
	}
	want := map[string]bool{}
	dups := 0
	for _, id := range ids {
		mid := mail.MessageID(id, "layerindex@localhost")
		want[mid] = true
		if got[mid] == 0 {
			t.Errorf("mail job %d: never delivered", id)
		}
		if got[mid] > 1 {
			t.Logf("mail job %d: delivered %d times (a process was killed as it sent it)", id, got[mid])
			dups += got[mid] - 1
		}
	}
	for mid, n := range got {
		if !want[mid] {
			t.Errorf("%d mails %q without a mail job", n, mid)
		}
	}
	if dups > 4*kills {
		t.Errorf("%d mails delivered twice; %d kills of working processes can explain at most %d", dups, kills, 4*kills)
	}
	t.Logf("%d mails delivered, %d of them twice (same Message-ID) after %d kills of working processes", len(ids), dups, kills)
}

// countMail counts the distinct messages (by Message-ID) to an address
// whose subject ends with subject.
func countMail(sink *mailtest.Sink, to, subject string) int {
	ids := map[string]bool{}
	for _, m := range sink.Messages() {
		if mailtest.To(to, "")(m) && strings.HasSuffix(m.Subject, subject) {
			ids[m.MessageID] = true
		}
	}
	return len(ids)
}

// freeAddr is a loopback address with a free port, for a server that is
// restarted on the same address.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// browser is a visitor without JavaScript: cookies, no automatic
// redirects, the CSRF token of the last form it fetched, and optionally
// its own client address (the site trusts the test as a proxy). Errors are
// returned, not fatal: the server may be killed under it.
type browser struct {
	base string
	ip   string
	http *http.Client
	mu   sync.Mutex
	csrf string
}

func newBrowser(base, ip string) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{base: base, ip: ip, http: &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var csrfTokenRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

func (b *browser) do(method, path string, form url.Values) (code int, body, location string, err error) {
	var rd io.Reader
	if form != nil {
		rd = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(context.Background(), method, b.base+path, rd)
	if err != nil {
		return 0, "", "", err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if b.ip != "" {
		req.Header.Set("X-Forwarded-For", b.ip)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return 0, "", "", err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, "", "", err
	}
	if m := csrfTokenRe.FindSubmatch(raw); m != nil {
		b.mu.Lock()
		b.csrf = html.UnescapeString(string(m[1]))
		b.mu.Unlock()
	}
	return resp.StatusCode, string(raw), resp.Header.Get("Location"), nil
}

func (b *browser) get(path string) (int, string, string, error) {
	return b.do(http.MethodGet, path, nil)
}

// post sends a form with the CSRF token of the last page fetched.
func (b *browser) post(path string, form url.Values) (int, string, string, error) {
	f := url.Values{}
	for k, v := range form {
		f[k] = v
	}
	b.mu.Lock()
	f.Set("csrf_token", b.csrf)
	b.mu.Unlock()
	return b.do(http.MethodPost, path, f)
}

func (b *browser) login(email, pw string) error {
	if _, _, _, err := b.get("/accounts/login/"); err != nil {
		return err
	}
	code, body, _, err := b.post("/accounts/login/", url.Values{"email": {email}, "password": {pw}})
	if err != nil {
		return err
	}
	if code != http.StatusSeeOther {
		return fmt.Errorf("login as %s: %d %v", email, code, formErrors(body))
	}
	return nil
}

// reindex asks for a layer's re-index ("Index now").
func (b *browser) reindex(name string, force bool) (int, string, error) {
	if code, _, _, err := b.get("/layerindex/layer/" + name + "/manage/"); err != nil {
		return code, "", err
	} else if code != http.StatusOK {
		return code, "", fmt.Errorf("manage page of %s: %d", name, code)
	}
	f := url.Values{}
	if force {
		f.Set("force", "on")
	}
	code, _, loc, err := b.post("/layerindex/layer/"+name+"/update/", f)
	return code, loc, err
}

var (
	challengeQRe = regexp.MustCompile(`What is (\w+) plus (\w+)\?`)
	formErrorRe  = regexp.MustCompile(`class="(?:field-error|form-error)"[^>]*>([^<]*)<`)
)

// challengeAnswer solves the anonymous submission question of a page.
func challengeAnswer(body string) (string, bool) {
	m := challengeQRe.FindStringSubmatch(body)
	if m == nil {
		return "", false
	}
	words := []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	n := slices.Index(words, m[1]) + slices.Index(words, m[2])
	return strconv.Itoa(n), true
}

func formErrors(body string) []string {
	var out []string
	for _, m := range formErrorRe.FindAllStringSubmatch(body, -1) {
		out = append(out, html.UnescapeString(m[1]))
	}
	return out
}

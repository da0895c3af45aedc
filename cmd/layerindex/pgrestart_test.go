package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"layerindex/internal/db"
	"layerindex/internal/mail/mailtest"
	"layerindex/internal/prereq"
)

// throwawayPostgres is a PostgreSQL server of the test's own (initdb into a
// temporary directory, a free port), which the test may stop and start:
// the shared server other tests use must never be.
type throwawayPostgres struct {
	t       *testing.T
	bin     string
	dir     string
	port    int
	cred    *syscall.Credential
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

// startThrowawayPostgres initialises and starts the server; it is stopped
// with the test. Without PostgreSQL's binaries the test skips, or fails
// under CI.
func startThrowawayPostgres(t *testing.T) *throwawayPostgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/postgres")
	if len(bins) == 0 {
		prereq.Missing(t, "PostgreSQL's server binaries (/usr/lib/postgresql/*/bin; apt-get install postgresql)")
	}
	sort.Strings(bins)
	p := &throwawayPostgres{t: t, bin: filepath.Dir(bins[len(bins)-1])}
	dir, err := os.MkdirTemp("", "layerindex-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p.dir, p.logPath = filepath.Join(dir, "data"), filepath.Join(dir, "postgres.log")
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root: as the postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		p.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	initdb := exec.Command(filepath.Join(p.bin, "initdb"), "-D", p.dir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	p.port, _ = strconv.Atoi(strings.TrimPrefix(freeAddr(t), "127.0.0.1:"))
	p.start()
	t.Cleanup(func() { p.stop() })
	return p
}

// URL is the address of the server's postgres database.
func (p *throwawayPostgres) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", p.port)
}

func (p *throwawayPostgres) start() {
	p.t.Helper()
	logf, err := os.OpenFile(p.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o666)
	if err != nil {
		p.t.Fatal(err)
	}
	defer logf.Close()
	p.cmd = exec.Command(filepath.Join(p.bin, "postgres"), "-D", p.dir, "-p", strconv.Itoa(p.port),
		"-c", "listen_addresses=127.0.0.1", "-c", "unix_socket_directories="+filepath.Dir(p.dir),
		"-c", "fsync=off", "-c", "max_connections=100")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: p.cred}
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("starting postgres: %v", err)
	}
	p.exited = make(chan struct{})
	go func(cmd *exec.Cmd, exited chan struct{}) {
		cmd.Wait()
		close(exited)
	}(p.cmd, p.exited)
	deadline := time.Now().Add(30 * time.Second)
	for {
		ready := exec.Command(filepath.Join(p.bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(p.port))
		if ready.Run() == nil {
			return
		}
		select {
		case <-p.exited:
			log, _ := os.ReadFile(p.logPath)
			p.t.Fatalf("postgres exited at start:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(p.logPath)
			p.t.Fatalf("postgres not ready after 30s:\n%s", log)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stop shuts the server down (fast shutdown: connections are cut).
func (p *throwawayPostgres) stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(30 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// TestPostgresRestart restarts the database under load: while it is down
// the web answers 503 (readiness, pages, forms), never 500 and never a
// hang; when it is back, the same `serve` and `worker` processes — not
// restarted — serve pages, take a submission, work its jobs and mail, run
// an update and show it on their cached pages.
func TestPostgresRestart(t *testing.T) {
	// Mostly waiting on processes: beside the other process tests.
	t.Parallel()
	pg := startThrowawayPostgres(t)
	sink := mailtest.Start(t)
	s := &site{t: t, dbURL: pg.URL(), dataDir: filepath.Join(t.TempDir(), "data")}
	s.dialect = db.Postgres
	repo := replicaRepo(t, 2)
	s.run("branch", "add", "master")
	s.run("layer", "add", "--name", "openembedded-core", "--vcs-url", repo, "--subdir", "meta", "--type", "A", "--publish")
	s.run("layer", "add", "--name", "meta-r0", "--vcs-url", repo, "--subdir", "meta-r0", "--type", "S", "--publish")
	if code, out, stderr := runCmd(t, s.env(), "crash test password\n", "user", "create", "--admin", "--email", "admin@example.org"); code != 0 {
		t.Fatalf("user create: %s %s", out, stderr)
	}
	env := s.env("LAYERINDEX_SMTP_HOST="+sink.Host(), "LAYERINDEX_SMTP_PORT="+strconv.Itoa(sink.Port()), "LAYERINDEX_SMTP_TLS=none",
		"LAYERINDEX_TRUSTED_PROXIES=127.0.0.1", "LAYERINDEX_JOB_RESCUE_AFTER=10s")
	web, base := serving(t, env, "--embedded-worker=false")
	worker := start(t, env, "worker")
	worker.waitLog(`msg="layerindex worker is running"`, 60*time.Second)
	page := "/layerindex/branch/master/layer/meta-r0/"
	deadline := time.Now().Add(2 * time.Minute)
	for {
		if code, body, _ := get(t, base+page); code == 200 && strings.Contains(body, "app0-r0") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("meta-r0 not indexed within two minutes")
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Load: visitors reading pages and the API, and anonymous submitters.
	var (
		mu       sync.Mutex
		statuses = map[string]map[int]int{} // phase -> status -> count
		phase    atomic.Value
		seq      atomic.Int64
	)
	phase.Store("before")
	note := func(code int) {
		mu.Lock()
		p := phase.Load().(string)
		if statuses[p] == nil {
			statuses[p] = map[int]int{}
		}
		statuses[p][code]++
		mu.Unlock()
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 20 * time.Second}
	for _, path := range []string{"/", page, "/layerindex/branch/master/recipes/?q=app", "/layerindex/api/layerItems/", "/readyz"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				p := path
				if strings.Contains(p, "?q=") {
					p += strconv.Itoa(n) // never the same page: not from the cache
				}
				resp, err := client.Get(base + p)
				if err != nil {
					note(-1)
				} else {
					resp.Body.Close()
					note(resp.StatusCode)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-done:
				return
			default:
			}
			n := seq.Add(1)
			b := newBrowser(base, fmt.Sprintf("10.1.%d.%d", n>>8&255, n&255))
			code, body, _, err := b.get("/layerindex/submit/")
			if err == nil && code == 200 {
				a, _ := challengeAnswer(body)
				name := fmt.Sprintf("meta-pg%d", n)
				code, _, _, err = b.post("/layerindex/submit/", url.Values{"name": {name}, "layer_type": {"S"}, "summary": {"x"},
					"description": {"y"}, "vcs_url": {"https://git.invalid/" + name + ".git"}, "challenge": {a},
					"m-0-name": {"M"}, "m-0-email": {"m-" + name + "@example.org"}})
			}
			if err != nil {
				note(-1)
			} else {
				note(code)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}()

	time.Sleep(time.Second)
	phase.Store("down")
	pg.stop()
	downAt := time.Now()
	// While it is down: readiness and pages say 503.
	time.Sleep(3 * time.Second)
	if code, body, _ := get(t, base+"/readyz"); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz with the database down: %d %s", code, body)
	}
	if code, body, _ := get(t, base+"/layerindex/branch/master/recipes/?q=down"); code != http.StatusServiceUnavailable {
		t.Errorf("a page with the database down: %d %.300s", code, body)
	}
	phase.Store("restarting")
	pg.start()
	t.Logf("PostgreSQL was down for %s", time.Since(downAt).Round(time.Millisecond))
	upAt := time.Now()
	phase.Store("after")
	// Back: ready again without a restart of serve or worker.
	deadline = time.Now().Add(30 * time.Second)
	for {
		code, _, _ := get(t, base+"/readyz")
		if code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz still %d 30s after the database came back", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("ready again %s after the database came back", time.Since(upAt).Round(time.Millisecond))
	time.Sleep(2 * time.Second)
	close(done)
	wg.Wait()
	for _, ph := range []string{"before", "down", "restarting", "after"} {
		t.Logf("%s: %v", ph, statuses[ph])
		for code, n := range statuses[ph] {
			if code >= 500 && code != http.StatusServiceUnavailable {
				t.Errorf("%s: %d responses %d", ph, n, code)
			}
			if code == -1 {
				t.Errorf("%s: %d requests failed or timed out", ph, n)
			}
		}
	}
	if statuses["down"][http.StatusServiceUnavailable] == 0 {
		t.Errorf("no 503 while the database was down: %v", statuses["down"])
	}
	// Once ready, a request may still meet a pooled connection to the
	// old server (it is dropped then): at most one per idle connection.
	if n := statuses["after"][http.StatusServiceUnavailable]; n > 10 {
		t.Errorf("%d answers 503 after /readyz said ready: %v", n, statuses["after"])
	}

	// The worker works new jobs: a submission's mail and check, and an
	// update whose result the server's page cache shows.
	b := newBrowser(base, "10.2.0.1")
	_, body, _, err := b.get("/layerindex/submit/")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := challengeAnswer(body)
	code, body, loc, err := b.post("/layerindex/submit/", url.Values{"name": {"meta-after"}, "layer_type": {"S"}, "summary": {"x"},
		"description": {"y"}, "vcs_url": {"https://git.invalid/meta-after.git"}, "challenge": {a},
		"m-0-name": {"M"}, "m-0-email": {"m-after@example.org"}})
	if err != nil || code != http.StatusSeeOther {
		t.Fatalf("submission after the restart: %d %s %v %v", code, loc, err, formErrors(body))
	}
	sink.Wait(t, time.Minute, "about the submission after the restart", mailtest.To("admin@example.org", "meta-after"))
	cachedPage(t, base+page)
	replicaCommit(t, repo, map[string]string{"meta-r0/recipes-extra/after-restart/after-restart_1.0.bb": "SUMMARY = \"x\"\nLICENSE = \"MIT\"\n"})
	s.run("update", "--layer", "meta-r0")
	deadline = time.Now().Add(time.Minute)
	for {
		if code, body, _ := get(t, base+page); code == 200 && strings.Contains(body, "after-restart") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the update after the restart is not shown within a minute (worker or page cache not recovered)")
		}
		time.Sleep(200 * time.Millisecond)
	}
	select {
	case <-web.done:
		t.Fatalf("serve exited: %v", web.err)
	case <-worker.done:
		t.Fatalf("worker exited: %v", worker.err)
	default:
	}
	web.terminate(15 * time.Second)
	worker.terminate(15 * time.Second)
}

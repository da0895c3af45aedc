// Command refresh measures the periodic refresh of an index the size of
// layers.openembedded.org when nothing changed: it generates real local bare
// git repositories (≈ 400 layers, several per repository as
// meta-openembedded has them, each on six release branches), adds them
// through internal/catalog as an administrator would, lets a real
// `layerindex worker` process index them, then has that worker refresh every
// layer branch and prints wall time, the worker's CPU time (its own and its
// parser children's), its peak RSS and runs per second.
//
//	go run ./bench/refresh -dir /tmp/refresh-sqlite               # SQLite
//	go run ./bench/refresh -dir /tmp/refresh-pg -db postgres      # PostgreSQL (a database made for it)
//
// The directory keeps the repositories, the database (or its URL) and the
// indexed state: a second run with the same -dir only measures, so builds
// can be compared on the same index (-binary names the worker to measure;
// by default ./cmd/layerindex of this checkout is built). -cpuprofile and
// -heapprofile take the worker's profiles during the first warm refresh.
// Nothing is asserted about time.
package main

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math/rand"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"layerindex/internal/catalog"
	"layerindex/internal/db"
	"layerindex/internal/jobs"
	"layerindex/internal/store"
)

// releases are the six release branches, newest first.
var releases = []string{"master", "styhead", "scarthgap", "nanbield", "mickledore", "kirkstone"}

func main() {
	dir := flag.String("dir", "", "working directory (kept: repositories, database, indexed state); default a new temporary one")
	dialect := flag.String("db", "sqlite", "sqlite or postgres")
	pgAdmin := flag.String("pg", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "PostgreSQL admin URL (a database is created for -dir)")
	layers := flag.Int("layers", 400, "layers to generate")
	binary := flag.String("binary", "", "the layerindex binary whose worker is measured (default: build ./cmd/layerindex)")
	refreshes := flag.Int("refreshes", 2, "warm refreshes to measure after the one the worker queues when it starts")
	ingestWorkers := flag.Int("ingest-workers", 0, "the measured worker's --ingest-workers (0: its default; the initial index uses 2)")
	cpuProfile := flag.String("cpuprofile", "", "write the worker's CPU profile of the first warm refresh here")
	profileSeconds := flag.Int("profile-seconds", 30, "length of that CPU profile")
	heapProfile := flag.String("heapprofile", "", "write the worker's heap profile after the first warm refresh here")
	seed := flag.Int64("seed", 1, "generator seed")
	flag.Parse()
	b := &bench{dialect: *dialect, pgAdmin: *pgAdmin, nLayers: *layers, refreshes: *refreshes, ingestWorkers: *ingestWorkers,
		cpuProfile: *cpuProfile, profileSeconds: *profileSeconds, heapProfile: *heapProfile, rng: rand.New(rand.NewSource(*seed))}
	if err := b.run(*dir, *binary); err != nil {
		log.Fatal(err)
	}
}

type bench struct {
	dialect, pgAdmin string
	nLayers          int
	refreshes        int
	ingestWorkers    int
	cpuProfile       string
	profileSeconds   int
	heapProfile      string
	rng              *rand.Rand

	dir, dataDir, dbURL, binary string
	conn                        *db.DB
}

func (b *bench) run(dir, binary string) error {
	ctx := context.Background()
	if b.dialect != "sqlite" && b.dialect != "postgres" {
		return errors.New("-db must be sqlite or postgres")
	}
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "bench-refresh-"); err != nil {
			return err
		}
	}
	if b.dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	b.dataDir = filepath.Join(b.dir, "data")
	if err := os.MkdirAll(b.dataDir, 0o750); err != nil {
		return err
	}
	fmt.Printf("directory %s, database %s\n", b.dir, b.dialect)
	if b.binary = binary; b.binary == "" {
		b.binary = filepath.Join(b.dir, "layerindex")
		out, err := exec.Command("go", "build", "-o", b.binary, "./cmd/layerindex").CombinedOutput()
		if err != nil {
			return fmt.Errorf("building the worker: %v\n%s", err, out)
		}
	}
	if b.dialect == "postgres" {
		if err := b.postgres(); err != nil {
			return err
		}
		b.conn, err = db.OpenPostgres(ctx, b.dbURL, nil)
	} else {
		b.conn, err = db.OpenSQLite(ctx, db.SQLitePath(b.dataDir), nil)
	}
	if err != nil {
		return err
	}
	defer b.conn.Close()
	if err := b.conn.Migrate(ctx, nil); err != nil {
		return err
	}

	ready := filepath.Join(b.dir, "indexed")
	if _, err := os.Stat(ready); err != nil {
		if err := b.setup(ctx); err != nil {
			return err
		}
		if err := os.WriteFile(ready, []byte(time.Now().UTC().Format(time.RFC3339)+"\n"), 0o640); err != nil {
			return err
		}
	}
	if err := b.size(ctx); err != nil {
		return err
	}
	return b.measure(ctx)
}

// postgres creates the database of -dir on first use and remembers its URL
// there.
func (b *bench) postgres() error {
	p := filepath.Join(b.dir, "database-url")
	if s, err := os.ReadFile(p); err == nil {
		b.dbURL = strings.TrimSpace(string(s))
		return nil
	}
	a, err := sql.Open("pgx", b.pgAdmin)
	if err != nil {
		return err
	}
	defer a.Close()
	name := fmt.Sprintf("layerindex_refresh_%d", time.Now().UnixNano())
	if _, err := a.Exec("CREATE DATABASE " + name); err != nil {
		return fmt.Errorf("creating the database: %w", err)
	}
	u, err := url.Parse(b.pgAdmin)
	if err != nil {
		return err
	}
	u.Path = "/" + name
	b.dbURL = u.String()
	fmt.Printf("database %s (drop it with: psql -U postgres -h 127.0.0.1 -c 'DROP DATABASE %s')\n", b.dbURL, name)
	return os.WriteFile(p, []byte(b.dbURL+"\n"), 0o640)
}

// setup generates the repositories, adds the branches and layers through
// the catalog as the command line does, and has a worker index them.
func (b *bench) setup(ctx context.Context) error {
	added := filepath.Join(b.dir, "added")
	if _, err := os.Stat(added); err != nil {
		if err := b.add(ctx); err != nil {
			return err
		}
		if err := os.WriteFile(added, nil, 0o640); err != nil {
			return err
		}
	}
	return b.index(ctx)
}

// add generates the repositories and adds the branches and layers.
func (b *bench) add(ctx context.Context) error {
	t0 := time.Now()
	repos := b.plan()
	gitDir := filepath.Join(b.dir, "git")
	if err := os.RemoveAll(gitDir); err != nil {
		return err
	}
	files, recipes := 0, 0
	for _, r := range repos {
		nf, nr, err := r.write(gitDir)
		if err != nil {
			return err
		}
		files, recipes = files+nf, recipes+nr
	}
	fmt.Printf("generated %d repositories, %d layers × %d branches: %d files, %d recipe files in all branches (%s)\n",
		len(repos), b.nLayers, len(releases), files, recipes, time.Since(t0).Round(time.Millisecond))

	q, err := jobs.New(ctx, b.conn, jobs.Options{})
	if err != nil {
		return err
	}
	svc, err := catalog.New(b.conn, q, catalog.Options{RepoPolicy: policyLocal(), BaseURL: "http://127.0.0.1:8080",
		SecretKey: "bench-refresh-secret-key-0123456789abcdef"})
	if err != nil {
		return err
	}
	var branches []store.Branch
	for i, name := range releases {
		prio := len(releases) - i
		br := &store.Branch{Name: name, BitbakeBranch: name, UpdatesEnabled: true, SortPriority: &prio}
		if _, err := svc.AddBranch(ctx, catalog.CLI, br); err != nil {
			return fmt.Errorf("branch %s: %w", name, err)
		}
		branches = append(branches, *br)
	}
	t0 = time.Now()
	for _, r := range repos {
		for _, l := range r.layers {
			in := catalog.LayerInput{Layer: store.Layer{Name: l.name, LayerType: l.kind, Summary: l.summary,
				Description: l.summary + ".", VCSURL: filepath.Join(gitDir, r.name+".git")}, Subdir: l.subdir}
			if _, err := svc.AddLayer(ctx, catalog.CLI, branches, in, true); err != nil {
				return fmt.Errorf("adding %s: %w", l.name, err)
			}
		}
	}
	fmt.Printf("added and published %d layers through the catalog (%s)\n", b.nLayers, time.Since(t0).Round(time.Millisecond))
	return nil
}

// index has a worker index every layer branch; runs that fail (a
// repository read while another run fetched it, see bench/README.md) are
// requested again, twice at most.
func (b *bench) index(ctx context.Context) error {
	q, err := jobs.New(ctx, b.conn, jobs.Options{})
	if err != nil {
		return err
	}
	svc, err := catalog.New(b.conn, q, catalog.Options{RepoPolicy: policyLocal(), BaseURL: "http://127.0.0.1:8080",
		SecretKey: "bench-refresh-secret-key-0123456789abcdef"})
	if err != nil {
		return err
	}

	// The initial index, by the worker (its start-up refresh joins the
	// runs the publications queued).
	w, err := b.startWorker(ctx, "", "initial", 2)
	if err != nil {
		return err
	}
	defer w.stop()
	t0 := time.Now()
	shown := t0
	for round := 0; ; {
		active, err := b.count(ctx, "SELECT count(*) FROM layer_updates WHERE status IN ('queued','running','retrying')")
		if err != nil {
			return err
		}
		done, err := b.count(ctx, "SELECT count(*) FROM layer_branches WHERE vcs_last_rev <> ''")
		if err != nil {
			return err
		}
		if active == 0 {
			var failed []int64
			err := b.conn.Gorm.WithContext(ctx).Raw(`SELECT DISTINCT layer_id FROM layer_updates lu WHERE status = 'failed'
AND NOT EXISTS (SELECT 1 FROM layer_updates l2 WHERE l2.layer_branch_id = lu.layer_branch_id AND l2.id > lu.id AND l2.status IN ('succeeded', 'unchanged'))`).
				Scan(&failed).Error
			if err != nil {
				return err
			}
			if len(failed) == 0 || round == 2 {
				break
			}
			round++
			fmt.Printf("initial index: %d layers with a failed run, requested again\n", len(failed))
			for _, id := range failed {
				if _, err := svc.RequestUpdate(ctx, catalog.CLI, catalog.UpdateRequest{LayerID: id}); err != nil {
					return err
				}
			}
			continue
		}
		if err := w.alive(); err != nil {
			return err
		}
		if time.Since(shown) > 30*time.Second {
			fmt.Printf("initial index: %d layer branches indexed, %d runs waiting or running (%s)\n", done, active, time.Since(t0).Round(time.Second))
			shown = time.Now()
		}
		time.Sleep(2 * time.Second)
	}
	cpu := w.cpu()
	fmt.Printf("initial index: %s wall, worker CPU %s (itself %s, parser children %s), peak RSS %d MB\n",
		time.Since(t0).Round(time.Second), cpu.total().Round(time.Millisecond), cpu.self.Round(time.Millisecond),
		cpu.children.Round(time.Millisecond), w.peakRSS()>>20)
	var reasons []string
	if err := b.conn.Gorm.WithContext(ctx).Raw("SELECT reason FROM layer_updates WHERE status = 'failed' ORDER BY id").Scan(&reasons).Error; err != nil {
		return err
	}
	for _, r := range reasons {
		fmt.Printf("initial index: a run failed: %s\n", r)
	}
	if n, err := b.count(ctx, "SELECT count(*) FROM layer_branches WHERE vcs_last_rev = ''"); err != nil || n > 0 {
		return fmt.Errorf("%d layer branches are not indexed (%v)", n, err)
	}
	return nil
}

// size prints what the index holds.
func (b *bench) size(ctx context.Context) error {
	var n [4]int64
	for i, q := range []string{"SELECT count(*) FROM layers", "SELECT count(*) FROM layer_branches",
		"SELECT count(*) FROM recipes", "SELECT count(*) FROM layer_branches WHERE vcs_last_rev <> ''"} {
		var err error
		if n[i], err = b.count(ctx, q); err != nil {
			return err
		}
	}
	repos, _ := filepath.Glob(filepath.Join(b.dir, "git", "*.git"))
	fmt.Printf("index: %d repositories, %d layers, %d layer branches (%d indexed), %d recipes\n", len(repos), n[0], n[1], n[3], n[2])
	return nil
}

func (b *bench) count(ctx context.Context, q string, args ...any) (int64, error) {
	var n int64
	err := b.conn.Gorm.WithContext(ctx).Raw(q, args...).Scan(&n).Error
	return n, err
}

// measure starts the worker, measures the refresh it queues when it starts
// (a cold process) and then -refreshes refreshes queued as the periodic
// schedule queues them.
func (b *bench) measure(ctx context.Context) error {
	debug := ""
	if b.cpuProfile != "" || b.heapProfile != "" {
		debug = "127.0.0.1:" + strconv.Itoa(20000+b.rng.Intn(20000))
	}
	last, err := b.count(ctx, "SELECT coalesce(max(id), 0) FROM updates")
	if err != nil {
		return err
	}
	fmt.Printf("worker %s\n", b.binary)
	w, err := b.startWorker(ctx, debug, "refresh", b.ingestWorkers)
	if err != nil {
		return err
	}
	defer w.stop()
	id, err := b.waitRefresh(ctx, w, last)
	if err != nil {
		return err
	}
	b.report("first refresh, started with the worker (cold process, start-up included)", ctx, id, time.Since(w.started), w.cpu(), w.peakRSS())
	for i := 0; i < b.refreshes; i++ {
		last, err := b.count(ctx, "SELECT coalesce(max(id), 0) FROM updates")
		if err != nil {
			return err
		}
		w.resetPeak()
		cpu0 := w.cpu()
		t0 := time.Now()
		q, err := jobs.New(ctx, b.conn, jobs.Options{})
		if err != nil {
			return err
		}
		// As the periodic schedule queues it.
		if _, err := q.Enqueue(ctx, jobs.RefreshAllArgs{}, nil); err != nil {
			return err
		}
		profDone := make(chan error, 1)
		if i == 0 && b.cpuProfile != "" {
			go func() {
				profDone <- fetchTo(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", debug, b.profileSeconds), b.cpuProfile)
			}()
		} else {
			profDone <- nil
		}
		id, err := b.waitRefresh(ctx, w, last)
		if err != nil {
			return err
		}
		cpu := w.cpu()
		b.report(fmt.Sprintf("refresh %d (warm worker)", i+2), ctx, id, time.Since(t0), cpuUse{cpu.self - cpu0.self, cpu.children - cpu0.children}, w.peakRSS())
		if err := <-profDone; err != nil {
			return fmt.Errorf("CPU profile: %w", err)
		}
		if i == 0 && b.heapProfile != "" {
			if err := fetchTo("http://"+debug+"/debug/pprof/heap", b.heapProfile); err != nil {
				return fmt.Errorf("heap profile: %w", err)
			}
		}
	}
	return nil
}

// waitRefresh waits for a refresh request newer than update after, and for
// every run it queued to end.
func (b *bench) waitRefresh(ctx context.Context, w *worker, after int64) (int64, error) {
	for {
		id, err := b.count(ctx, "SELECT coalesce(min(id), 0) FROM updates WHERE id > ? AND origin = ?", after, store.OriginRefresh)
		if err != nil {
			return 0, err
		}
		if id != 0 {
			active, err := b.count(ctx, "SELECT count(*) FROM layer_updates WHERE update_id = ? AND status IN ('queued','running','retrying')", id)
			if err != nil {
				return 0, err
			}
			if active == 0 {
				return id, nil
			}
		}
		if err := w.alive(); err != nil {
			return 0, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *bench) report(what string, ctx context.Context, id int64, wall time.Duration, cpu cpuUse, peak int64) {
	type row struct {
		Status string
		N      int64
	}
	var rows []row
	b.conn.Gorm.WithContext(ctx).Raw("SELECT status, count(*) AS n FROM layer_updates WHERE update_id = ? GROUP BY status", id).Scan(&rows)
	sort.Slice(rows, func(i, j int) bool { return rows[i].Status < rows[j].Status })
	var parts []string
	var total int64
	for _, r := range rows {
		parts = append(parts, fmt.Sprintf("%d %s", r.N, r.Status))
		total += r.N
	}
	fmt.Printf("%s %s: %d runs (%s); %s wall, %.1f runs/s; worker CPU %s (itself %s, parser children %s), %.1f ms per run; peak RSS %d MB\n",
		b.dialect, what, total, strings.Join(parts, ", "), wall.Round(time.Millisecond), float64(total)/wall.Seconds(),
		cpu.total().Round(time.Millisecond), cpu.self.Round(time.Millisecond), cpu.children.Round(time.Millisecond),
		float64(cpu.total().Microseconds())/1000/float64(max(total, 1)), peak>>20)
}

func fetchTo(u, path string) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return fmt.Errorf("%s: %s", u, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// worker is a running `layerindex worker` process.
type worker struct {
	cmd     *exec.Cmd
	started time.Time
	exited  chan error
}

func (b *bench) startWorker(ctx context.Context, debug, logName string, ingestWorkers int) (*worker, error) {
	args := []string{"worker", "--data-dir", b.dataDir, "--allow-local-repos", "--log-level", "warn"}
	if b.dbURL != "" {
		args = append(args, "--database-url", b.dbURL)
	}
	if debug != "" {
		args = append(args, "--debug-listen", debug)
	}
	if ingestWorkers > 0 {
		args = append(args, "--ingest-workers", strconv.Itoa(ingestWorkers))
	}
	logf, err := os.OpenFile(filepath.Join(b.dir, "worker-"+logName+".log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(b.binary, args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(), "LAYERINDEX_SECRET_KEY=")
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	w := &worker{cmd: cmd, started: time.Now(), exited: make(chan error, 1)}
	go func() { w.exited <- cmd.Wait(); logf.Close() }()
	return w, nil
}

func (w *worker) alive() error {
	select {
	case err := <-w.exited:
		w.exited <- err
		return fmt.Errorf("the worker exited: %v (see its log)", err)
	default:
		return nil
	}
}

func (w *worker) stop() {
	if w.alive() != nil {
		return
	}
	w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(30 * time.Second):
		w.cmd.Process.Kill()
		<-w.exited
	}
}

// cpuUse is a process's CPU time, and that of its children it has waited
// for (the parser processes).
type cpuUse struct{ self, children time.Duration }

func (c cpuUse) total() time.Duration { return c.self + c.children }

// cpu reads the worker's utime, stime, cutime and cstime.
func (w *worker) cpu() cpuUse {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", w.cmd.Process.Pid))
	if err != nil {
		return cpuUse{}
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	tick := func(i int) time.Duration { // field i+3 of stat(5)
		n, _ := strconv.ParseInt(f[i-3], 10, 64)
		return time.Duration(n) * time.Second / 100
	}
	return cpuUse{self: tick(14) + tick(15), children: tick(16) + tick(17)}
}

// peakRSS is the worker's VmHWM in bytes.
func (w *worker) peakRSS() int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", w.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}

// resetPeak restarts VmHWM from the current RSS (proc(5), clear_refs 5).
func (w *worker) resetPeak() {
	os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", w.cmd.Process.Pid), []byte("5"), 0)
}
